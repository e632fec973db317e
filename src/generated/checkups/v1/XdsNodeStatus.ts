// Original file: proto/checkups/v1/discovery.proto

import type { XdsTypeStatus as _checkups_v1_XdsTypeStatus, XdsTypeStatus__Output as _checkups_v1_XdsTypeStatus__Output } from '../../checkups/v1/XdsTypeStatus.ts';

/**
 * XdsNodeStatus is what one xDS node (Envoy or gRPC client) holds.
 */
export interface XdsNodeStatus {
  /**
   * The node id from the client's bootstrap.
   */
  'nodeId'?: (string);
  /**
   * The client's user agent.
   */
  'userAgent'?: (string);
  /**
   * Open xDS streams of this node.
   */
  'streams'?: (number);
  /**
   * Per resource type.
   */
  'types'?: (_checkups_v1_XdsTypeStatus)[];
}

/**
 * XdsNodeStatus is what one xDS node (Envoy or gRPC client) holds.
 */
export interface XdsNodeStatus__Output {
  /**
   * The node id from the client's bootstrap.
   */
  'nodeId': (string);
  /**
   * The client's user agent.
   */
  'userAgent': (string);
  /**
   * Open xDS streams of this node.
   */
  'streams': (number);
  /**
   * Per resource type.
   */
  'types': (_checkups_v1_XdsTypeStatus__Output)[];
}
