// Original file: proto/checkups/v1/discovery.proto


/**
 * GetUpsTimeoutRequest names an upstream.
 */
export interface GetUpsTimeoutRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
}

/**
 * GetUpsTimeoutRequest names an upstream.
 */
export interface GetUpsTimeoutRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
}
