// Original file: proto/checkups/v1/admin.proto


/**
 * GetUpstreamRequest names an upstream.
 */
export interface GetUpstreamRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
}

/**
 * GetUpstreamRequest names an upstream.
 */
export interface GetUpstreamRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
}
