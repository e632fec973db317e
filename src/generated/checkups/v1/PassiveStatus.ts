// Original file: proto/checkups/v1/upstream.proto

/**
 * PassiveStatus is the request-outcome (max_fails / fail_timeout) status of a
 * peer.
 */
export const PassiveStatus = {
  /**
   * No status: never sent by the server.
   */
  PASSIVE_STATUS_UNSPECIFIED: 'PASSIVE_STATUS_UNSPECIFIED',
  /**
   * Usable: no record, an ok record, or an err record whose window ended.
   */
  PASSIVE_STATUS_OK: 'PASSIVE_STATUS_OK',
  /**
   * Excluded until its fail_timeout window ends.
   */
  PASSIVE_STATUS_ERR: 'PASSIVE_STATUS_ERR',
} as const;

/**
 * PassiveStatus is the request-outcome (max_fails / fail_timeout) status of a
 * peer.
 */
export type PassiveStatus =
  /**
   * No status: never sent by the server.
   */
  | 'PASSIVE_STATUS_UNSPECIFIED'
  | 0
  /**
   * Usable: no record, an ok record, or an err record whose window ended.
   */
  | 'PASSIVE_STATUS_OK'
  | 1
  /**
   * Excluded until its fail_timeout window ends.
   */
  | 'PASSIVE_STATUS_ERR'
  | 2

/**
 * PassiveStatus is the request-outcome (max_fails / fail_timeout) status of a
 * peer.
 */
export type PassiveStatus__Output = typeof PassiveStatus[keyof typeof PassiveStatus]
