// Original file: proto/checkups/v1/upstream.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct.ts';
import type { ClusterState as _checkups_v1_ClusterState, ClusterState__Output as _checkups_v1_ClusterState__Output } from '../../checkups/v1/ClusterState.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * UpstreamSnapshot is the complete state of one upstream at one version.
 */
export interface UpstreamSnapshot {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * Increases on every change of the upstream's configuration or of a peer's
   * status.
   */
  'version'?: (number | string | Long);
  /**
   * The configuration document (see the file comment) without `cluster`:
   * the clusters are in `clusters`.
   */
  'config'?: (_google_protobuf_Struct | null);
  /**
   * Levels ascending, then named clusters, each with peers and health.
   */
  'clusters'?: (_checkups_v1_ClusterState)[];
  /**
   * False when the upstream's heartbeat is disabled (statuses read UNCHECKED).
   */
  'heartbeat'?: (boolean);
}

/**
 * UpstreamSnapshot is the complete state of one upstream at one version.
 */
export interface UpstreamSnapshot__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * Increases on every change of the upstream's configuration or of a peer's
   * status.
   */
  'version': (number);
  /**
   * The configuration document (see the file comment) without `cluster`:
   * the clusters are in `clusters`.
   */
  'config': (_google_protobuf_Struct__Output | null);
  /**
   * Levels ascending, then named clusters, each with peers and health.
   */
  'clusters': (_checkups_v1_ClusterState__Output)[];
  /**
   * False when the upstream's heartbeat is disabled (statuses read UNCHECKED).
   */
  'heartbeat': (boolean);
}
