/**
 * Which xDS resource trees an upstream publishes (docs/envoy.md "Mapping"). A tree is one
 * Listener, RouteConfiguration, Cluster and ClusterLoadAssignment sharing one name.
 *
 * - `K`: every cluster of upstream K, levels ascending then named clusters as written — the
 *   order SelectPeer tries without `cluster_key`.
 * - `K~NAME` for each named cluster: that cluster alone (SelectPeer with `cluster_key: [NAME]`).
 *   skeys cannot contain `~`, so these names never collide with an upstream's. Why `~`: gRPC
 *   clients send the target name as the HTTP/2 :authority, where `/` is refused (RST_STREAM by
 *   Node's HTTP/2 server, seen with grpc-js-xds) and `:` means a port; `~` is an unreserved
 *   URI character. (A cluster name with characters an authority cannot hold needs the
 *   client's `grpc.default_authority` option.)
 */
import type { BalanceMode, ClusterSpec, SlowStartSpec, UpstreamSpec } from '../../../core/model.ts';

export const NAMED_CLUSTER_SEPARATOR = '~';

export interface ServiceTree {
  /** Resource name of all four resources. */
  readonly name: string;
  readonly skey: string;
  readonly mode: BalanceMode;
  /** The upstream's slow start (Cluster `slow_start_config`). */
  readonly slowStart: SlowStartSpec;
  /** In priority order. */
  readonly clusters: readonly ClusterSpec[];
  /**
   * How many times this name was deleted before, in this process. A re-created Listener and
   * Cluster differ from their previous incarnation by it (listener.ts, cluster.ts): grpc-js-xds
   * <= 1.14.1 never recovers when a deleted Listener/Cluster comes back with an identical parsed
   * value (docs/envoy.md; fixed upstream by grpc-node PR #3074).
   */
  readonly generation: number;
}

/** The upstream a tree name belongs to (`K` and `K~NAME` both belong to K). */
export function skeyOfTree(name: string): string {
  const at = name.indexOf(NAMED_CLUSTER_SEPARATOR);
  return at < 0 ? name : name.slice(0, at);
}

export function treesOf(spec: UpstreamSpec, generationOf: (name: string) => number = () => 0): ServiceTree[] {
  const tree = (name: string, clusters: readonly ClusterSpec[]): ServiceTree => ({ name, skey: spec.skey, mode: spec.mode, slowStart: spec.slowStart, clusters, generation: generationOf(name) });
  const trees = [tree(spec.skey, spec.clusters)];
  for (const c of spec.clusters) if (typeof c.key === 'string') trees.push(tree(`${spec.skey}${NAMED_CLUSTER_SEPARATOR}${c.key}`, [c]));
  return trees;
}

