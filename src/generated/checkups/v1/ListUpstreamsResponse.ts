// Original file: proto/checkups/v1/admin.proto

import type { UpstreamSummary as _checkups_v1_UpstreamSummary, UpstreamSummary__Output as _checkups_v1_UpstreamSummary__Output } from '../../checkups/v1/UpstreamSummary.ts';

/**
 * ListUpstreamsResponse lists every upstream.
 */
export interface ListUpstreamsResponse {
  /**
   * Upstreams in registry order.
   */
  'upstreams'?: (_checkups_v1_UpstreamSummary)[];
}

/**
 * ListUpstreamsResponse lists every upstream.
 */
export interface ListUpstreamsResponse__Output {
  /**
   * Upstreams in registry order.
   */
  'upstreams': (_checkups_v1_UpstreamSummary__Output)[];
}
