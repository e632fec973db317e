// Original file: proto/checkups/v1/discovery.proto


/**
 * GetUpsTimeoutResponse holds timeouts in milliseconds.
 */
export interface GetUpsTimeoutResponse {
  /**
   * Connect timeout (`timeout`).
   */
  'connectMs'?: (number);
  /**
   * Send timeout (`send_timeout`, else `timeout`).
   */
  'sendMs'?: (number);
  /**
   * Read timeout (`read_timeout`, else `timeout`).
   */
  'readMs'?: (number);
}

/**
 * GetUpsTimeoutResponse holds timeouts in milliseconds.
 */
export interface GetUpsTimeoutResponse__Output {
  /**
   * Connect timeout (`timeout`).
   */
  'connectMs': (number);
  /**
   * Send timeout (`send_timeout`, else `timeout`).
   */
  'sendMs': (number);
  /**
   * Read timeout (`read_timeout`, else `timeout`).
   */
  'readMs': (number);
}
