// Original file: proto/checkups/v1/discovery.proto

import type { Long } from '@grpc/proto-loader';

/**
 * WatchRequest selects upstreams and says what the client already holds.
 */
export interface WatchRequest {
  /**
   * Upstreams to watch; empty watches all (and upstreams created later).
   */
  'skeys'?: (string)[];
  /**
   * skey -> version the client holds (after a reconnect). Upstreams at that
   * version are not sent again; deleted ones are reported as removed.
   */
  'knownVersions'?: ({[key: string]: number | string | Long});
}

/**
 * WatchRequest selects upstreams and says what the client already holds.
 */
export interface WatchRequest__Output {
  /**
   * Upstreams to watch; empty watches all (and upstreams created later).
   */
  'skeys': (string)[];
  /**
   * skey -> version the client holds (after a reconnect). Upstreams at that
   * version are not sent again; deleted ones are reported as removed.
   */
  'knownVersions': ({[key: string]: number});
}
