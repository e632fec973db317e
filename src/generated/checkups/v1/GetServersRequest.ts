// Original file: proto/checkups/v1/admin.proto


/**
 * GetServersRequest names an upstream.
 */
export interface GetServersRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
}

/**
 * GetServersRequest names an upstream.
 */
export interface GetServersRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
}
