// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * DeleteUpstreamResponse carries the revision of the deletion.
 */
export interface DeleteUpstreamResponse {
  /**
   * Registry revision of the deletion.
   */
  'version'?: (number | string | Long);
}

/**
 * DeleteUpstreamResponse carries the revision of the deletion.
 */
export interface DeleteUpstreamResponse__Output {
  /**
   * Registry revision of the deletion.
   */
  'version': (number);
}
