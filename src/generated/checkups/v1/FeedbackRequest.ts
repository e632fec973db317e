// Original file: proto/checkups/v1/discovery.proto


/**
 * FeedbackRequest reports one request outcome.
 */
export interface FeedbackRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * The peer's host, as configured.
   */
  'host'?: (string);
  /**
   * The peer's port.
   */
  'port'?: (number);
  /**
   * True when the request failed.
   */
  'failed'?: (boolean);
}

/**
 * FeedbackRequest reports one request outcome.
 */
export interface FeedbackRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * The peer's host, as configured.
   */
  'host': (string);
  /**
   * The peer's port.
   */
  'port': (number);
  /**
   * True when the request failed.
   */
  'failed': (boolean);
}
