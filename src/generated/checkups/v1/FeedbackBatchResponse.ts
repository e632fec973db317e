// Original file: proto/checkups/v1/discovery.proto


/**
 * FeedbackBatchResponse says how many outcomes were applied.
 */
export interface FeedbackBatchResponse {
  /**
   * Outcomes applied.
   */
  'applied'?: (number);
  /**
   * One line per outcome that was not applied (unknown upstream or peer).
   */
  'rejected'?: (string)[];
}

/**
 * FeedbackBatchResponse says how many outcomes were applied.
 */
export interface FeedbackBatchResponse__Output {
  /**
   * Outcomes applied.
   */
  'applied': (number);
  /**
   * One line per outcome that was not applied (unknown upstream or peer).
   */
  'rejected': (string)[];
}
