// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * UpdateUpstreamResponse carries the new version.
 */
export interface UpdateUpstreamResponse {
  /**
   * The upstream's version after the write.
   */
  'version'?: (number | string | Long);
}

/**
 * UpdateUpstreamResponse carries the new version.
 */
export interface UpdateUpstreamResponse__Output {
  /**
   * The upstream's version after the write.
   */
  'version': (number);
}
