// Original file: proto/checkups/v1/upstream.proto

/**
 * HealthStatus is the active (heartbeat) status of one peer.
 */
export const HealthStatus = {
  /**
   * No status: never sent by the server.
   */
  HEALTH_STATUS_UNSPECIFIED: 'HEALTH_STATUS_UNSPECIFIED',
  /**
   * Heartbeat disabled for the upstream, or the peer has not been probed yet
   * (selectable).
   */
  HEALTH_STATUS_UNCHECKED: 'HEALTH_STATUS_UNCHECKED',
  /**
   * The last probe succeeded.
   */
  HEALTH_STATUS_OK: 'HEALTH_STATUS_OK',
  /**
   * Failing but still selectable (redis replica with its master link down, or
   * the first peer kept by `protected` when every peer fails).
   */
  HEALTH_STATUS_UNSTABLE: 'HEALTH_STATUS_UNSTABLE',
  /**
   * Failing: not selected.
   */
  HEALTH_STATUS_ERR: 'HEALTH_STATUS_ERR',
} as const;

/**
 * HealthStatus is the active (heartbeat) status of one peer.
 */
export type HealthStatus =
  /**
   * No status: never sent by the server.
   */
  | 'HEALTH_STATUS_UNSPECIFIED'
  | 0
  /**
   * Heartbeat disabled for the upstream, or the peer has not been probed yet
   * (selectable).
   */
  | 'HEALTH_STATUS_UNCHECKED'
  | 1
  /**
   * The last probe succeeded.
   */
  | 'HEALTH_STATUS_OK'
  | 2
  /**
   * Failing but still selectable (redis replica with its master link down, or
   * the first peer kept by `protected` when every peer fails).
   */
  | 'HEALTH_STATUS_UNSTABLE'
  | 3
  /**
   * Failing: not selected.
   */
  | 'HEALTH_STATUS_ERR'
  | 4

/**
 * HealthStatus is the active (heartbeat) status of one peer.
 */
export type HealthStatus__Output = typeof HealthStatus[keyof typeof HealthStatus]
