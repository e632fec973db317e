/**
 * One instance's part in a cluster (docs/cluster.md): membership, probe ownership, fenced
 * verdicts, and the fleet-wide passive window.
 *
 * - Membership: every `leaseTtl / 3` the instance renews its entry (expiring after `leaseTtl`,
 *   Redis time) and reads the live members.
 * - Ownership: shards go to members by rendezvous hashing (shard-map.ts). The instance claims
 *   or renews the leases of its shards in one script call; a new lease takes the next fencing
 *   epoch. It probes a target only while it holds the target's shard lease, and lets go of
 *   shards a newcomer should own. A dead instance's leases expire after `leaseTtl`; the others
 *   see it gone from the members on their next renewal and claim its shards: probed again
 *   within leaseTtl + leaseTtl / 3 + the first probe's delay (docs: within 2 intervals).
 * - Verdicts: the health checker publishes each change of an owned peer's status or raw result
 *   at once (coalesced per upstream into one stream entry). The script refuses a verdict whose
 *   lease value ("<instance> <epoch>") is no longer current: an instance that was paused past its
 *   lease cannot overwrite its successor. Every instance applies the entries in stream order
 *   with the entry's revision as the version, the owner included. The node does not read the
 *   stream itself: the store's reader (core/store/redis-store.ts) is the one reader of an
 *   instance and hands verdict entries in (applyVerdictEntry) between the admin changes, so
 *   both kinds are applied in one order and versions never go back.
 * - Anti-entropy: now and then the owner compares what it probed with what was applied and
 *   publishes again whatever differs, so a verdict lost to a Redis error repairs itself.
 * - Passive: failures reported to any instance are counted in one window per peer in Redis; the
 *   exclusion (within the ejection cap) and its end are stream entries like any other verdict.
 */
import type { Logger } from 'pino';
import { Redis } from 'ioredis';
import { maxPassiveEjections } from '../balance/ejection-cap.ts';
import { clusterBadEntries, clusterVerdictDelay, clusterVerdicts } from '../observability/metrics.ts';
import type { PassiveVerdict, PeerId, UpstreamSpec } from '../core/model.ts';
import { distinctPeers, peerId } from '../core/model.ts';
import type { UpstreamRegistry } from '../core/registry.ts';
import type { HealthChecker, ProbeOwnership } from '../health/health-checker.ts';
import type { PeerProbeState } from '../health/state-machine.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { DEFAULT_STREAM_MAXLEN, type ClusterKeys } from '../core/store/redis-keys.ts';
import { clusterHealthKeys, peerField, type ClusterHealthKeys } from './health-keys.ts';
import { CLAIM, HEARTBEAT, LEAVE, PASSIVE_FAIL, PASSIVE_LIFT, PASSIVE_RESTORE, PUBLISH_HEALTH, RELEASE } from './scripts.ts';
import { DEFAULT_SHARD_COUNT, shardOf, shardsOf, targetKeyOf } from './shard-map.ts';
import { healthVerdictJson, parseVerdictEntry } from './verdict-entry.ts';

/** Entries kept in the change stream (XADD MAXLEN ~): the same cap as the store's appends. */
const STREAM_MAXLEN = DEFAULT_STREAM_MAXLEN;
/** Anti-entropy runs every this many renewals. */
const ANTI_ENTROPY_EVERY = 12;

export interface ClusterNodeOptions {
  /** A connected-on-demand ioredis client for the node's scripts (closed by stop()). */
  readonly redis: Redis;
  /** The cluster's keys (`clusterKeys(NAME)`). */
  readonly keys: ClusterKeys;
  readonly instanceId: string;
  readonly registry: UpstreamRegistry;
  readonly clock: Clock;
  readonly logger: Pick<Logger, 'info' | 'warn'>;
  /** Lease and membership lifetime, ms. */
  readonly leaseTtlMs: number;
  readonly shardCount?: number;
  /** What other instances and operators see about this one (addresses). */
  readonly info?: Readonly<Record<string, unknown>>;
  /** The cluster epoch the instance is in step with (the store's); scripts that append check it. */
  readonly epoch: () => string;
  /**
   * Resolves once the instance's stream reader handled every entry up to `revision` (false
   * when it did not within a few seconds).
   */
  readonly reached: (revision: number) => Promise<boolean>;
}

/** A `verdict` entry of the change stream as the store's reader parsed its head. */
export interface VerdictStreamEntry {
  readonly rev: number;
  /** Epoch ms at which the owner published it. */
  readonly at: number;
  readonly skey: string;
  /** Every field of the entry. */
  readonly fields: ReadonlyMap<string, string>;
}

export interface ClusterNodeStatus {
  readonly instanceId: string;
  readonly members: readonly string[];
  readonly shardsHeld: number;
  readonly shardCount: number;
}

type Script = (...args: Array<string | number>) => Promise<unknown>;

export class ClusterNode implements ProbeOwnership {
  private readonly keys: ClusterHealthKeys;
  private readonly shardCount: number;
  private checker: HealthChecker | undefined;
  private members: string[] = [];
  /** shard -> lease value "<instance> <epoch>" while held. */
  private held = new Map<number, string>();
  /** Monotonic time until which the held leases are certainly ours (start of the last renewal + ttl). */
  private heldUntil = 0;
  private tickTimer: Timer | undefined;
  private ticks = 0;
  private stopped = false;
  private readonly pendingHealth = new Map<string, Map<PeerId, PeerProbeState>>();
  private healthFlush: Timer | undefined;
  private readonly pendingFailures = new Map<string, { skey: string; peer: PeerId; n: number }>();
  private failureFlush: Timer | undefined;
  private readonly lifts = new Map<string, Timer>();
  private lastRevision = 0;
  private readonly allowedCache = new WeakMap<UpstreamSpec, number>();
  /**
   * Entries handed in while the baseline is (re)loaded: applied after it, those newer than it.
   * Bounded: the store's reader hands in at most what the stream holds after the baseline.
   */
  private early: VerdictStreamEntry[] = [];
  /** True while verdict entries are applied as they come (false before start and during a rebase). */
  private following = false;
  private rebasing: Promise<void> | undefined;
  /** start() was called: stop() leaves the cluster (else there is nothing to give back). */
  private joined = false;
  private rebaseAgain = false;

  constructor(private readonly opts: ClusterNodeOptions) {
    this.keys = clusterHealthKeys(opts.keys);
    this.shardCount = opts.shardCount ?? DEFAULT_SHARD_COUNT;
    for (const [name, lua] of Object.entries({ hbeat: HEARTBEAT, leave: LEAVE, claim: CLAIM, release: RELEASE, publishHealth: PUBLISH_HEALTH, passiveFail: PASSIVE_FAIL, passiveLift: PASSIVE_LIFT, passiveRestore: PASSIVE_RESTORE })) {
      opts.redis.defineCommand(`checkups_${name}`, { lua });
    }
  }

  /** Links the health checker whose targets this node decides and whose verdicts it applies. */
  attach(checker: HealthChecker): void {
    this.checker = checker;
  }

  /**
   * Joins: reads the verdicts published so far (the new owner of a shard starts from them),
   * applies verdict entries from there on, renews membership and leases from now on.
   */
  async start(): Promise<void> {
    this.joined = true;
    await this.loadBaseline();
    await this.tick();
  }

  /**
   * The store replaced its state with a snapshot (its reader's entries were trimmed, or Redis
   * lost the cluster's data and it was seeded again): reload the published verdicts the same
   * way. After a reseed the published verdicts are gone, so this instance publishes again the
   * state of every target it probes, and puts back the passive exclusions it applies (so that
   * their end is published once, as usual).
   */
  rebase(why: 'trimmed' | 'reseeded'): void {
    if (why === 'reseeded') {
      for (const { skey, id, state } of this.checker?.unpublished(true) ?? []) this.publish(skey, id, state);
      void this.restoreExclusions();
    }
    if (this.rebasing !== undefined) {
      this.rebaseAgain = true;
      return;
    }
    this.rebasing = (async () => {
      do {
        this.rebaseAgain = false;
        try {
          await this.loadBaseline();
        } catch (err) {
          this.opts.logger.warn({ module: 'cluster', err: (err as Error).message }, 'reloading the published verdicts failed; entries are applied from the stream meanwhile');
          this.resume();
        }
      } while (this.rebaseAgain && !this.stopped);
    })().finally(() => {
      this.rebasing = undefined;
    });
  }

  /** Applies a verdict entry delivered by the store's stream reader, in stream order. */
  applyVerdictEntry(e: VerdictStreamEntry): void {
    if (!this.following) {
      this.early.push(e);
      return;
    }
    if (e.rev <= this.lastRevision) return; // already in the baseline
    this.lastRevision = e.rev;
    this.applyFields(e.rev, e.skey, e.fields);
    clusterVerdictDelay.observe(Math.max(0, this.opts.clock.wallNow() - e.at) / 1000);
  }

  /** Applies the entries that arrived while the baseline was loaded, newer ones only. */
  private resume(): void {
    this.following = true;
    const early = this.early;
    this.early = [];
    for (const e of early) this.applyVerdictEntry(e);
  }

  /** Membership and ownership now; what it published and refused is counted in the metrics (checkups_cluster_*). */
  status(): ClusterNodeStatus {
    return { instanceId: this.opts.instanceId, members: [...this.members], shardsHeld: this.held.size, shardCount: this.shardCount };
  }

  owns(skey: string, id: PeerId): boolean {
    return this.held.has(shardOf(targetKeyOf(skey, id), this.shardCount)) && this.opts.clock.now() < this.heldUntil;
  }

  publish(skey: string, id: PeerId, state: PeerProbeState): void {
    let m = this.pendingHealth.get(skey);
    if (m === undefined) this.pendingHealth.set(skey, (m = new Map()));
    m.set(id, state);
    this.healthFlush ??= this.opts.clock.defer(() => {
      this.healthFlush = undefined;
      void this.flushHealth();
    });
  }

  /** A failed request to a peer, reported to this instance (Feedback, FeedbackBatch). */
  passiveFailure(skey: string, host: string, port: number): void {
    const peer = peerId(host, port);
    const k = peerField(skey, peer);
    const cur = this.pendingFailures.get(k);
    if (cur !== undefined) cur.n++;
    else this.pendingFailures.set(k, { skey, peer, n: 1 });
    this.failureFlush ??= this.opts.clock.defer(() => {
      this.failureFlush = undefined;
      void this.flushFailures();
    });
  }

  /** Leaves the cluster: gives the leases back at once so others take over without waiting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.tickTimer?.cancel();
    this.healthFlush?.cancel();
    this.failureFlush?.cancel();
    for (const t of this.lifts.values()) t.cancel();
    const r = this.opts.redis;
    try {
      if (!this.joined) throw new Error('not joined');
      if (this.held.size > 0) await this.script('release')(this.held.size, ...[...this.held.keys()].map((s) => this.leaseKey(s)), this.opts.instanceId);
      await this.script('leave')(2, this.keys.members, this.instanceKey(), this.opts.instanceId);
    } catch {
      // Redis away: the leases expire by themselves.
    }
    this.held.clear();
    r.disconnect();
  }

  private script(name: string): Script {
    const fn = (this.opts.redis as unknown as Record<string, Script>)[`checkups_${name}`]!;
    return fn.bind(this.opts.redis);
  }

  private leaseKey(shard: number): string {
    return `${this.keys.leasePrefix}${shard}`;
  }

  private instanceKey(): string {
    return `${this.keys.instancePrefix}${this.opts.instanceId}`;
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const startedAt = this.opts.clock.now();
    const ttl = this.opts.leaseTtlMs;
    try {
      const members = (await this.script('hbeat')(2, this.keys.members, this.instanceKey(), this.opts.instanceId, ttl, JSON.stringify({ at: this.opts.clock.wallNow(), ...this.opts.info }))) as string[];
      this.members = members;
      const desired = [...shardsOf(this.opts.instanceId, members, this.shardCount)];
      const epochs = (await this.script('claim')(1 + desired.length, this.keys.fence, ...desired.map((s) => this.leaseKey(s)), this.opts.instanceId, ttl)) as number[];
      const next = new Map<number, string>();
      desired.forEach((s, i) => {
        const e = Number(epochs[i]);
        if (e > 0) next.set(s, `${this.opts.instanceId} ${e}`);
      });
      const extra = [...this.held.keys()].filter((s) => !next.has(s));
      if (extra.length > 0) await this.script('release')(extra.length, ...extra.map((s) => this.leaseKey(s)), this.opts.instanceId);
      const changed = next.size !== this.held.size || [...next].some(([s, v]) => this.held.get(s) !== v);
      this.held = next;
      this.heldUntil = startedAt + ttl;
      if (changed) {
        this.opts.logger.info({ module: 'cluster', instance: this.opts.instanceId, members: members.length, shards: next.size }, 'probe ownership changed');
        // After the first renewal, gained shards were someone else's: probe them soon.
        this.checker?.reassign(this.ticks === 0 ? undefined : this.opts.registry.global.checkupTimerIntervalMs / 2);
      }
      if (++this.ticks % ANTI_ENTROPY_EVERY === 0) this.antiEntropy();
    } catch (err) {
      this.opts.logger.warn({ module: 'cluster', err: (err as Error).message }, 'renewing membership and leases failed; probing stops when the leases run out');
      if (this.opts.clock.now() >= this.heldUntil && this.held.size > 0) {
        this.held = new Map();
        this.checker?.reassign();
      }
    }
    if (!this.stopped) this.tickTimer = this.opts.clock.setTimer(Math.max(10, ttl / 3 - (this.opts.clock.now() - startedAt)), () => void this.tick());
  }

  /** Publishes again every owned peer whose probed state differs from the applied one. */
  private antiEntropy(): void {
    const checker = this.checker;
    if (checker === undefined) return;
    for (const { skey, id, state } of checker.unpublished()) this.publish(skey, id, state);
  }

  private async flushHealth(): Promise<void> {
    const batches = [...this.pendingHealth];
    this.pendingHealth.clear();
    for (const [skey, peers] of batches) {
      const keys = [this.keys.epoch, this.keys.revision, this.keys.changes, this.keys.verdicts, this.keys.touched];
      const args: Array<string | number> = [this.opts.epoch(), STREAM_MAXLEN, skey, Math.round(this.opts.clock.wallNow()), this.opts.instanceId];
      for (const [id, state] of peers) {
        const holder = this.held.get(shardOf(targetKeyOf(skey, id), this.shardCount));
        // Not ours any more: still sent with the last lease value we know, so the script refuses
        // it visibly (counted) rather than silently.
        keys.push(this.leaseKey(shardOf(targetKeyOf(skey, id), this.shardCount)));
        args.push(holder ?? `${this.opts.instanceId} 0`, id, healthVerdictJson(id, state));
      }
      try {
        const [rev, refused, example] = (await this.script('publishHealth')(keys.length, ...keys, ...args)) as [string, number, string?];
        if (rev === 'EPOCH') {
          // Redis lost the cluster's data: the store seeds it again, then everything owned is
          // published again (rebase); until then nothing is written.
          this.opts.logger.warn({ module: 'cluster', skey }, 'verdicts not published: the cluster epoch changed (Redis lost its data); publishing again once it is seeded');
          continue;
        }
        if (rev !== '0') clusterVerdicts.inc({ result: 'published' }, peers.size - Number(refused));
        if (Number(refused) > 0) {
          clusterVerdicts.inc({ result: 'refused' }, Number(refused));
          this.opts.logger.warn({ module: 'cluster', skey, refused: Number(refused), first: example }, 'verdicts refused: the shard lease moved on (stale fencing epoch)');
        }
      } catch (err) {
        // Anti-entropy publishes it again later.
        this.opts.logger.warn({ module: 'cluster', skey, err: (err as Error).message }, 'publishing verdicts failed');
      }
    }
  }

  private allowedEjections(spec: UpstreamSpec): number {
    let n = this.allowedCache.get(spec);
    if (n === undefined) this.allowedCache.set(spec, (n = maxPassiveEjections(distinctPeers(spec).length, spec.maxEjectionPercent)));
    return n;
  }

  /** The keys a script that publishes a passive verdict of `skey` touches, in the scripts' KEYS order. */
  private passiveVerdictKeys(skey: string): [string, string, string, string, string, string] {
    const k = this.keys;
    return [k.passive, `${k.ejectedPrefix}${skey}`, k.revision, k.changes, k.touched, k.epoch];
  }

  private async flushFailures(): Promise<void> {
    const batch = [...this.pendingFailures.values()];
    this.pendingFailures.clear();
    for (const { skey, peer, n } of batch) {
      const entry = this.opts.registry.upstream(skey);
      const server = entry?.server(peer);
      if (entry === undefined || server === undefined || server.maxFails === 0) continue;
      try {
        const res = await this.script('passiveFail')(
          7,
          this.keys.passiveWindows,
          ...this.passiveVerdictKeys(skey),
          skey,
          peer,
          n,
          server.maxFails,
          server.failTimeoutMs,
          this.allowedEjections(entry.spec),
          STREAM_MAXLEN,
          Math.round(this.opts.clock.wallNow()),
          this.opts.epoch(),
          this.opts.instanceId,
        );
        if (res === 'EPOCH') this.opts.logger.warn({ module: 'cluster', skey, peer }, 'passive failures not counted: the cluster epoch changed (Redis lost its data)');
      } catch (err) {
        this.opts.logger.warn({ module: 'cluster', skey, peer, err: (err as Error).message }, 'counting a passive failure in Redis failed');
      }
    }
  }

  /**
   * Reads the published verdicts and exclusions at one revision, waits until the stream reader
   * handled every entry up to it (so the upstreams they name are there), applies them, then the
   * verdict entries that came meanwhile, newer ones only. Verdict entries are held back meanwhile.
   */
  private async loadBaseline(): Promise<void> {
    this.following = false;
    const r = this.opts.redis;
    const res = await r.multi().get(this.keys.revision).hgetall(this.keys.verdicts).hgetall(this.keys.touched).hgetall(this.keys.passive).exec();
    if (res === null) throw new Error('reading the cluster verdicts was aborted');
    const [rev, verdicts, touched, passive] = res.map(([err, v]) => {
      if (err !== null) throw err;
      return v;
    }) as [string | null, Record<string, string>, Record<string, string>, Record<string, string>];
    const revision = Number(rev ?? 0);
    if (!(await this.opts.reached(revision))) {
      this.opts.logger.warn({ module: 'cluster', revision }, 'the change stream reader is behind the published verdicts; applying them anyway');
    }
    const bySkey = new Map<string, string[]>();
    for (const [field, json] of Object.entries(verdicts)) {
      const skey = field.slice(0, field.indexOf('\n'));
      (bySkey.get(skey) ?? bySkey.set(skey, []).get(skey)!).push(json);
    }
    for (const [skey, list] of bySkey) {
      const version = Math.max(Number(touched[skey] ?? 0), this.opts.registry.upstream(skey)?.version ?? 0);
      this.applyFields(version, skey, new Map([['type', 'health'], ['peers', `[${list.join(',')}]`]]));
    }
    const passiveBySkey = new Map<string, string[]>();
    for (const [field, json] of Object.entries(passive)) {
      const skey = field.slice(0, field.indexOf('\n'));
      (passiveBySkey.get(skey) ?? passiveBySkey.set(skey, []).get(skey)!).push(json);
    }
    for (const [skey, list] of passiveBySkey) {
      const version = Math.max(Number(touched[skey] ?? 0), this.opts.registry.upstream(skey)?.version ?? 0);
      this.applyFields(version, skey, new Map([['type', 'passive'], ['peers', `[${list.join(',')}]`]]));
    }
    this.lastRevision = Math.max(this.lastRevision, revision);
    this.resume();
  }

  /**
   * Applies one verdict entry at `version`. Its transitions are logged at info/warn only when
   * this instance published it (`by`); the others record them at debug (relayed), so each shows
   * up once in aggregated logs. The published state loaded on joining has no `by`: relayed too
   * (the publisher logged those transitions when they happened).
   */
  private applyFields(version: number, skey: string, fields: ReadonlyMap<string, string>): void {
    const parsed = parseVerdictEntry(fields);
    if (!parsed.ok) {
      clusterBadEntries.inc();
      this.opts.logger.warn({ module: 'cluster', stream: this.keys.changes, rev: version, skey, error: parsed.error }, 'verdict entry does not parse; skipped');
      this.opts.registry.advanceTo(version);
      return;
    }
    const e = parsed.entry;
    const relayed = e.by !== this.opts.instanceId;
    if (e.type === 'health') {
      for (const { peer, state } of e.peers) {
        if (this.checker !== undefined) this.checker.applyVerdict(skey, peer, state, version, relayed);
        else this.opts.registry.setHealth(skey, peer, state.health, version);
      }
    } else {
      for (const { peer, verdict } of e.peers) {
        this.opts.registry.setPassive(skey, peer, verdict, version, relayed);
        this.armLift(skey, peer, verdict);
      }
    }
    // The same version on every instance, whatever each saw before (see registry.touch).
    this.opts.registry.touch(skey, version);
  }

  private async restoreExclusions(): Promise<void> {
    const registry = this.opts.registry;
    for (const skey of registry.skeys()) {
      for (const [peer, verdict] of [...(registry.upstream(skey)?.passiveExclusions() ?? [])]) {
        try {
          const res = await this.script('passiveRestore')(3, this.keys.passive, `${this.keys.ejectedPrefix}${skey}`, this.keys.epoch, this.opts.epoch(), skey, peer, Math.round(verdict.untilWall), verdict.failedCount);
          if (res === 'EPOCH') return; // seeded again meanwhile: the next rebase restores them
        } catch (err) {
          this.opts.logger.warn({ module: 'cluster', skey, peer, err: (err as Error).message }, 'putting back a passive exclusion failed');
        }
        // A lift tried before it was back found nothing: try again now.
        this.armLift(skey, peer, verdict);
      }
    }
  }

  /** Every instance tries to lift an exclusion when it ends; the script lets only the first publish. */
  private armLift(skey: string, peer: PeerId, verdict: PassiveVerdict | undefined): void {
    const k = peerField(skey, peer);
    this.lifts.get(k)?.cancel();
    this.lifts.delete(k);
    if (verdict === undefined || this.stopped) return;
    const delay = Math.max(0, verdict.untilWall - this.opts.clock.wallNow());
    this.lifts.set(
      k,
      this.opts.clock.setTimer(delay, () => {
        this.lifts.delete(k);
        const retry = (why: string) => {
          this.opts.logger.warn({ module: 'cluster', skey, peer, err: why }, 'lifting a passive exclusion failed; trying again in 1 s');
          if (!this.stopped) this.lifts.set(k, this.opts.clock.setTimer(1000, () => this.armLift(skey, peer, verdict)));
        };
        this.script('passiveLift')(
          6,
          ...this.passiveVerdictKeys(skey),
          skey,
          peer,
          String(Math.round(verdict.untilWall)),
          STREAM_MAXLEN,
          Math.round(this.opts.clock.wallNow()),
          this.opts.epoch(),
          this.opts.instanceId,
        ).then(
          (res) => res === 'EPOCH' && retry('the cluster epoch changed (Redis lost its data)'),
          (err: Error) => retry(err.message),
        );
      }),
    );
  }
}
