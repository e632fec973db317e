// Original file: proto/checkups/v1/discovery.proto

import type { Long } from '@grpc/proto-loader';

/**
 * StoreStatus is the state of the store of admin changes (docs/cluster.md).
 */
export interface StoreStatus {
  /**
   * "file" (the data dir, one instance) or "redis" (cluster mode).
   */
  'kind'?: (string);
  /**
   * The data dir, or the Redis URL (without password) and cluster name.
   */
  'location'?: (string);
  /**
   * False while the store is unreachable: the instance serves its last view.
   */
  'synced'?: (boolean);
  /**
   * Epoch ms since when the instance is out of step (0 when synced).
   */
  'unsyncedSinceMs'?: (number | string | Long);
  /**
   * Why it is out of step, empty when synced.
   */
  'reason'?: (string);
}

/**
 * StoreStatus is the state of the store of admin changes (docs/cluster.md).
 */
export interface StoreStatus__Output {
  /**
   * "file" (the data dir, one instance) or "redis" (cluster mode).
   */
  'kind': (string);
  /**
   * The data dir, or the Redis URL (without password) and cluster name.
   */
  'location': (string);
  /**
   * False while the store is unreachable: the instance serves its last view.
   */
  'synced': (boolean);
  /**
   * Epoch ms since when the instance is out of step (0 when synced).
   */
  'unsyncedSinceMs': (number);
  /**
   * Why it is out of step, empty when synced.
   */
  'reason': (string);
}
