// Original file: proto/checkups/v1/admin.proto


/**
 * RemovePeerRequest removes one server.
 */
export interface RemovePeerRequest {
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
   * Cluster to remove it from; empty removes it from every cluster.
   */
  'cluster'?: (string);
}

/**
 * RemovePeerRequest removes one server.
 */
export interface RemovePeerRequest__Output {
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
   * Cluster to remove it from; empty removes it from every cluster.
   */
  'cluster': (string);
}
