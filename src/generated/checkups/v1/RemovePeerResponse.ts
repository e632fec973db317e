// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * RemovePeerResponse carries the new version.
 */
export interface RemovePeerResponse {
  /**
   * The upstream's version after the write.
   */
  'version'?: (number | string | Long);
}

/**
 * RemovePeerResponse carries the new version.
 */
export interface RemovePeerResponse__Output {
  /**
   * The upstream's version after the write.
   */
  'version': (number);
}
