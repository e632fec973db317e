// Original file: proto/checkups/v1/discovery.proto


/**
 * FeedbackResponse is empty.
 */
export interface FeedbackResponse {
}

/**
 * FeedbackResponse is empty.
 */
export interface FeedbackResponse__Output {
}
