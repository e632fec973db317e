// Original file: proto/checkups/v1/upstream.proto

import type { Server as _checkups_v1_Server, Server__Output as _checkups_v1_Server__Output } from '../../checkups/v1/Server.ts';
import type { PeerHealth as _checkups_v1_PeerHealth, PeerHealth__Output as _checkups_v1_PeerHealth__Output } from '../../checkups/v1/PeerHealth.ts';
import type { PassiveStatus as _checkups_v1_PassiveStatus, PassiveStatus__Output as _checkups_v1_PassiveStatus__Output } from '../../checkups/v1/PassiveStatus.ts';
import type { Long } from '@grpc/proto-loader';

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
  /**
   * Passive (max_fails) status as the server publishes it: ERR while the peer
   * is excluded. Clients exclude it too, on top of their own accounting.
   */
  'passiveStatus'?: (_checkups_v1_PassiveStatus);
  /**
   * Failures counted in the window that led to the exclusion (0 when OK).
   */
  'passiveFailedCount'?: (number);
  /**
   * Epoch ms when the exclusion ends (0 when OK).
   */
  'passiveUntilMs'?: (number | string | Long);
  /**
   * Slow start: when the peer became usable (so its ramp began), on the
   * server's monotonic clock; set (in Watch snapshots) only while the peer may
   * still ramp. Meaningful only against WatchResponse.server_clock_ms of the
   * same message: the ramp began server_clock_ms - slow_start_clock_ms ago.
   */
  'slowStartClockMs'?: (number | string | Long);
  '_slowStartClockMs'?: "slowStartClockMs";
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
  /**
   * Passive (max_fails) status as the server publishes it: ERR while the peer
   * is excluded. Clients exclude it too, on top of their own accounting.
   */
  'passiveStatus': (_checkups_v1_PassiveStatus__Output);
  /**
   * Failures counted in the window that led to the exclusion (0 when OK).
   */
  'passiveFailedCount': (number);
  /**
   * Epoch ms when the exclusion ends (0 when OK).
   */
  'passiveUntilMs': (number);
  /**
   * Slow start: when the peer became usable (so its ramp began), on the
   * server's monotonic clock; set (in Watch snapshots) only while the peer may
   * still ramp. Meaningful only against WatchResponse.server_clock_ms of the
   * same message: the ramp began server_clock_ms - slow_start_clock_ms ago.
   */
  'slowStartClockMs'?: (number);
  '_slowStartClockMs'?: "slowStartClockMs";
}
