// Original file: proto/checkups/v1/upstream.proto


/**
 * Server is one backend address of a cluster.
 */
export interface Server {
  /**
   * Host name or IP literal.
   */
  'host'?: (string);
  /**
   * TCP port, 1..65535.
   */
  'port'?: (number);
  /**
   * Smooth weighted round robin and consistent hash weight (1..2147483647;
   * 0 in a request means the default, 1).
   */
  'weight'?: (number);
  /**
   * Failed attempts within the window that mark the peer down (0 = off).
   */
  'maxFails'?: (number);
  /**
   * Passive window and exclusion length in milliseconds (0 in a request means
   * the default, 10000).
   */
  'failTimeoutMs'?: (number);
  /**
   * Taken out of rotation by an operator (ngx_dynamic_upstream `down`).
   */
  'down'?: (boolean);
}

/**
 * Server is one backend address of a cluster.
 */
export interface Server__Output {
  /**
   * Host name or IP literal.
   */
  'host': (string);
  /**
   * TCP port, 1..65535.
   */
  'port': (number);
  /**
   * Smooth weighted round robin and consistent hash weight (1..2147483647;
   * 0 in a request means the default, 1).
   */
  'weight': (number);
  /**
   * Failed attempts within the window that mark the peer down (0 = off).
   */
  'maxFails': (number);
  /**
   * Passive window and exclusion length in milliseconds (0 in a request means
   * the default, 10000).
   */
  'failTimeoutMs': (number);
  /**
   * Taken out of rotation by an operator (ngx_dynamic_upstream `down`).
   */
  'down': (boolean);
}
