// Original file: proto/checkups/v1/discovery.proto

import type { HealthStatus as _checkups_v1_HealthStatus, HealthStatus__Output as _checkups_v1_HealthStatus__Output } from '../../checkups/v1/HealthStatus.ts';

/**
 * SelectedPeer is the chosen peer.
 */
export interface SelectedPeer {
  /**
   * Host name or IP literal.
   */
  'host'?: (string);
  /**
   * TCP port.
   */
  'port'?: (number);
  /**
   * Key of the cluster it was picked from ("1" for level 1).
   */
  'cluster'?: (string);
  /**
   * Its configured weight.
   */
  'weight'?: (number);
  /**
   * Its heartbeat status.
   */
  'status'?: (_checkups_v1_HealthStatus);
}

/**
 * SelectedPeer is the chosen peer.
 */
export interface SelectedPeer__Output {
  /**
   * Host name or IP literal.
   */
  'host': (string);
  /**
   * TCP port.
   */
  'port': (number);
  /**
   * Key of the cluster it was picked from ("1" for level 1).
   */
  'cluster': (string);
  /**
   * Its configured weight.
   */
  'weight': (number);
  /**
   * Its heartbeat status.
   */
  'status': (_checkups_v1_HealthStatus__Output);
}
