/**
 * The operator's view of every upstream and peer, as plain JSON: what `GET /api/status` serves
 * (the status page's snapshot; `/events` brings the changes after it) and what the state gauges
 * of `/metrics` are filled from, so both always agree.
 *
 * A peer's `state` is the one word that says whether it is selectable and why not, in this
 * order: `down` (taken out by an operator), `passive` (excluded by max_fails until
 * `passive.until`), else its heartbeat status (ok, unstable, err, unchecked).
 */
import type { HeartbeatStatus, ServerSpec } from '../core/model.ts';
import { serverPeerId } from '../core/model.ts';
import type { UpstreamEntry, UpstreamRegistry } from '../core/registry.ts';
import type { HealthCheckerStatus } from '../health/health-checker.ts';
import { PEER_UP_HELP, PEER_UP_NAME, peersByStatus, probesInFlight, probeTargets } from '../observability/metrics.ts';

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
          const id = serverPeerId(s);
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
            state: peerState(entry, s, id),
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

/** The one word for a listing of peer `id` (see the top of this file). */
function peerState(entry: UpstreamEntry, server: ServerSpec, id: string): PeerState {
  if (server.down) return 'down';
  if (entry.passive(id) !== undefined) return 'passive';
  return (entry.heartbeat ? entry.health(id)?.status : undefined) ?? 'unchecked';
}

/** Prometheus text format: a label value with backslash, double quote and newline escaped. */
function labelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

interface UpstreamStateMetrics {
  readonly entry: UpstreamEntry;
  readonly version: number;
  /** This upstream's lines of checkups_peer_up ('' when per-peer series are off). */
  readonly peerUpLines: string;
}

/**
 * The state gauges of `/metrics`: peers by state per upstream (a peer listed in several
 * clusters counts once, selectable if any listing is), optionally one `checkups_peer_up` series
 * per peer, and the checker's load.
 *
 * A scrape recomputes only the upstreams whose version changed since the previous scrape (an
 * upstream's version moves on every change of its spec, health or passive verdicts). The
 * per-peer series are rendered as exposition text here and kept per upstream, not held in
 * prom-client: at 30,000 peers, setting and formatting them through prom-client on every scrape
 * held the event loop about 100 ms, delaying probes and verdicts each time Prometheus came by.
 */
export class StateMetrics {
  private readonly upstreams = new Map<string, UpstreamStateMetrics>();

  constructor(
    private readonly src: StatusSources,
    private readonly perPeer: boolean,
  ) {}

  /** Brings the gauges in line with the registry (run before every scrape). */
  fill(): void {
    const registry = this.src.registry;
    for (const skey of this.upstreams.keys()) {
      if (registry.upstream(skey) !== undefined) continue;
      this.upstreams.delete(skey);
      for (const status of PEER_STATES) peersByStatus.remove({ upstream: skey, status });
    }
    for (const skey of registry.skeys()) {
      const entry = registry.upstream(skey)!;
      const cached = this.upstreams.get(skey);
      if (cached !== undefined && cached.entry === entry && cached.version === entry.version) continue;
      this.upstreams.set(skey, this.measure(skey, entry));
    }
    const st = this.src.checker();
    probesInFlight.set(st?.scheduler.running ?? 0);
    probeTargets.set(st?.scheduler.targets ?? 0);
  }

  /** The checkups_peer_up family as exposition text ('' when off), as of the last fill(). */
  peerUpText(): string {
    if (!this.perPeer) return '';
    const parts = [`# HELP ${PEER_UP_NAME} ${PEER_UP_HELP}\n# TYPE ${PEER_UP_NAME} gauge\n`];
    for (const u of this.upstreams.values()) parts.push(u.peerUpLines);
    return parts.join('');
  }

  private measure(skey: string, entry: UpstreamEntry): UpstreamStateMetrics {
    const seen = new Map<string, PeerState>();
    for (const c of entry.spec.clusters) {
      for (const s of c.servers) {
        const id = serverPeerId(s);
        const state = peerState(entry, s, id);
        const prev = seen.get(id);
        if (prev === undefined || (prev === 'down' && state !== 'down')) seen.set(id, state);
      }
    }
    const counts = new Map<PeerState, number>(PEER_STATES.map((st) => [st, 0]));
    const lines: string[] = [];
    const upstreamLabel = `${PEER_UP_NAME}{upstream="${labelValue(skey)}",peer="`;
    for (const [id, state] of seen) {
      counts.set(state, counts.get(state)! + 1);
      if (this.perPeer) lines.push(`${upstreamLabel}${labelValue(id)}"} ${state === 'ok' || state === 'unchecked' || state === 'unstable' ? 1 : 0}\n`);
    }
    for (const [status, n] of counts) peersByStatus.set({ upstream: skey, status }, n);
    return { entry, version: entry.version, peerUpLines: lines.join('') };
  }
}
