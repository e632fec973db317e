// Original file: proto/checkups/v1/discovery.proto

import type { RequestAttributes as _checkups_v1_RequestAttributes, RequestAttributes__Output as _checkups_v1_RequestAttributes__Output } from '../../checkups/v1/RequestAttributes.ts';

/**
 * SelectPeerRequest asks for one peer of an upstream.
 */
export interface SelectPeerRequest {
  /**
   * The upstream's name.
   */
  'skey'?: (string);
  /**
   * Key for mode hash (else request.path).
   */
  'hashKey'?: (string);
  /**
   * Clusters to try, in order ("1", "2" for levels, names for named
   * clusters); empty tries levels ascending, then named clusters.
   */
  'clusterKey'?: (string)[];
  /**
   * Request attributes for url_hash, ip_hash and header_hash.
   */
  'request'?: (_checkups_v1_RequestAttributes | null);
}

/**
 * SelectPeerRequest asks for one peer of an upstream.
 */
export interface SelectPeerRequest__Output {
  /**
   * The upstream's name.
   */
  'skey': (string);
  /**
   * Key for mode hash (else request.path).
   */
  'hashKey': (string);
  /**
   * Clusters to try, in order ("1", "2" for levels, names for named
   * clusters); empty tries levels ascending, then named clusters.
   */
  'clusterKey': (string)[];
  /**
   * Request attributes for url_hash, ip_hash and header_hash.
   */
  'request': (_checkups_v1_RequestAttributes__Output | null);
}
