// Original file: proto/checkups/v1/discovery.proto

import type { Server as _checkups_v1_Server, Server__Output as _checkups_v1_Server__Output } from '../../checkups/v1/Server.ts';
import type { PeerHealth as _checkups_v1_PeerHealth, PeerHealth__Output as _checkups_v1_PeerHealth__Output } from '../../checkups/v1/PeerHealth.ts';
import type { PassiveStatus as _checkups_v1_PassiveStatus, PassiveStatus__Output as _checkups_v1_PassiveStatus__Output } from '../../checkups/v1/PassiveStatus.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * PeerStatus is one server of one cluster with active and passive state.
 */
export interface PeerStatus {
  /**
   * The server as configured.
   */
  'server'?: (_checkups_v1_Server | null);
  /**
   * Heartbeat health.
   */
  'health'?: (_checkups_v1_PeerHealth | null);
  /**
   * Passive (max_fails) status.
   */
  'passiveStatus'?: (_checkups_v1_PassiveStatus);
  /**
   * Failures counted in the current passive window.
   */
  'passiveFailedCount'?: (number);
  /**
   * Epoch ms when a passive exclusion ends (0 when not excluded).
   */
  'passiveUntilMs'?: (number | string | Long);
}

/**
 * PeerStatus is one server of one cluster with active and passive state.
 */
export interface PeerStatus__Output {
  /**
   * The server as configured.
   */
  'server': (_checkups_v1_Server__Output | null);
  /**
   * Heartbeat health.
   */
  'health': (_checkups_v1_PeerHealth__Output | null);
  /**
   * Passive (max_fails) status.
   */
  'passiveStatus': (_checkups_v1_PassiveStatus__Output);
  /**
   * Failures counted in the current passive window.
   */
  'passiveFailedCount': (number);
  /**
   * Epoch ms when a passive exclusion ends (0 when not excluded).
   */
  'passiveUntilMs': (number);
}
