/**
 * The operator's view of every upstream and peer, as plain JSON: what `GET /api/status` serves
 * (the status page's snapshot; `/events` brings the changes after it) and what the state gauges
 * of `/metrics` are filled from, so both always agree.
 *
 * A peer's `state` is the one word that says whether it is selectable and why not, in this
 * order: `down` (taken out by an operator), `passive` (excluded by max_fails until
 * `passive.until`), else its heartbeat status (ok, unstable, err, unchecked).
 */
import type { HeartbeatStatus } from '../core/model.ts';
import { peerId } from '../core/model.ts';
import type { UpstreamRegistry } from '../core/registry.ts';
import type { HealthCheckerStatus } from '../health/health-checker.ts';
import { peersByStatus, peerUp, probesInFlight, probeTargets } from '../observability/metrics.ts';

export type PeerState = HeartbeatStatus | 'down' | 'passive';

export interface PeerView {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly state: PeerState;
  /** Heartbeat status (unchecked when heartbeat is off or not probed yet). */
  readonly status: HeartbeatStatus;
  readonly down: boolean;
  /** Published passive state: err with the count and wall ms it ends, or ok. */
  readonly passive: { readonly status: 'ok' | 'err'; readonly failedCount: number; readonly until: number | null; readonly maxFails: number; readonly failTimeoutMs: number };
  readonly failNum: number;
  readonly msg: string | null;
  /** Wall ms of the last status change, null if never probed. */
  readonly lastModified: number | null;
  /** Wall ms and latency of the last probe, null if never probed. */
  readonly lastProbeAt: number | null;
  readonly lastProbeLatencyMs: number | null;
  readonly extras?: Readonly<Record<string, unknown>>;
}

export interface UpstreamView {
  readonly skey: string;
  readonly version: number;
  readonly typ: string;
  readonly mode: string;
  readonly heartbeat: boolean;
  readonly protected: boolean;
  /** Levels ascending, then named clusters. */
  readonly clusters: ReadonlyArray<{ readonly key: string; readonly peers: readonly PeerView[] }>;
}

export interface StatusView {
  readonly version: string;
  readonly startedAt: number;
  readonly now: number;
  readonly revision: number;
  readonly checker: { readonly alive: boolean; readonly lastCheckAt: number | null; readonly targets: number; readonly running: number; readonly latenessP99Ms: number } | null;
  readonly upstreams: readonly UpstreamView[];
  /** Sequence number of the newest event: follow `/events` from here (`?after=`). */
  readonly lastEventSeq: number;
}

export interface StatusSources {
  readonly registry: UpstreamRegistry;
  readonly checker: () => HealthCheckerStatus | undefined;
  readonly version: string;
  readonly startedAt: number;
  readonly wallNow: () => number;
  readonly lastEventSeq: () => number;
}

export function upstreamViews(registry: UpstreamRegistry): UpstreamView[] {
  return registry.skeys().map((skey) => {
    const entry = registry.upstream(skey)!;
    const spec = entry.spec;
    return {
      skey,
      version: entry.version,
      typ: spec.typ,
      mode: spec.mode,
      heartbeat: entry.heartbeat,
      protected: spec.protected,
      clusters: spec.clusters.map((c) => ({
        key: String(c.key),
        peers: c.servers.map((s): PeerView => {
          const id = peerId(s.host, s.port);
          const h = entry.heartbeat ? entry.health(id) : undefined;
          const status = h?.status ?? 'unchecked';
          const verdict = entry.passive(id);
          const passiveDown = verdict !== undefined;
          const last = h?.recent?.at(-1);
          return {
            id,
            host: s.host,
            port: s.port,
            weight: s.weight,
            state: s.down ? 'down' : passiveDown ? 'passive' : status,
            status,
            down: s.down,
            passive: { status: passiveDown ? 'err' : 'ok', failedCount: verdict?.failedCount ?? 0, until: verdict?.untilWall ?? null, maxFails: s.maxFails, failTimeoutMs: s.failTimeoutMs },
            failNum: h?.failNum ?? 0,
            msg: h?.msg ?? null,
            lastModified: h?.lastModified ?? null,
            lastProbeAt: last?.at ?? null,
            lastProbeLatencyMs: last?.latencyMs ?? null,
            ...(h?.extras !== undefined ? { extras: h.extras } : {}),
          };
        }),
      })),
    };
  });
}

export function statusView(src: StatusSources): StatusView {
  const st = src.checker();
  return {
    version: src.version,
    startedAt: src.startedAt,
    now: src.wallNow(),
    revision: src.registry.currentRevision,
    checker:
      st === undefined
        ? null
        : { alive: st.alive, lastCheckAt: st.lastCheckAt, targets: st.scheduler.targets, running: st.scheduler.running, latenessP99Ms: st.scheduler.lateness.p99 },
    upstreams: upstreamViews(src.registry),
    lastEventSeq: src.lastEventSeq(),
  };
}

const PEER_STATES: readonly PeerState[] = ['ok', 'unstable', 'err', 'unchecked', 'down', 'passive'];

/**
 * Sets the state gauges from the live view: peers by state per upstream (a peer listed in
 * several clusters counts once), optionally one series per peer, and the checker's load.
 */
export function fillStateMetrics(src: StatusSources, perPeer: boolean): void {
  peersByStatus.reset();
  peerUp.reset();
  for (const u of upstreamViews(src.registry)) {
    const seen = new Map<string, PeerState>();
    for (const c of u.clusters) {
      for (const p of c.peers) {
        const prev = seen.get(p.id);
        // Listed twice: selectable if any listing is.
        if (prev === undefined || (prev === 'down' && p.state !== 'down')) seen.set(p.id, p.state);
      }
    }
    const counts = new Map<PeerState, number>(PEER_STATES.map((s) => [s, 0]));
    for (const [id, state] of seen) {
      counts.set(state, counts.get(state)! + 1);
      if (perPeer) peerUp.set({ upstream: u.skey, peer: id }, state === 'ok' || state === 'unchecked' || state === 'unstable' ? 1 : 0);
    }
    for (const [state, n] of counts) peersByStatus.set({ upstream: u.skey, status: state }, n);
  }
  const st = src.checker();
  probesInFlight.set(st?.scheduler.running ?? 0);
  probeTargets.set(st?.scheduler.targets ?? 0);
}
