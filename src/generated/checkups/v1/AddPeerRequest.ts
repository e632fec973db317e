// Original file: proto/checkups/v1/admin.proto

import type { Server as _checkups_v1_Server, Server__Output as _checkups_v1_Server__Output } from '../../checkups/v1/Server.ts';

/**
 * AddPeerRequest adds one server.
 */
export interface AddPeerRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * Cluster key ("1" when empty); a new level or named cluster is created.
   */
  'cluster'?: (string);
  /**
   * The server to add (weight/fail_timeout_ms 0 = defaults).
   */
  'server'?: (_checkups_v1_Server | null);
}

/**
 * AddPeerRequest adds one server.
 */
export interface AddPeerRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * Cluster key ("1" when empty); a new level or named cluster is created.
   */
  'cluster': (string);
  /**
   * The server to add (weight/fail_timeout_ms 0 = defaults).
   */
  'server': (_checkups_v1_Server__Output | null);
}
