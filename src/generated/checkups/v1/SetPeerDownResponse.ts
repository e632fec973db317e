// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * SetPeerDownResponse carries the new version.
 */
export interface SetPeerDownResponse {
  /**
   * The upstream's version after the write.
   */
  'version'?: (number | string | Long);
}

/**
 * SetPeerDownResponse carries the new version.
 */
export interface SetPeerDownResponse__Output {
  /**
   * The upstream's version after the write.
   */
  'version': (number);
}
