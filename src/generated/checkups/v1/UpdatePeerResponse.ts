// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * UpdatePeerResponse carries the new version.
 */
export interface UpdatePeerResponse {
  /**
   * The upstream's version after the write.
   */
  'version'?: (number | string | Long);
}

/**
 * UpdatePeerResponse carries the new version.
 */
export interface UpdatePeerResponse__Output {
  /**
   * The upstream's version after the write.
   */
  'version': (number);
}
