// Original file: proto/checkups/v1/discovery.proto

import type { UpstreamStatus as _checkups_v1_UpstreamStatus, UpstreamStatus__Output as _checkups_v1_UpstreamStatus__Output } from '../../checkups/v1/UpstreamStatus.ts';
import type { CheckerStatus as _checkups_v1_CheckerStatus, CheckerStatus__Output as _checkups_v1_CheckerStatus__Output } from '../../checkups/v1/CheckerStatus.ts';
import type { XdsNodeStatus as _checkups_v1_XdsNodeStatus, XdsNodeStatus__Output as _checkups_v1_XdsNodeStatus__Output } from '../../checkups/v1/XdsNodeStatus.ts';
import type { StoreStatus as _checkups_v1_StoreStatus, StoreStatus__Output as _checkups_v1_StoreStatus__Output } from '../../checkups/v1/StoreStatus.ts';
import type { Long } from '@grpc/proto-loader';

/**
 * GetStatusResponse is the status of every upstream.
 */
export interface GetStatusResponse {
  /**
   * Upstreams in registry order.
   */
  'upstreams'?: (_checkups_v1_UpstreamStatus)[];
  /**
   * Health checker state.
   */
  'checker'?: (_checkups_v1_CheckerStatus | null);
  /**
   * Epoch ms when the server started.
   */
  'startTimeMs'?: (number | string | Long);
  /**
   * global.conf_hash from the config, as text (empty when unset).
   */
  'confHash'?: (string);
  /**
   * Current registry revision.
   */
  'revision'?: (number | string | Long);
  /**
   * xDS clients, per node id (like CSDS).
   */
  'xdsNodes'?: (_checkups_v1_XdsNodeStatus)[];
  /**
   * The server's checkups version.
   */
  'serverVersion'?: (string);
  /**
   * Set when more upstreams follow this page: send it as page_token. Pages
   * follow registry order; an upstream created or deleted between two pages
   * may be missed or listed twice (compare revision).
   */
  'nextPageToken'?: (string);
  /**
   * Upstreams after this page (0 on the last page).
   */
  'upstreamsRemaining'?: (number);
  /**
   * xDS nodes left out of xds_nodes to keep the response under the limit.
   * Nodes are listed on the first page only.
   */
  'xdsNodesOmitted'?: (number);
  /**
   * Where admin changes are kept, and whether this instance is in step with it.
   */
  'store'?: (_checkups_v1_StoreStatus | null);
}

/**
 * GetStatusResponse is the status of every upstream.
 */
export interface GetStatusResponse__Output {
  /**
   * Upstreams in registry order.
   */
  'upstreams': (_checkups_v1_UpstreamStatus__Output)[];
  /**
   * Health checker state.
   */
  'checker': (_checkups_v1_CheckerStatus__Output | null);
  /**
   * Epoch ms when the server started.
   */
  'startTimeMs': (number);
  /**
   * global.conf_hash from the config, as text (empty when unset).
   */
  'confHash': (string);
  /**
   * Current registry revision.
   */
  'revision': (number);
  /**
   * xDS clients, per node id (like CSDS).
   */
  'xdsNodes': (_checkups_v1_XdsNodeStatus__Output)[];
  /**
   * The server's checkups version.
   */
  'serverVersion': (string);
  /**
   * Set when more upstreams follow this page: send it as page_token. Pages
   * follow registry order; an upstream created or deleted between two pages
   * may be missed or listed twice (compare revision).
   */
  'nextPageToken': (string);
  /**
   * Upstreams after this page (0 on the last page).
   */
  'upstreamsRemaining': (number);
  /**
   * xDS nodes left out of xds_nodes to keep the response under the limit.
   * Nodes are listed on the first page only.
   */
  'xdsNodesOmitted': (number);
  /**
   * Where admin changes are kept, and whether this instance is in step with it.
   */
  'store': (_checkups_v1_StoreStatus__Output | null);
}
