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
  /**
   * The peer's own status from its probes, before the upstream-wide rules.
   * Differs from `status` while `protected` keeps a failing peer selectable
   * (status UNSTABLE, probe_status ERR) and while the peer is damped.
   */
  'probeStatus'?: (_checkups_v1_HealthStatus);
  /**
   * True while `protected` keeps this failing peer in service.
   */
  'protected'?: (boolean);
  /**
   * Why the peer is protected (set with `protected`).
   */
  'protectedReason'?: (string);
  /**
   * Flap damping: epoch ms until which the peer is held ERR (0 = not damped).
   */
  'dampedUntilMs'?: (number | string | Long);
  /**
   * Flap damping: status changes counted in the current window (0 when
   * damping is off).
   */
  'flaps'?: (number);
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
  /**
   * The peer's own status from its probes, before the upstream-wide rules.
   * Differs from `status` while `protected` keeps a failing peer selectable
   * (status UNSTABLE, probe_status ERR) and while the peer is damped.
   */
  'probeStatus': (_checkups_v1_HealthStatus__Output);
  /**
   * True while `protected` keeps this failing peer in service.
   */
  'protected': (boolean);
  /**
   * Why the peer is protected (set with `protected`).
   */
  'protectedReason': (string);
  /**
   * Flap damping: epoch ms until which the peer is held ERR (0 = not damped).
   */
  'dampedUntilMs': (number);
  /**
   * Flap damping: status changes counted in the current window (0 when
   * damping is off).
   */
  'flaps': (number);
}
