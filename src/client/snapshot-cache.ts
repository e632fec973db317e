/**
 * The SDK's local copy of upstreams, built from Watch snapshots. It is an UpstreamSource, so the
 * SelectionEngine of src/balance picks from it exactly as the server picks from its registry.
 *
 * A snapshot whose configuration is unchanged keeps the previous spec object: the engine then
 * keeps its round-robin and passive state and only refreshes health (the server does the same).
 */
import type { UpstreamView } from '../balance/upstream-balancer.ts';
import { parseUpstream } from '../config/validate.ts';
import type { RawCluster } from '../config/schema.ts';
import type { HeartbeatStatus, PassiveVerdict, PeerHealth, PeerId, UpstreamSpec } from '../core/model.ts';
import { peerId } from '../core/model.ts';
import type { HealthStatus } from '../generated/checkups/v1/HealthStatus.ts';
import type { UpstreamSnapshot__Output } from '../generated/checkups/v1/UpstreamSnapshot.ts';
import { structToJson } from '../server/grpc/struct.ts';

const STATUS: Record<HealthStatus & string, HeartbeatStatus> = {
  HEALTH_STATUS_UNSPECIFIED: 'unchecked',
  HEALTH_STATUS_UNCHECKED: 'unchecked',
  HEALTH_STATUS_OK: 'ok',
  HEALTH_STATUS_UNSTABLE: 'unstable',
  HEALTH_STATUS_ERR: 'err',
};

/** The wire enum as the model names it (unknown values read as unchecked). */
export function heartbeatStatusOf(status: HealthStatus | string): HeartbeatStatus {
  return STATUS[status as HealthStatus & string] ?? 'unchecked';
}

class CachedUpstream implements UpstreamView {
  constructor(
    readonly spec: UpstreamSpec,
    readonly version: number,
    readonly heartbeat: boolean,
    private readonly peers: ReadonlyMap<PeerId, PeerHealth>,
    private readonly passiveVerdicts: ReadonlyMap<PeerId, PassiveVerdict>,
    /** Configuration fingerprint: equal fingerprints share one spec object. */
    readonly fingerprint: string,
  ) {}

  health(id: PeerId): PeerHealth | undefined {
    return this.peers.get(id);
  }

  passive(id: PeerId): PassiveVerdict | undefined {
    return this.passiveVerdicts.get(id);
  }
}

export class SnapshotCache {
  private readonly upstreams = new Map<string, CachedUpstream>();

  upstream(skey: string): UpstreamView | undefined {
    return this.upstreams.get(skey);
  }

  has(skey: string): boolean {
    return this.upstreams.has(skey);
  }

  get size(): number {
    return this.upstreams.size;
  }

  /** skey -> version held, for resuming a Watch without a full resend. */
  versions(): Record<string, number> {
    return Object.fromEntries([...this.upstreams].map(([k, u]) => [k, u.version]));
  }

  /** Applies one snapshot; ignores one older than what is held. Throws if it does not validate. */
  apply(s: UpstreamSnapshot__Output): void {
    const held = this.upstreams.get(s.skey);
    if (held !== undefined && held.version >= s.version) return;
    const options = structToJson(s.config);
    const cluster: Record<string, RawCluster> = {};
    const peers = new Map<PeerId, PeerHealth>();
    const passive = new Map<PeerId, PassiveVerdict>();
    for (const c of s.clusters) {
      cluster[c.key] = {
        servers: c.peers.map((p) => {
          const srv = p.server!;
          const h = p.health;
          if (h !== null && h.status !== 'HEALTH_STATUS_UNCHECKED') {
            const status = heartbeatStatusOf(h.status);
            const probeStatus = heartbeatStatusOf(h.probeStatus);
            peers.set(peerId(srv.host, srv.port), {
              status,
              failNum: h.failNum,
              lastModified: h.lastModifiedMs,
              msg: h.msg === '' ? null : h.msg,
              ...(probeStatus !== 'unchecked' && probeStatus !== status ? { probeStatus } : {}),
              ...(h.protected ? { protection: { reason: h.protectedReason } } : {}),
              ...(h.dampedUntilMs > 0 ? { dampedUntil: h.dampedUntilMs } : {}),
            });
          }
          if (p.passiveStatus === 'PASSIVE_STATUS_ERR') passive.set(peerId(srv.host, srv.port), { failedCount: p.passiveFailedCount, untilWall: p.passiveUntilMs });
          return { host: srv.host, port: srv.port, weight: srv.weight, max_fails: srv.maxFails, fail_timeout: srv.failTimeoutMs / 1000, ...(srv.down ? { down: true } : {}) };
        }),
        ...(c._try === 'try' ? { try: c.try } : {}),
      };
    }
    const fingerprint = JSON.stringify([options, cluster]);
    let spec = held?.fingerprint === fingerprint ? held.spec : undefined;
    if (spec === undefined) {
      const parsed = parseUpstream(s.skey, { ...options, cluster }, ['snapshot'], { requireServers: false });
      if (!parsed.ok) throw new Error(`snapshot of ${s.skey} does not validate: ${parsed.errors.join('; ')}`);
      spec = parsed.value;
    }
    this.upstreams.set(s.skey, new CachedUpstream(spec, s.version, s.heartbeat, peers, passive, fingerprint));
  }

  remove(skey: string): void {
    this.upstreams.delete(skey);
  }
}
