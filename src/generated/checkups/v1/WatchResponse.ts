// Original file: proto/checkups/v1/discovery.proto

import type { UpstreamSnapshot as _checkups_v1_UpstreamSnapshot, UpstreamSnapshot__Output as _checkups_v1_UpstreamSnapshot__Output } from '../../checkups/v1/UpstreamSnapshot.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * WatchResponse carries changed upstreams and removals.
 */
export interface WatchResponse {
  /**
   * Upstreams whose state changed, each complete at its newest version.
   */
  'upstreams'?: (_checkups_v1_UpstreamSnapshot)[];
  /**
   * Watched upstreams that no longer exist.
   */
  'removedSkeys'?: (string)[];
  /**
   * True on the message that completes the initial snapshot; later messages
   * are changes.
   */
  'syncComplete'?: (boolean);
  /**
   * Registry revision this message brings the client up to.
   */
  'revision'?: (number | string | Long);
  /**
   * The server's monotonic clock (milliseconds, arbitrary origin) when this
   * message was written. Only differences with the clock fields of the same
   * message mean anything (Peer.slow_start_clock_ms): no two processes share
   * the origin, so clients never compare it with their own clock. Absent from
   * servers that predate slow start.
   */
  'serverClockMs'?: (number | string | Long);
  '_serverClockMs'?: "serverClockMs";
}

/**
 * WatchResponse carries changed upstreams and removals.
 */
export interface WatchResponse__Output {
  /**
   * Upstreams whose state changed, each complete at its newest version.
   */
  'upstreams': (_checkups_v1_UpstreamSnapshot__Output)[];
  /**
   * Watched upstreams that no longer exist.
   */
  'removedSkeys': (string)[];
  /**
   * True on the message that completes the initial snapshot; later messages
   * are changes.
   */
  'syncComplete': (boolean);
  /**
   * Registry revision this message brings the client up to.
   */
  'revision': (number);
  /**
   * The server's monotonic clock (milliseconds, arbitrary origin) when this
   * message was written. Only differences with the clock fields of the same
   * message mean anything (Peer.slow_start_clock_ms): no two processes share
   * the origin, so clients never compare it with their own clock. Absent from
   * servers that predate slow start.
   */
  'serverClockMs'?: (number);
  '_serverClockMs'?: "serverClockMs";
}
