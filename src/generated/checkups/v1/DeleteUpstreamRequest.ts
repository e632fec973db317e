// Original file: proto/checkups/v1/admin.proto


/**
 * DeleteUpstreamRequest names the upstream to delete.
 */
export interface DeleteUpstreamRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
}

/**
 * DeleteUpstreamRequest names the upstream to delete.
 */
export interface DeleteUpstreamRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
}
