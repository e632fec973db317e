// Original file: proto/checkups/v1/admin.proto


/**
 * SetPeerDownRequest names the server to take out of rotation.
 */
export interface SetPeerDownRequest {
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
 * SetPeerDownRequest names the server to take out of rotation.
 */
export interface SetPeerDownRequest__Output {
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
