/**
 * Listener `K`: an API listener (what gRPC clients resolve `xds:///K` to) whose
 * HttpConnectionManager takes RouteConfiguration `K` over ADS and ends in the router filter.
 * C-core NACKs an HCM without HTTP filters and both clients NACK a router that is not last
 * (docs/envoy.md). Envoy ignores API listeners that arrive over LDS (it allows one, from
 * its bootstrap), so Envoy users point their own listener at RDS `K` (docs/envoy.md).
 */
import type { Listener } from '../envoy-types.ts';
import { HTTP_CONNECTION_MANAGER, LISTENER, ROUTER_FILTER } from '../type-urls.ts';
import type { ResourceKind } from './kind.ts';
import type { ServiceTree } from './tree.ts';

export const listenerType = {
  typeUrl: LISTENER,
  /** Depends on the spec only, not on health or DNS. */
  dynamic: false,
  onDemand: false,
  build(tree: ServiceTree): Listener {
    return {
      name: tree.name,
      api_listener: {
        api_listener: {
          '@type': HTTP_CONNECTION_MANAGER,
          // Envoy validates stat_prefix as non-empty even where it ignores the listener. grpc-js
          // compares whole Listeners, so the generation here is enough to tell a re-creation.
          stat_prefix: tree.generation === 0 ? tree.name : `${tree.name}_gen${tree.generation}`,
          rds: { route_config_name: tree.name, config_source: { ads: {}, resource_api_version: 'V3' } },
          http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER_FILTER } }],
        },
      },
    };
  },
} satisfies ResourceKind;
