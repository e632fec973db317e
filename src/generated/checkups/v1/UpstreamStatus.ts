// Original file: proto/checkups/v1/discovery.proto

import type { ClusterStatus as _checkups_v1_ClusterStatus, ClusterStatus__Output as _checkups_v1_ClusterStatus__Output } from '../../checkups/v1/ClusterStatus.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * UpstreamStatus is one upstream's status.
 */
export interface UpstreamStatus {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * Its current version.
   */
  'version'?: (number | string | Long);
  /**
   * False when heartbeat is disabled for it.
   */
  'heartbeat'?: (boolean);
  /**
   * Its clusters.
   */
  'clusters'?: (_checkups_v1_ClusterStatus)[];
}

/**
 * UpstreamStatus is one upstream's status.
 */
export interface UpstreamStatus__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * Its current version.
   */
  'version': (number);
  /**
   * False when heartbeat is disabled for it.
   */
  'heartbeat': (boolean);
  /**
   * Its clusters.
   */
  'clusters': (_checkups_v1_ClusterStatus__Output)[];
}
