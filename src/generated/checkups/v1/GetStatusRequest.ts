// Original file: proto/checkups/v1/discovery.proto


/**
 * GetStatusRequest is empty.
 */
export interface GetStatusRequest {
}

/**
 * GetStatusRequest is empty.
 */
export interface GetStatusRequest__Output {
}
