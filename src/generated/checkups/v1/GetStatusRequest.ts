// Original file: proto/checkups/v1/discovery.proto


/**
 * GetStatusRequest selects a page of upstreams (all fields optional).
 */
export interface GetStatusRequest {
  /**
   * Upstreams per response at most; 0 = as many as fit in max_response_bytes.
   */
  'pageSize'?: (number);
  /**
   * next_page_token of the previous response; empty for the first page.
   */
  'pageToken'?: (string);
}

/**
 * GetStatusRequest selects a page of upstreams (all fields optional).
 */
export interface GetStatusRequest__Output {
  /**
   * Upstreams per response at most; 0 = as many as fit in max_response_bytes.
   */
  'pageSize': (number);
  /**
   * next_page_token of the previous response; empty for the first page.
   */
  'pageToken': (string);
}
