// Original file: proto/checkups/v1/discovery.proto

import type { PeerStatus as _checkups_v1_PeerStatus, PeerStatus__Output as _checkups_v1_PeerStatus__Output } from '../../checkups/v1/PeerStatus.ts';

/**
 * ClusterStatus is one level or named cluster with its peers' status.
 */
export interface ClusterStatus {
  /**
   * "1", "2", ... for levels; names for named clusters.
   */
  'key'?: (string);
  /**
   * Peers in configured order.
   */
  'peers'?: (_checkups_v1_PeerStatus)[];
}

/**
 * ClusterStatus is one level or named cluster with its peers' status.
 */
export interface ClusterStatus__Output {
  /**
   * "1", "2", ... for levels; names for named clusters.
   */
  'key': (string);
  /**
   * Peers in configured order.
   */
  'peers': (_checkups_v1_PeerStatus__Output)[];
}
