/**
 * ClusterLoadAssignment `K`: checkups levels and servers as xDS priorities, localities and
 * endpoints, under the rules gRPC clients enforce (docs/envoy.md):
 *
 * - Priorities are dense from 0: clusters in tree order, skipping any left without endpoints
 *   (a gap is a NACK). At most MAX_PRIORITY + 1 of them (Envoy's validation limit).
 * - Each ip:port appears once in the whole CLA (a duplicate is a NACK): a server listed in two
 *   levels stays in the first, as SelectPeer would reach it there first.
 * - Addresses are IP literals (a hostname is a NACK), IPv6 in canonical form: host names are
 *   resolved (dns.ts) and each address becomes an endpoint of the server's locality.
 * - One locality per server, `{region: K, zone: level-L | cluster-NAME, sub_zone: host:port}`,
 *   weighted by the server's weight: gRPC round robin ignores endpoint weights but honours
 *   locality weights, and gRPC ring hash multiplies the two, so endpoint weight stays 1.
 *   Stable locality names keep gRPC's per-locality children (and connections) across updates.
 * - Health: admin down -> DRAINING, a published passive exclusion (max_fails; capped by
 *   balance/ejection-cap.ts) -> UNHEALTHY, heartbeat err -> UNHEALTHY, ok and unstable -> HEALTHY
 *   (unstable is selectable in checkups: the state machine leaves a peer unstable only when
 *   `protected` keeps it as the last resort), unchecked or heartbeat off -> UNKNOWN. gRPC and
 *   Envoy route to HEALTHY and UNKNOWN only.
 * - No servers: an empty `endpoints` list; the Cluster stays (clients fail fast, not in 15 s).
 */
import { isIP } from 'node:net';
import type { ClusterSpec, PeerId, ServerSpec } from '../../../core/model.ts';
import { peerId } from '../../../core/model.ts';
import type { UpstreamView } from '../../../balance/upstream-balancer.ts';
import { slowStartFactor, slowStartOn } from '../../../balance/slow-start.ts';
import type { ClusterLoadAssignment, HealthStatus, LbEndpoint, LocalityLbEndpoints } from '../envoy-types.ts';
import { ENDPOINT } from '../type-urls.ts';
import type { ResourceKind } from './kind.ts';
import type { ServiceTree } from './tree.ts';

/** Envoy validates `priority <= 128`. */
export const MAX_PRIORITY = 128;
/** gRPC NACKs a priority whose locality weights sum above 2^32 - 1. */
export const MAX_PRIORITY_WEIGHT = 0xffff_ffff;
/**
 * Envoy's overprovisioning factor, in percent. Envoy computes a priority's health as
 * min(100, factor * healthy / total / 100) with integer division; this large a factor keeps a
 * level at 100% while one of up to 10^7 of its hosts is healthy: strict failover, as in gRPC.
 */
export const OVERPROVISIONING_FACTOR = 1_000_000_000;

export interface EndpointContext {
  readonly view: UpstreamView;
  /** IP literals of a host name; undefined until its first resolution has finished. */
  addresses(host: string): readonly string[] | undefined;
  /** Now, on the clock slow-start ramps started on (the registry's); without it nothing ramps. */
  now?(): number;
  /** Told when a locality weight was ramped: the CLA must be built again as the ramp goes on. */
  ramping?(): void;
}

/**
 * A server's locality weight: its weight, or while it ramps (slow start, wrr only) its weight
 * times Envoy's factor, as SelectPeer and the SDK pick. Each server is a locality of its own
 * (weights must reach gRPC, which ignores endpoint weights under round robin), so Envoy's own
 * slow start, which ramps endpoints within a locality, would change nothing: the ramp is pushed
 * as locality weights instead, and both Envoy and gRPC follow it.
 */
function localityWeight(s: ServerSpec, id: PeerId, ctx: EndpointContext): number {
  const spec = ctx.view.spec;
  if (spec.mode !== 'wrr' || !slowStartOn(spec.slowStart) || ctx.now === undefined) return s.weight;
  const at = ctx.view.rampStart?.(id);
  if (at === undefined) return s.weight;
  const factor = slowStartFactor(ctx.now() - at, spec.slowStart);
  if (factor >= 1) return s.weight;
  ctx.ramping?.();
  return Math.max(1, Math.round(s.weight * factor));
}

/**
 * One spelling per address: C-core compares parsed addresses (`fd00::2` = `fd00:0::2`) and NACKs
 * duplicates, so IPv6 literals are written in their canonical compressed form.
 */
export function canonicalIp(ip: string): string {
  return isIP(ip) === 6 ? new URL(`http://[${ip}]/`).hostname.slice(1, -1) : ip;
}

/** Host names (not IP literals) a tree's servers use. */
export function hostNamesOf(clusters: readonly ClusterSpec[]): Set<string> {
  const names = new Set<string>();
  for (const c of clusters) for (const s of c.servers) if (isIP(s.host) === 0) names.add(s.host);
  return names;
}

export function healthStatusOf(server: ServerSpec, view: UpstreamView): HealthStatus {
  if (server.down) return 'DRAINING';
  const id = peerId(server.host, server.port);
  if (view.passive(id) !== undefined) return 'UNHEALTHY';
  if (!view.heartbeat) return 'UNKNOWN';
  switch (view.health(id)?.status) {
    case 'ok':
    case 'unstable':
      return 'HEALTHY';
    case 'err':
      return 'UNHEALTHY';
    default:
      return 'UNKNOWN';
  }
}

function zoneOf(c: ClusterSpec): string {
  return typeof c.key === 'number' ? `level-${c.key}` : `cluster-${c.key}`;
}

/**
 * Scales weights down (keeping each >= 1) when their sum exceeds what a priority may hold
 * (gRPC and Envoy reject a priority whose locality weights sum above 2^32 - 1). Each weight
 * becomes floor(w * (2^32-1 - n) / sum), computed exactly in BigInt (w * budget reaches 2^63 with
 * weights up to 2^31-1), so the floors sum to at most 2^32-1 - n and the `>= 1` floor adds at
 * most n: the total always fits. Ratios are kept to within one unit of each weight.
 */
export function fitWeights(weights: readonly number[]): number[] {
  const clamped = weights.map((w) => Math.max(1, Math.floor(w)));
  const sum = clamped.reduce((a, b) => a + b, 0);
  if (sum <= MAX_PRIORITY_WEIGHT) return clamped;
  const budget = BigInt(MAX_PRIORITY_WEIGHT - clamped.length);
  const total = BigInt(sum);
  return clamped.map((w) => Math.max(1, Number((BigInt(w) * budget) / total)));
}

/** Builds the CLA of a tree; undefined while a host name awaits its first resolution. */
export function buildLoadAssignment(tree: ServiceTree, ctx: EndpointContext): ClusterLoadAssignment | undefined {
  const seenServers = new Set<string>();
  const seenAddresses = new Set<string>();
  const endpoints: LocalityLbEndpoints[] = [];
  let priority = 0;
  for (const c of tree.clusters) {
    if (priority > MAX_PRIORITY) break;
    const localities: Array<Omit<LocalityLbEndpoints, 'load_balancing_weight' | 'priority'> & { weight: number }> = [];
    for (const s of c.servers) {
      const id = peerId(s.host, s.port);
      if (seenServers.has(id)) continue;
      seenServers.add(id);
      const ips = isIP(s.host) !== 0 ? [s.host] : ctx.addresses(s.host);
      if (ips === undefined) return undefined;
      const health = healthStatusOf(s, ctx.view);
      const lbEndpoints: LbEndpoint[] = [];
      for (const literal of ips) {
        const ip = canonicalIp(literal);
        const address = peerId(ip, s.port);
        if (seenAddresses.has(address)) continue;
        seenAddresses.add(address);
        lbEndpoints.push({
          endpoint: { address: { socket_address: { address: ip, port_value: s.port } } },
          health_status: health,
          load_balancing_weight: { value: 1 },
        });
      }
      if (lbEndpoints.length === 0) continue;
      localities.push({ locality: { region: tree.skey, zone: zoneOf(c), sub_zone: id }, lb_endpoints: lbEndpoints, weight: localityWeight(s, id, ctx) });
    }
    if (localities.length === 0) continue;
    const weights = fitWeights(localities.map((l) => l.weight));
    localities.forEach(({ locality, lb_endpoints }, i) => endpoints.push({ locality, lb_endpoints, load_balancing_weight: { value: weights[i]! }, priority }));
    priority++;
  }
  return { cluster_name: tree.name, endpoints, policy: { overprovisioning_factor: { value: OVERPROVISIONING_FACTOR } } };
}

export const endpointType = {
  typeUrl: ENDPOINT,
  /** Changes with health and DNS too, not only with the spec. */
  dynamic: true,
  /**
   * The one kind rebuilt on every health change, and the largest (O(servers)): built only while
   * some stream subscribes to it, so a mass failure on an upstream nobody asks for over xDS
   * costs nothing here.
   */
  onDemand: true,
  build: buildLoadAssignment,
} satisfies ResourceKind;
