// Original file: proto/checkups/v1/upstream.proto

import type { Server as _checkups_v1_Server, Server__Output as _checkups_v1_Server__Output } from '../../checkups/v1/Server.ts';
import type { PeerHealth as _checkups_v1_PeerHealth, PeerHealth__Output as _checkups_v1_PeerHealth__Output } from '../../checkups/v1/PeerHealth.ts';

/**
 * Peer is one server of one cluster with its health.
 */
export interface Peer {
  /**
   * The server as configured.
   */
  'server'?: (_checkups_v1_Server | null);
  /**
   * Its heartbeat health (shared by every cluster listing it).
   */
  'health'?: (_checkups_v1_PeerHealth | null);
}

/**
 * Peer is one server of one cluster with its health.
 */
export interface Peer__Output {
  /**
   * The server as configured.
   */
  'server': (_checkups_v1_Server__Output | null);
  /**
   * Its heartbeat health (shared by every cluster listing it).
   */
  'health': (_checkups_v1_PeerHealth__Output | null);
}
