// Original file: proto/checkups/v1/admin.proto


/**
 * ListUpstreamsRequest is empty.
 */
export interface ListUpstreamsRequest {
}

/**
 * ListUpstreamsRequest is empty.
 */
export interface ListUpstreamsRequest__Output {
}
