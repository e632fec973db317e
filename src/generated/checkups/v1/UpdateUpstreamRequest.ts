// Original file: proto/checkups/v1/admin.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct.ts';
import type { Value as _google_protobuf_Value, Value__Output as _google_protobuf_Value__Output } from '../../google/protobuf/Value.ts';

/**
 * UpdateUpstreamRequest carries a whole upstream or only its clusters.
 */
export interface UpdateUpstreamRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * The whole upstream document, as under `upstreams.<skey>` in the file.
   */
  'upstream'?: (_google_protobuf_Struct | null);
  /**
   * Only the `cluster` value (a list of levels or a map); the upstream's
   * other options stay as stored (defaults for a new upstream).
   */
  'cluster'?: (_google_protobuf_Value | null);
  /**
   * What to store.
   */
  'body'?: "upstream"|"cluster";
}

/**
 * UpdateUpstreamRequest carries a whole upstream or only its clusters.
 */
export interface UpdateUpstreamRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * The whole upstream document, as under `upstreams.<skey>` in the file.
   */
  'upstream'?: (_google_protobuf_Struct__Output | null);
  /**
   * Only the `cluster` value (a list of levels or a map); the upstream's
   * other options stay as stored (defaults for a new upstream).
   */
  'cluster'?: (_google_protobuf_Value__Output | null);
  /**
   * What to store.
   */
  'body'?: "upstream"|"cluster";
}
