import type { ClusterKey, HeartbeatStatus } from '../core/model.ts';
import type { ClusterBalancer, UpstreamView } from './upstream-balancer.ts';

/** A chosen peer, as callers of selectPeer / readyOk see it. */
export interface SelectedPeer {
  readonly host: string;
  readonly port: number;
  readonly cluster: ClusterKey;
  readonly weight: number;
  readonly status: HeartbeatStatus;
}

export function toPeer(view: UpstreamView, c: ClusterBalancer, i: number): SelectedPeer {
  const s = c.spec.servers[i]!;
  const status: HeartbeatStatus = view.heartbeat ? (view.health(c.ids[i]!)?.status ?? 'unchecked') : 'unchecked';
  return { host: s.host, port: s.port, cluster: c.spec.key, weight: s.weight, status };
}
