// Original file: proto/checkups/v1/admin.proto

import type { ClusterStatus as _checkups_v1_ClusterStatus, ClusterStatus__Output as _checkups_v1_ClusterStatus__Output } from '../../checkups/v1/ClusterStatus.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * GetServersResponse lists servers per cluster.
 */
export interface GetServersResponse {
  /**
   * The upstream's version.
   */
  'version'?: (number | string | Long);
  /**
   * Levels ascending, then named clusters.
   */
  'clusters'?: (_checkups_v1_ClusterStatus)[];
}

/**
 * GetServersResponse lists servers per cluster.
 */
export interface GetServersResponse__Output {
  /**
   * The upstream's version.
   */
  'version': (number);
  /**
   * Levels ascending, then named clusters.
   */
  'clusters': (_checkups_v1_ClusterStatus__Output)[];
}
