// Original file: proto/checkups/v1/discovery.proto

import type { FeedbackRequest as _checkups_v1_FeedbackRequest, FeedbackRequest__Output as _checkups_v1_FeedbackRequest__Output } from '../../checkups/v1/FeedbackRequest.ts';

/**
 * FeedbackBatchRequest carries outcomes in the order they happened.
 */
export interface FeedbackBatchRequest {
  /**
   * The outcomes.
   */
  'outcomes'?: (_checkups_v1_FeedbackRequest)[];
}

/**
 * FeedbackBatchRequest carries outcomes in the order they happened.
 */
export interface FeedbackBatchRequest__Output {
  /**
   * The outcomes.
   */
  'outcomes': (_checkups_v1_FeedbackRequest__Output)[];
}
