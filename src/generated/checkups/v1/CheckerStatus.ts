// Original file: proto/checkups/v1/discovery.proto

import type { Long } from '@grpc/proto-loader';

/**
 * CheckerStatus is the health checker's own state.
 */
export interface CheckerStatus {
  /**
   * Epoch ms of the last recorded probe result (0 = none yet).
   */
  'lastCheckTimeMs'?: (number | string | Long);
  /**
   * False when the probe loop was found stuck or idle.
   */
  'alive'?: (boolean);
  /**
   * Probe targets.
   */
  'targets'?: (number);
  /**
   * Probes in flight.
   */
  'running'?: (number);
  /**
   * Probes abandoned after their deadline.
   */
  'hung'?: (number | string | Long);
  /**
   * Median scheduling lateness over the recent window, ms.
   */
  'latenessP50Ms'?: (number | string);
  /**
   * 99th percentile scheduling lateness, ms.
   */
  'latenessP99Ms'?: (number | string);
}

/**
 * CheckerStatus is the health checker's own state.
 */
export interface CheckerStatus__Output {
  /**
   * Epoch ms of the last recorded probe result (0 = none yet).
   */
  'lastCheckTimeMs': (number);
  /**
   * False when the probe loop was found stuck or idle.
   */
  'alive': (boolean);
  /**
   * Probe targets.
   */
  'targets': (number);
  /**
   * Probes in flight.
   */
  'running': (number);
  /**
   * Probes abandoned after their deadline.
   */
  'hung': (number);
  /**
   * Median scheduling lateness over the recent window, ms.
   */
  'latenessP50Ms': (number);
  /**
   * 99th percentile scheduling lateness, ms.
   */
  'latenessP99Ms': (number);
}
