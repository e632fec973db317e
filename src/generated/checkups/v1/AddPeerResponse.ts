// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * AddPeerResponse carries the new version.
 */
export interface AddPeerResponse {
  /**
   * The upstream's version after the write.
   */
  'version'?: (number | string | Long);
}

/**
 * AddPeerResponse carries the new version.
 */
export interface AddPeerResponse__Output {
  /**
   * The upstream's version after the write.
   */
  'version': (number);
}
