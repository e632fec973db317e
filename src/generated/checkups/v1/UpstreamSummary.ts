// Original file: proto/checkups/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

/**
 * UpstreamSummary is one line of ListUpstreams.
 */
export interface UpstreamSummary {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * Its current version.
   */
  'version'?: (number | string | Long);
  /**
   * Probe type (typ).
   */
  'typ'?: (string);
  /**
   * Balancing mode.
   */
  'mode'?: (string);
  /**
   * Number of levels and named clusters.
   */
  'clusters'?: (number);
  /**
   * Number of server entries over all clusters.
   */
  'servers'?: (number);
}

/**
 * UpstreamSummary is one line of ListUpstreams.
 */
export interface UpstreamSummary__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * Its current version.
   */
  'version': (number);
  /**
   * Probe type (typ).
   */
  'typ': (string);
  /**
   * Balancing mode.
   */
  'mode': (string);
  /**
   * Number of levels and named clusters.
   */
  'clusters': (number);
  /**
   * Number of server entries over all clusters.
   */
  'servers': (number);
}
