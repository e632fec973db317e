/**
 * HealthChecker: keeps one probe target per distinct peer of every upstream with heartbeat on,
 * runs them on the ProbeScheduler, folds results through the state machine and writes the
 * resulting health into the registry (which versions it and announces status changes).
 *
 * Follows registry changes at once: peers added by an update start probing, removed ones stop,
 * peers that stay keep their state; an upstream whose heartbeat is switched off stops probing.
 * A peer listed in several levels is probed once (the original probes it once per listing).
 */
import type { Logger } from 'pino';
import type { HeartbeatStatus, PeerHealth, PeerId, UpstreamSpec } from '../core/model.ts';
import { distinctPeers, peerId } from '../core/model.ts';
import type { RegistryChange, UpstreamRegistry } from '../core/registry.ts';
import { probeSeries } from '../observability/metrics.ts';
import type { Clock } from '../util/clock.ts';
import type { ProbeDeadline } from './probes/deadline.ts';
import type { ProbeTarget } from './probes/types.ts';
import { ProbeScheduler, type SchedulerStats, type WatchdogReport } from './scheduler.ts';
import { dampedUntil, flapCount, isDampingOn, recordFlap, type FlapState } from './flap-damping.ts';
import { applyResult, effectiveStatus, protectionOf, type Aggregate, type PeerProbeState, type ProbeResult } from './state-machine.ts';

export type ProbeRunner = (target: ProbeTarget, spec: UpstreamSpec, deadline: ProbeDeadline) => Promise<ProbeResult>;

/**
 * Cluster mode (docs/cluster.md): which targets this instance probes, and where its results go.
 * Without it every target is probed here and results go straight into the registry.
 */
export interface ProbeOwnership {
  /** True while this instance owns the target (holds its shard's lease). */
  owns(skey: string, id: PeerId): boolean;
  /**
   * A probe changed an owned peer's status or raw result: publish it. Nothing is applied here;
   * the verdict comes back to every instance, this one included, through applyVerdict().
   */
  publish(skey: string, id: PeerId, state: PeerProbeState): void;
}

export interface HealthCheckerOptions {
  readonly clock: Clock;
  readonly random?: () => number;
  readonly probe: ProbeRunner;
  /** Most probes in flight at once (default 512). */
  readonly concurrency?: number;
  /** Per-interval jitter as a fraction of the interval (default 0.02). */
  readonly jitter?: number;
  readonly logger?: Pick<Logger, 'info' | 'warn'>;
  readonly ownership?: ProbeOwnership;
  /** Called on every status change a probe result causes, the first verdict after start included. */
  readonly onTransition?: (transition: HealthTransition) => void;
}

/** A peer's heartbeat status changed. */
export interface HealthTransition {
  readonly skey: string;
  readonly peer: PeerId;
  /** `unchecked` for the first verdict. */
  readonly from: HeartbeatStatus;
  readonly to: HeartbeatStatus;
  /** The record after the change: message (the reason), fail_num, last results, extras. */
  readonly health: PeerHealth;
  /** Probe type (typ) of the upstream. */
  readonly typ: string;
  /**
   * Cluster mode: the verdict that caused it was published by another instance (or loaded from
   * what was published), which logs the transition; this instance records it at debug level.
   */
  readonly relayed: boolean;
}

export interface HealthCheckerStatus {
  /** Wall-clock ms of the last recorded probe result, or null. */
  readonly lastCheckAt: number | null;
  /** False when the watchdog found the loop stuck, or no probe started within two intervals while some were due. */
  readonly alive: boolean;
  readonly scheduler: SchedulerStats;
}

interface Target extends ProbeTarget {
  readonly skey: string;
  readonly id: PeerId;
  /** Its scheduler key (targetKey), made once: a fresh string per probe would be hashed again on every lookup. */
  readonly key: string;
}

interface PeerFlaps {
  readonly lastOwn: HeartbeatStatus;
  readonly state?: FlapState;
}

/** Probe state of one upstream: per-peer states plus the counts the aggregation rules read. */
interface UpstreamProbes {
  /** The upstream's distinct peers in spec order (the first one is what `protected` keeps). */
  members: ReadonlySet<PeerId>;
  /** The first of `members`. */
  first: PeerId | undefined;
  /** Applied state of every peer (in a cluster: the last published verdicts). */
  readonly peers: Map<PeerId, PeerProbeState>;
  /** Cluster mode: this instance's latest state of the peers it owns (ahead of `peers`). */
  readonly own: Map<PeerId, PeerProbeState>;
  /** Flap damping: each peer's last applied own status and its damping state (only when damping is on). */
  readonly flaps: Map<PeerId, PeerFlaps>;
  okRaw: number;
  errRaw: number;
  agg: Aggregate;
}

const targetKey = (skey: string, id: PeerId): string => `${skey}\n${id}`;

/**
 * Probes planned this close together start on one wake-up of the scheduler (see
 * SchedulerOptions.gatherMs), early by at most 1% of their interval (50 ms at 5 s, within the
 * 2% jitter). Few wake-ups with many probes each cost less per probe: 10,200 targets at 5 s
 * (2,000 probes a second) took 145-162 us of CPU a probe when gathered within 5 ms, 123-129 us
 * within 50-150 ms, as 30,000 targets (6,000 a second) take either way.
 */
const PROBE_GATHER_MS = 50;
const PROBE_GATHER_SHARE = 0.01;
/**
 * Time a wake-up spends starting probes before it lets the loop serve other work (see
 * SchedulerOptions.sliceMs): a TCP probe's start costs about 100 us, so 5 ms is 30-50 starts.
 */
const PROBE_SLICE_MS = 5;

export class HealthChecker {
  private readonly scheduler: ProbeScheduler<Target>;
  private readonly upstreams = new Map<string, UpstreamProbes>();
  private unsubscribe: (() => void) | undefined;
  private lastCheckAt: number | null = null;
  private lastWatchdog: WatchdogReport | null = null;
  /** Set while reassign() runs: first-probe bound of targets gained. */
  private firstWithinMs: number | undefined;

  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly opts: HealthCheckerOptions,
  ) {
    this.scheduler = new ProbeScheduler<Target>({
      clock: opts.clock,
      random: opts.random ?? Math.random,
      concurrency: opts.concurrency ?? 512,
      jitter: opts.jitter ?? 0.02,
      gatherMs: PROBE_GATHER_MS,
      gatherShare: PROBE_GATHER_SHARE,
      sliceMs: PROBE_SLICE_MS,
      interval: (t) => this.intervalOf(t),
      timeout: (t) => this.registry.upstream(t.skey)?.spec.timeoutMs ?? 5000,
      run: (t, deadline) => this.check(t, deadline),
      onWatchdog: (report) => {
        this.lastWatchdog = report;
        opts.logger?.warn({ module: 'health/scheduler', ...report }, report.stuck ? 'probe loop was stuck; restarted it' : 'probing cannot keep up: every slot busy while targets are overdue');
      },
    });
  }

  start(): void {
    if (this.unsubscribe !== undefined) return;
    this.unsubscribe = this.registry.subscribe((c) => this.onChange(c));
    for (const skey of this.registry.skeys()) this.sync(skey);
    this.scheduler.start();
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.scheduler.stop();
  }

  status(): HealthCheckerStatus {
    const scheduler = this.scheduler.stats();
    const interval = this.registry.global.checkupTimerIntervalMs;
    const idle = scheduler.targets > 0 && (scheduler.lastStartAt === null || this.opts.clock.now() - scheduler.lastStartAt > 2 * interval);
    return { lastCheckAt: this.lastCheckAt, alive: !(scheduler.watchdog?.stuck ?? false) && !idle, scheduler };
  }

  /**
   * Cluster mode: ownership changed; start probing targets gained, stop those lost. Targets
   * taken over from another instance get their first probe within `firstWithinMs` (not a whole
   * interval), so a dead owner's targets are probed again soon.
   */
  reassign(firstWithinMs?: number): void {
    this.firstWithinMs = firstWithinMs;
    try {
      for (const skey of this.registry.skeys()) this.sync(skey);
    } finally {
      this.firstWithinMs = undefined;
    }
  }

  /**
   * Cluster mode: applies a published verdict (from any owner, this one included) at `version`,
   * the revision of the change-stream entry that carried it. `relayed`: another instance
   * published it (see HealthTransition.relayed).
   */
  applyVerdict(skey: string, id: PeerId, state: PeerProbeState, version: number, relayed: boolean): void {
    const p = this.upstreams.get(skey);
    if (p === undefined || !p.members.has(id)) {
      this.registry.advanceTo(version);
      return;
    }
    const prev = p.peers.get(id);
    if (prev !== undefined) this.count(p, prev.lastRaw, -1);
    this.count(p, state.lastRaw, 1);
    p.peers.set(id, state);
    const agg = this.aggregate(p);
    if (agg.anyOk !== p.agg.anyOk || agg.allErr !== p.agg.allErr) {
      p.agg = agg;
      for (const other of p.members) this.publish(skey, p, other, version, relayed);
    } else {
      this.publish(skey, p, id, version, relayed);
    }
    this.registry.advanceTo(version);
  }

  /**
   * Cluster mode: owned peers whose probed status or raw result differs from the applied one
   * (`all`: every owned peer, to publish again after Redis lost the published verdicts).
   */
  *unpublished(all = false): Iterable<{ skey: string; id: PeerId; state: PeerProbeState }> {
    const ownership = this.opts.ownership;
    for (const [skey, p] of this.upstreams) {
      for (const [id, state] of p.own) {
        // What it probed before the shard moved on is not its to publish (the script would
        // refuse it, every round): forget it.
        if (ownership !== undefined && !ownership.owns(skey, id)) {
          p.own.delete(id);
          continue;
        }
        const applied = p.peers.get(id);
        if (all || applied === undefined || applied.health.status !== state.health.status || applied.lastRaw !== state.lastRaw) yield { skey, id, state };
      }
    }
  }

  /** Applied state of one peer (the last published verdict in a cluster). */
  probeState(skey: string, id: PeerId): PeerProbeState | undefined {
    return this.upstreams.get(skey)?.peers.get(id);
  }

  /** Targets this instance probes now. */
  get targets(): number {
    return this.scheduler.stats().targets;
  }

  /** For benchmarks: forget lateness samples collected so far. */
  resetLateness(): void {
    this.scheduler.resetLateness();
  }

  private onChange(change: RegistryChange): void {
    if (change.cause !== 'health' && change.cause !== 'passive') this.sync(change.skey);
  }

  /** Brings the targets of one upstream in line with its spec. */
  private sync(skey: string): void {
    const entry = this.registry.upstream(skey);
    const probes = this.upstreams.get(skey);
    const wanted = entry !== undefined && entry.heartbeat ? distinctPeers(entry.spec) : [];
    const keep = new Set(wanted.map((s) => peerId(s.host, s.port)));
    if (probes !== undefined) {
      for (const id of probes.members) {
        if (keep.has(id)) continue;
        this.scheduler.remove(targetKey(skey, id));
        const st = probes.peers.get(id);
        if (st !== undefined) this.count(probes, st.lastRaw, -1);
        probes.peers.delete(id);
        probes.own.delete(id);
        probes.flaps.delete(id);
      }
    }
    if (wanted.length === 0) {
      this.upstreams.delete(skey);
      return;
    }
    const p = probes ?? { members: new Set(), first: undefined, peers: new Map(), own: new Map(), flaps: new Map(), okRaw: 0, errRaw: 0, agg: { anyOk: false, allErr: false } };
    this.upstreams.set(skey, p);
    p.members = keep;
    p.first = keep.values().next().value;
    const ownership = this.opts.ownership;
    for (const s of wanted) {
      const id = peerId(s.host, s.port);
      const key = targetKey(skey, id);
      if (ownership === undefined || ownership.owns(skey, id)) {
        this.scheduler.add(key, { skey, id, host: s.host, port: s.port, key }, this.firstWithinMs);
      } else {
        // Lost to another instance: it continues from what was published.
        this.scheduler.remove(key);
        p.own.delete(id);
      }
    }
    // In a cluster, statuses come back through applyVerdict; nothing to republish here.
    if (ownership !== undefined) {
      p.agg = this.aggregate(p);
      return;
    }
    // Order or membership changed: the first peer and the counts may differ now.
    p.agg = this.aggregate(p);
    for (const id of p.members) this.publish(skey, p, id);
  }

  private intervalOf(t: Target): number {
    const global = this.registry.global.checkupTimerIntervalMs;
    const spec = this.registry.upstream(t.skey)?.spec;
    if (spec?.unhealthyIntervalMs === undefined) return global;
    const status = this.registry.upstream(t.skey)?.health(t.id)?.status;
    return status === 'err' || status === 'unstable' ? spec.unhealthyIntervalMs : global;
  }

  private async check(t: Target, deadline: ProbeDeadline): Promise<void> {
    const entry = this.registry.upstream(t.skey);
    if (entry === undefined || !entry.heartbeat) return;
    // A lease that ran out (a stalled renewal) stops probing at once, before reassign() runs.
    if (this.opts.ownership !== undefined && !this.opts.ownership.owns(t.skey, t.id)) return;
    const spec = entry.spec;
    let result: ProbeResult;
    const started = this.opts.clock.now();
    try {
      result = await this.opts.probe(t, spec, deadline);
    } catch (err) {
      result = { status: 'err', msg: deadline.expired ? 'timeout' : err instanceof Error ? err.message : String(err) };
    }
    const latencyMs = this.opts.clock.now() - started;
    result = { ...result, latencyMs };
    const series = probeSeries(spec.typ, deadline.expired ? 'timeout' : result.status);
    series.count.inc();
    series.duration.observe(latencyMs / 1000);
    // The target may have been removed (or its upstream replaced) while the probe ran.
    const p = this.upstreams.get(t.skey);
    if (p === undefined || !this.scheduler.has(t.key) || this.registry.upstream(t.skey)?.spec !== spec) return;
    this.record(t, p, spec, result);
  }

  private record(t: Target, p: UpstreamProbes, spec: UpstreamSpec, result: ProbeResult): void {
    const wallNow = this.opts.clock.wallNow();
    const ownership = this.opts.ownership;
    if (ownership !== undefined) {
      if (!ownership.owns(t.skey, t.id)) return;
      // A new owner starts from the last published verdict, never from "healthy".
      const next = applyResult(p.own.get(t.id) ?? p.peers.get(t.id), result, spec, wallNow);
      p.own.set(t.id, next);
      this.lastCheckAt = wallNow;
      const published = p.peers.get(t.id);
      if (published === undefined || published.health.status !== next.health.status || published.lastRaw !== next.lastRaw) ownership.publish(t.skey, t.id, next);
      return;
    }
    const prev = p.peers.get(t.id);
    const next = applyResult(prev, result, spec, wallNow);
    if (prev !== undefined) this.count(p, prev.lastRaw, -1);
    this.count(p, next.lastRaw, 1);
    p.peers.set(t.id, next);
    this.lastCheckAt = wallNow;
    const agg = this.aggregate(p);
    if (agg.anyOk !== p.agg.anyOk || agg.allErr !== p.agg.allErr) {
      p.agg = agg;
      for (const id of p.members) this.publish(t.skey, p, id);
    } else {
      this.publish(t.skey, p, t.id);
    }
  }

  private publish(skey: string, p: UpstreamProbes, id: PeerId, version?: number, relayed = false): void {
    const st = p.peers.get(id);
    if (st === undefined) return;
    const spec = this.registry.upstream(skey)?.spec;
    if (spec === undefined) return;
    const own = st.health.status;
    let status: HeartbeatStatus = effectiveStatus(own, id === p.first, p.agg, spec.protected);
    const now = this.opts.clock.now();
    const flap = this.trackFlaps(p, id, own, spec, now);
    const hold = dampedUntil(flap, now);
    // A damped peer is held err, whatever its probes or `protected` say.
    if (hold !== undefined) status = 'err';
    const protection = hold === undefined ? protectionOf(own, status) : undefined;
    const before = this.registry.upstream(skey)?.health(id)?.status;
    const health: PeerHealth = {
      ...st.health,
      status,
      ...(own !== status ? { probeStatus: own } : {}),
      ...(protection !== undefined ? { protection } : {}),
      ...(hold !== undefined ? { dampedUntil: hold.untilWall } : {}),
      ...(isDampingOn(spec.flapDamping) ? { flaps: flapCount(flap, now, spec.flapDamping) } : {}),
    };
    if (this.registry.setHealth(skey, id, health, version)) {
      this.opts.onTransition?.({ skey, peer: id, from: before ?? 'unchecked', to: status, health, typ: spec.typ, relayed });
    }
  }

  /**
   * Counts a change of the peer's own (applied) status as a flap. Done where statuses are
   * applied, so every instance of a cluster damps the same verdict sequence the same way.
   */
  private trackFlaps(p: UpstreamProbes, id: PeerId, own: HeartbeatStatus, spec: UpstreamSpec, now: number): FlapState | undefined {
    if (!isDampingOn(spec.flapDamping)) return undefined;
    const prev = p.flaps.get(id);
    if (prev === undefined || prev.lastOwn === own) {
      if (prev === undefined) p.flaps.set(id, { lastOwn: own });
      return prev?.state;
    }
    const state = recordFlap(prev.state, now, this.opts.clock.wallNow(), spec.flapDamping);
    p.flaps.set(id, { lastOwn: own, state });
    return state;
  }

  private aggregate(p: UpstreamProbes): Aggregate {
    return { anyOk: p.okRaw > 0, allErr: p.members.size > 0 && p.errRaw === p.members.size };
  }

  private count(p: UpstreamProbes, raw: PeerProbeState['lastRaw'], delta: number): void {
    if (raw === 'ok') p.okRaw += delta;
    else if (raw === 'err') p.errRaw += delta;
  }
}
