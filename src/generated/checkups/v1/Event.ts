// Original file: proto/checkups/v1/admin.proto

import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * Event is one entry of the event and audit trail.
 */
export interface Event {
  /**
   * Increases by one per event (per server process).
   */
  'seq'?: (number | string | Long);
  /**
   * Epoch milliseconds.
   */
  'timeMs'?: (number | string | Long);
  /**
   * health, admin, auth or config.
   */
  'kind'?: (string);
  /**
   * One line for people.
   */
  'message'?: (string);
  /**
   * The upstream concerned, if any.
   */
  'skey'?: (string);
  /**
   * The peer concerned (host:port), if any.
   */
  'peer'?: (string);
  /**
   * Kind-specific facts, as in the log and /events: cause, from, to, reason,
   * probe, passive, method, version, change, actor. Never secrets.
   */
  'details'?: (_google_protobuf_Struct | null);
}

/**
 * Event is one entry of the event and audit trail.
 */
export interface Event__Output {
  /**
   * Increases by one per event (per server process).
   */
  'seq': (number);
  /**
   * Epoch milliseconds.
   */
  'timeMs': (number);
  /**
   * health, admin, auth or config.
   */
  'kind': (string);
  /**
   * One line for people.
   */
  'message': (string);
  /**
   * The upstream concerned, if any.
   */
  'skey': (string);
  /**
   * The peer concerned (host:port), if any.
   */
  'peer': (string);
  /**
   * Kind-specific facts, as in the log and /events: cause, from, to, reason,
   * probe, passive, method, version, change, actor. Never secrets.
   */
  'details': (_google_protobuf_Struct__Output | null);
}
