import type { ClusterKey, HeartbeatStatus } from '../core/model.ts';
import type { ClusterBalancer } from './upstream-balancer.ts';

/** A chosen peer, as callers of selectPeer / readyOk see it. */
export interface SelectedPeer {
  readonly host: string;
  readonly port: number;
  readonly cluster: ClusterKey;
  readonly weight: number;
  readonly status: HeartbeatStatus;
}

/** Server `i` of cluster `c`, with its status as the cluster's mask was last brought up to date. */
export function toPeer(c: ClusterBalancer, i: number): SelectedPeer {
  const s = c.spec.servers[i]!;
  return { host: s.host, port: s.port, cluster: c.spec.key, weight: s.weight, status: c.status[i]! };
}
