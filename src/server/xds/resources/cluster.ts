/**
 * Cluster `K`: endpoints from ClusterLoadAssignment `K` over ADS; round robin for `wrr`, ring
 * hash for the hash modes (the route carries the hash policy). Both gRPC clients NACK any other
 * `lb_policy` (docs/envoy.md).
 *
 * Envoy-only settings that make Envoy fail over like gRPC (docs/envoy.md): panic threshold 0
 * (never spread onto unhealthy hosts) and locality-weighted balancing (server weights travel as
 * locality weights, see endpoint.ts); and the upstream protocol follows the downstream one.
 * gRPC ignores all three.
 *
 * `slow_start` (wrr) travels as `round_robin_lb_config.slow_start_config` with the same window,
 * aggression and minimum weight. Envoy applies it to endpoint weights within a locality; gRPC
 * clients ignore it (docs/envoy.md says what that means with one server per locality).
 */
import type { SlowStartSpec } from '../../../core/model.ts';
import type { Cluster, SlowStartConfig } from '../envoy-types.ts';
import { CLUSTER, HTTP_PROTOCOL_OPTIONS } from '../type-urls.ts';
import type { ResourceKind } from './kind.ts';
import type { ServiceTree } from './tree.ts';

/** Envoy's connect timeout to an endpoint (gRPC clients ignore it). */
export const CONNECT_TIMEOUT_S = 2;
/** Envoy's extension name of the upstream HTTP protocol options. */
const HTTP_PROTOCOL_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
/** gRPC's and Envoy's default limit of concurrent requests per cluster. */
export const DEFAULT_MAX_REQUESTS = 1024;

/**
 * A re-created Cluster must differ from its previous incarnation in a field grpc-js parses
 * (tree.ts `generation`): the concurrent-request limit, set just above the default. Alternates
 * within [1024, 2047] so consecutive incarnations always differ.
 */
function circuitBreakers(generation: number): Pick<Cluster, 'circuit_breakers'> {
  if (generation === 0) return {};
  return { circuit_breakers: { thresholds: [{ priority: 'DEFAULT', max_requests: { value: DEFAULT_MAX_REQUESTS + (generation % DEFAULT_MAX_REQUESTS) } }] } };
}

/** Envoy's default aggression: sent only when the upstream differs from it. */
const ENVOY_DEFAULT_AGGRESSION = 1;

export function slowStartConfig(name: string, spec: SlowStartSpec): SlowStartConfig {
  return {
    slow_start_window: { seconds: Math.floor(spec.windowMs / 1000), nanos: (spec.windowMs % 1000) * 1_000_000 },
    // Envoy refuses a RuntimeDouble without a key; one per cluster lets an operator override it there.
    ...(spec.aggression !== ENVOY_DEFAULT_AGGRESSION ? { aggression: { default_value: spec.aggression, runtime_key: `checkups.${name}.slow_start_aggression` } } : {}),
    min_weight_percent: { value: spec.minWeightPercent },
  };
}

export const clusterType = {
  typeUrl: CLUSTER,
  dynamic: false,
  onDemand: false,
  build(tree: ServiceTree): Cluster {
    return {
      name: tree.name,
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' }, service_name: tree.name },
      lb_policy: tree.mode === 'wrr' ? 'ROUND_ROBIN' : 'RING_HASH',
      connect_timeout: { seconds: CONNECT_TIMEOUT_S, nanos: 0 },
      common_lb_config: { healthy_panic_threshold: { value: 0 }, locality_weighted_lb_config: {} },
      // Envoy speaks to endpoints in the protocol the request came in (gRPC stays HTTP/2,
      // HTTP/1.1 stays HTTP/1.1); its default would be HTTP/1.1 for everything.
      typed_extension_protocol_options: {
        [HTTP_PROTOCOL_OPTIONS_KEY]: { '@type': HTTP_PROTOCOL_OPTIONS, use_downstream_protocol_config: { http_protocol_options: {}, http2_protocol_options: {} } },
      },
      ...circuitBreakers(tree.generation),
      ...(tree.mode === 'wrr' && tree.slowStart.windowMs > 0 ? { round_robin_lb_config: { slow_start_config: slowStartConfig(tree.name, tree.slowStart) } } : {}),
    };
  },
} satisfies ResourceKind;
