// Original file: proto/checkups/v1/upstream.proto

import type { HealthStatus as _checkups_v1_HealthStatus, HealthStatus__Output as _checkups_v1_HealthStatus__Output } from '../../checkups/v1/HealthStatus.ts';
import type { Struct as _google_protobuf_Struct, Struct__Output as _google_protobuf_Struct__Output } from '../../google/protobuf/Struct.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * PeerHealth is everything known about one peer's health.
 */
export interface PeerHealth {
  /**
   * Active (heartbeat) status.
   */
  'status'?: (_checkups_v1_HealthStatus);
  /**
   * Consecutive failed probes.
   */
  'failNum'?: (number);
  /**
   * Last probe's error, empty after a success.
   */
  'msg'?: (string);
  /**
   * Epoch milliseconds of the last status change (0 if never probed).
   */
  'lastModifiedMs'?: (number | string | Long);
  /**
   * Probe-specific facts (redis_version, replication, ...).
   */
  'extras'?: (_google_protobuf_Struct | null);
}

/**
 * PeerHealth is everything known about one peer's health.
 */
export interface PeerHealth__Output {
  /**
   * Active (heartbeat) status.
   */
  'status': (_checkups_v1_HealthStatus__Output);
  /**
   * Consecutive failed probes.
   */
  'failNum': (number);
  /**
   * Last probe's error, empty after a success.
   */
  'msg': (string);
  /**
   * Epoch milliseconds of the last status change (0 if never probed).
   */
  'lastModifiedMs': (number);
  /**
   * Probe-specific facts (redis_version, replication, ...).
   */
  'extras': (_google_protobuf_Struct__Output | null);
}
