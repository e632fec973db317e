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
}
