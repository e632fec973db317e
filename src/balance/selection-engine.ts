/**
 * The in-process checkups API: `selectPeer`, `readyOk`, `feedback`, `getUpsTimeout`
 * (docs/compat.md). The server's RPCs and the client SDK both call this,
 * over whatever UpstreamSource they hold (the registry, or the SDK's snapshot cache).
 *
 * Cluster order: without `clusterKey`, levels ascending then named clusters as written; with it,
 * only the named clusters (levels may be given as 1 or "1"), in that order, unknown ones skipped.
 * A pick falls through to the next cluster when no server of the current one is eligible.
 */
import type { ClusterKey, PassiveVerdict, PeerId, ServerSpec } from '../core/model.ts';
import { peerId } from '../core/model.ts';
import type { Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { defaultClassifier, type Classifier } from './classify.ts';
import { PassiveHealth, type PassiveRecord } from './passive.ts';
import { hashKeyFor, type RequestAttributes } from './request-key.ts';
import { runTries, type AttemptInfo } from './try-driver.ts';
import { toPeer, type SelectedPeer } from './peer.ts';
import { UpstreamBalancer, type ClusterBalancer, type UpstreamView } from './upstream-balancer.ts';
import { clip } from '../util/bounded-text.ts';

export type { SelectedPeer };

export interface UpstreamSource {
  upstream(skey: string): UpstreamView | undefined;
}

export interface SelectOptions {
  /** Key for `mode: hash` (else the request path). */
  readonly hashKey?: string;
  /** Clusters to try, in order (levels as numbers or numeric strings, names as strings). */
  readonly clusterKey?: readonly ClusterKey[];
  readonly request?: RequestAttributes;
}

export interface ReadyOkOptions extends SelectOptions {
  /** Highest number of failed attempts (overrides the upstream's `try`). */
  readonly try?: number;
  /** Budget for the summed duration of failed attempts, ms; 0 = unlimited. */
  readonly tryTimeoutMs?: number;
  /** Aborts the whole call: no new attempt starts, the attempt's signal fires. */
  readonly signal?: AbortSignal;
  /** Overrides result classification (default: see classify.ts). */
  readonly classify?: Classifier;
}

export interface UpsTimeout {
  readonly connectMs: number;
  readonly sendMs: number;
  readonly readMs: number;
}

interface UpstreamState {
  balancer: UpstreamBalancer;
  readonly passive: PassiveHealth;
  /** View version whose published passive verdicts were adopted last. */
  adoptedVersion: number;
}

export interface EngineOptions {
  /** Called with every attempt outcome of readyOk and every feedback(): the SDK forwards them to the server. */
  readonly onOutcome?: (skey: string, host: string, port: number, failed: boolean) => void;
  /** Called when this engine's own accounting excludes a peer: the server publishes it. */
  readonly onPassiveVerdict?: (skey: string, id: PeerId, verdict: PassiveVerdict) => void;
  /**
   * False: outcomes are not counted here, only published verdicts exclude (a cluster instance:
   * the fleet-wide window in Redis counts, so every instance excludes the same peers).
   */
  readonly countLocally?: boolean;
}

export class SelectionEngine {
  private readonly states = new Map<string, UpstreamState>();

  constructor(
    private readonly source: UpstreamSource,
    private readonly clock: Clock,
    private readonly opts: EngineOptions = {},
  ) {}

  /** Picks one peer and counts it as a success (what select_peer does). Throws CheckupsError. */
  selectPeer(skey: string, opts: SelectOptions = {}): SelectedPeer {
    const now = this.clock.now();
    const { view, state } = this.resolve(skey, now);
    const key = hashKeyFor(view.spec.mode, opts.hashKey, opts.request);
    for (const c of clustersFor(state.balancer, opts.clusterKey)) {
      const i = c.picker.pick(c.mask, key, now);
      if (i < 0) continue;
      this.account(skey, view.spec.maxEjectionPercent, state, c.spec.servers[i]!, false, now);
      return toPeer(c, i);
    }
    throw new CheckupsError('NO_SERVERS_AVAILABLE', `no servers available in upstream ${skey}`);
  }

  /**
   * Calls `attempt` with peers until one succeeds, `try` failed attempts were made, the
   * `tryTimeoutMs` budget is spent, or no eligible server is left. Resolves with the successful
   * result. At the try limit it settles as the last attempt did: rejects with its error, or
   * resolves with its failing result (as the original returns the callback's own values).
   * Otherwise rejects with CheckupsError NO_SERVERS_AVAILABLE or TRY_TIMEOUT_EXCEEDED.
   */
  async readyOk<T>(
    skey: string,
    attempt: (peer: SelectedPeer, info: AttemptInfo) => Promise<T> | T,
    opts: ReadyOkOptions = {},
  ): Promise<T> {
    const { view, state } = this.resolve(skey, this.clock.now());
    const spec = view.spec;
    const clusters = clustersFor(state.balancer, opts.clusterKey);
    const serverCount = clusters.reduce((n, c) => n + c.spec.servers.length, 0);
    return runTries<T>({
      skey,
      clock: this.clock,
      clusters,
      key: hashKeyFor(spec.mode, opts.hashKey, opts.request),
      tryLimit: Math.max(1, opts.try ?? spec.try ?? serverCount),
      tryTimeoutMs: opts.tryTimeoutMs ?? spec.tryTimeoutMs,
      classify: opts.classify ?? defaultClassifier(spec),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      refresh: () => {
        const current = this.source.upstream(skey);
        const latest = current !== undefined && current.spec === spec ? current : view;
        const at = this.clock.now();
        if (latest.version > state.adoptedVersion) this.adopt(latest, state, at);
        state.balancer.refresh(latest, state.passive, at);
      },
      peer: toPeer,
      outcome: (c, i, failed) => {
        const server = c.spec.servers[i]!;
        this.account(skey, spec.maxEjectionPercent, state, server, failed, this.clock.now());
        this.opts.onOutcome?.(skey, server.host, server.port, failed);
      },
      attempt,
    });
  }

  /** Reports the outcome of a request to host:port (feedback_status). Throws CheckupsError. */
  feedback(skey: string, host: string, port: number, failed: boolean): void {
    const now = this.clock.now();
    const { view, state } = this.resolve(skey, now);
    this.account(skey, view.spec.maxEjectionPercent, state, this.find(skey, state, host, port), failed, now);
    this.opts.onOutcome?.(skey, host, port, failed);
  }

  /** The server entry whose max_fails / fail_timeout feedback() applies to host:port. Throws CheckupsError. */
  feedbackTarget(skey: string, host: string, port: number): ServerSpec {
    return this.find(skey, this.resolve(skey, this.clock.now()).state, host, port);
  }

  private find(skey: string, state: UpstreamState, host: string, port: number): ServerSpec {
    const id = peerId(host, port);
    // The original uses the last match in cluster order.
    const found = state.balancer.positions.get(id)?.at(-1);
    if (found === undefined) throw new CheckupsError('UNKNOWN_PEER', `unknown peer ${clip(id)} in upstream ${clip(skey)}`);
    return state.balancer.clusters[found.cluster]!.spec.servers[found.index]!;
  }

  /** Connect, send and read timeouts of an upstream (get_ups_timeout), or undefined if unknown. */
  getUpsTimeout(skey: string): UpsTimeout | undefined {
    const spec = this.source.upstream(skey)?.spec;
    if (spec === undefined) return undefined;
    return { connectMs: spec.timeoutMs, sendMs: spec.sendTimeoutMs ?? spec.timeoutMs, readMs: spec.readTimeoutMs ?? spec.timeoutMs };
  }

  /** Passive state of one peer, for status output. */
  passive(skey: string, id: PeerId): Readonly<PassiveRecord> | undefined {
    return this.states.get(skey)?.passive.get(id);
  }

  /**
   * Changes whenever a failure count `passive` gives for this upstream may have changed (0: no
   * state yet), so status output can keep what it encoded from them until then.
   */
  passiveRevision(skey: string): number {
    return this.states.get(skey)?.passive.revision ?? 0;
  }

  /** Peers whose failure count `passive` gives may have changed after `revision` (a passiveRevision), or undefined when not known. */
  passiveCountsChangedSince(skey: string, revision: number): readonly PeerId[] | undefined {
    const state = this.states.get(skey);
    // No state yet (passiveRevision 0): every count is 0, as it was.
    if (state === undefined) return revision === 0 ? [] : undefined;
    return state.passive.countsChangedSince(revision);
  }

  /** Counts one outcome; announces an exclusion it causes. */
  private account(skey: string, maxEjectionPercent: number, state: UpstreamState, server: ServerSpec, failed: boolean, now: number): void {
    if (this.opts.countLocally === false) return;
    if (!state.passive.record(server, failed, now, state.balancer.peers, maxEjectionPercent) || this.opts.onPassiveVerdict === undefined) return;
    const id = peerId(server.host, server.port);
    const rec = state.passive.get(id)!;
    const untilWall = this.clock.wallNow() + (rec.windowStart + server.failTimeoutMs - now);
    this.opts.onPassiveVerdict(skey, id, { failedCount: rec.failedCount, untilWall });
  }

  /**
   * Takes over the exclusions the view publishes (once per view version): only the peers that
   * changed since the version last adopted when the view can say which (the registry can), so a
   * health flip at 10,000 servers does not re-read 10,000 verdicts.
   */
  private adopt(view: UpstreamView, state: UpstreamState, now: number): void {
    const since = state.adoptedVersion;
    state.adoptedVersion = view.version;
    const ids = (since >= 0 ? view.peerChangesSince?.(since) : undefined) ?? state.balancer.peers;
    const wallNow = this.clock.wallNow();
    for (const id of ids) {
      const verdict = view.passive(id);
      const at = verdict === undefined ? undefined : state.balancer.positions.get(id)?.[0];
      if (at === undefined) continue;
      state.passive.adopt(state.balancer.clusters[at.cluster]!.spec.servers[at.index]!, verdict!, now, wallNow, state.balancer.peers, view.spec.maxEjectionPercent);
    }
  }

  private resolve(skey: string, now: number): { view: UpstreamView; state: UpstreamState } {
    const view = this.source.upstream(skey);
    if (view === undefined) {
      this.states.delete(skey);
      throw new CheckupsError('UNKNOWN_SKEY', `unknown skey ${clip(skey)}`);
    }
    let state = this.states.get(skey);
    if (state === undefined) {
      state = { balancer: new UpstreamBalancer(view.spec), passive: new PassiveHealth(), adoptedVersion: -1 };
      this.states.set(skey, state);
    } else if (state.balancer.spec !== view.spec) {
      // A new spec restarts round-robin state for this upstream only; passive state of kept peers stays.
      state.balancer = new UpstreamBalancer(view.spec);
      state.passive.retain(new Set(state.balancer.peers));
    }
    if (view.version > state.adoptedVersion) this.adopt(view, state, now);
    state.balancer.refresh(view, state.passive, now);
    return { view, state };
  }
}

function clustersFor(balancer: UpstreamBalancer, keys: readonly ClusterKey[] | undefined): ClusterBalancer[] {
  if (keys === undefined) return balancer.clusters as ClusterBalancer[];
  const out: ClusterBalancer[] = [];
  for (const key of keys) {
    const c = balancer.clusters.find((x) => String(x.spec.key) === String(key));
    if (c !== undefined) out.push(c);
  }
  return out;
}
