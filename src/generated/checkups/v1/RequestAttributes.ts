// Original file: proto/checkups/v1/discovery.proto


/**
 * RequestAttributes stand in for nginx's request variables in hash modes.
 */
export interface RequestAttributes {
  /**
   * Request path without query (url_hash; fallback of hash and header_hash).
   */
  'path'?: (string);
  /**
   * Client address (ip_hash).
   */
  'clientIp'?: (string);
  /**
   * Value of x-hash-key (header_hash).
   */
  'headerHashKey'?: (string);
}

/**
 * RequestAttributes stand in for nginx's request variables in hash modes.
 */
export interface RequestAttributes__Output {
  /**
   * Request path without query (url_hash; fallback of hash and header_hash).
   */
  'path': (string);
  /**
   * Client address (ip_hash).
   */
  'clientIp': (string);
  /**
   * Value of x-hash-key (header_hash).
   */
  'headerHashKey': (string);
}
