// Original file: proto/checkups/v1/admin.proto


/**
 * UpdatePeerRequest changes a server's balancing parameters.
 */
export interface UpdatePeerRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * The server's host.
   */
  'host'?: (string);
  /**
   * The server's port.
   */
  'port'?: (number);
  /**
   * New weight (1..2147483647), if set.
   */
  'weight'?: (number);
  /**
   * New max_fails, if set.
   */
  'maxFails'?: (number);
  /**
   * New fail_timeout in ms (> 0), if set.
   */
  'failTimeoutMs'?: (number);
  '_weight'?: "weight";
  '_maxFails'?: "maxFails";
  '_failTimeoutMs'?: "failTimeoutMs";
}

/**
 * UpdatePeerRequest changes a server's balancing parameters.
 */
export interface UpdatePeerRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * The server's host.
   */
  'host': (string);
  /**
   * The server's port.
   */
  'port': (number);
  /**
   * New weight (1..2147483647), if set.
   */
  'weight'?: (number);
  /**
   * New max_fails, if set.
   */
  'maxFails'?: (number);
  /**
   * New fail_timeout in ms (> 0), if set.
   */
  'failTimeoutMs'?: (number);
  '_weight'?: "weight";
  '_maxFails'?: "maxFails";
  '_failTimeoutMs'?: "failTimeoutMs";
}
