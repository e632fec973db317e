// Original file: proto/checkups/v1/admin.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * GetUpstreamResponse carries an upstream's configuration.
 */
export interface GetUpstreamResponse {
  /**
   * The configuration document, defaults filled in.
   */
  'upstream'?: (_google_protobuf_Struct | null);
  /**
   * Its current version.
   */
  'version'?: (number | string | Long);
}

/**
 * GetUpstreamResponse carries an upstream's configuration.
 */
export interface GetUpstreamResponse__Output {
  /**
   * The configuration document, defaults filled in.
   */
  'upstream': (_google_protobuf_Struct__Output | null);
  /**
   * Its current version.
   */
  'version': (number);
}
