// Original file: proto/checkups/v1/admin.proto


/**
 * SetPeerUpRequest names the server to put back into rotation.
 */
export interface SetPeerUpRequest {
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
}

/**
 * SetPeerUpRequest names the server to put back into rotation.
 */
export interface SetPeerUpRequest__Output {
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
}
