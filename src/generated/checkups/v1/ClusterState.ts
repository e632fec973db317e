// Original file: proto/checkups/v1/upstream.proto

import type { Peer as _checkups_v1_Peer, Peer__Output as _checkups_v1_Peer__Output } from '../../checkups/v1/Peer.ts';

/**
 * ClusterState is one priority level or named cluster with its peers.
 */
export interface ClusterState {
  /**
   * "1", "2", ... for levels; any other string names a cluster.
   */
  'key'?: (string);
  /**
   * Peers in configured order.
   */
  'peers'?: (_checkups_v1_Peer)[];
  /**
   * The cluster's own `try` (failed attempts before falling through), if set.
   */
  'try'?: (number);
  '_try'?: "try";
}

/**
 * ClusterState is one priority level or named cluster with its peers.
 */
export interface ClusterState__Output {
  /**
   * "1", "2", ... for levels; any other string names a cluster.
   */
  'key': (string);
  /**
   * Peers in configured order.
   */
  'peers': (_checkups_v1_Peer__Output)[];
  /**
   * The cluster's own `try` (failed attempts before falling through), if set.
   */
  'try'?: (number);
  '_try'?: "try";
}
