// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * SetPeerUpResponse carries the new version.
 */
export interface SetPeerUpResponse {
  /**
   * The upstream's version after the write.
   */
  'version'?: (number | string | Long);
}

/**
 * SetPeerUpResponse carries the new version.
 */
export interface SetPeerUpResponse__Output {
  /**
   * The upstream's version after the write.
   */
  'version': (number);
}
