/**
 * The upstream registry: the one source of truth for upstream specs and per-peer heartbeat
 * health. One writer at a time (the event loop), versioned, emitting a change event for every
 * change. Config loading and admin writes put specs in; the health checker puts health in;
 * Watch and xDS streams and the selection engine read out.
 *
 * Versions: one registry-wide revision counter; every change stamps the upstream it touched
 * with the next revision. A version therefore increases on every change of that upstream and
 * orders changes across upstreams too.
 *
 * In a cluster (docs/cluster.md) the revision comes from the shared change stream instead: each
 * write takes the `version` of the stream entry that carries it (put/delete/setHealth with a
 * `version`), and `advanceTo` follows entries that change nothing here. Entries are applied in
 * stream order, so versions still only go forward, and every instance hands out the same ones.
 *
 * State across updates (docs/compat.md): a put keeps the health record of every
 * peer (host:port) that stays in the upstream, in whatever level; records of removed peers are
 * dropped (the original keeps them forever; see docs/compat.md).
 *
 * Cost: a health or passive update is O(1) (membership by id, no scan of the upstream). Each
 * entry keeps a short log of its recently changed peers so readers holding an older version (the
 * balancer's skip masks, the engine adopting verdicts) apply just those instead of re-reading
 * every peer.
 *
 * Slow start: each entry remembers, per peer, when it last became usable (on the injected
 * clock) - a peer added to an existing upstream, one whose heartbeat status leaves err, one an
 * operator sets up again (no longer `down` in any cluster that lists it). The peers of an upstream
 * that is just created, and peers that were usable all along, do not ramp. Passive exclusions do
 * not restart a ramp: they are each process's own short windows (docs/compat.md).
 */
import type { CheckupsConfig, GlobalSpec, PassiveVerdict, PeerHealth, PeerId, ServerSpec, UpstreamSpec } from './model.ts';
import { distinctPeers, heartbeatEnabled, peerId } from './model.ts';
import { ChangeLog } from '../util/change-log.ts';

export type ChangeCause = 'created' | 'updated' | 'health' | 'passive' | 'deleted';

export interface RegistryChange {
  readonly skey: string;
  /** The upstream's new version (for `deleted`: the revision of the deletion). */
  readonly version: number;
  readonly cause: ChangeCause;
  /** For `health` and `passive`: the peer whose status changed. */
  readonly peer?: PeerId;
  /**
   * For `passive`, cluster mode: the verdict was published by another instance, which logs the
   * transition (this one records it at debug level). Absent otherwise.
   */
  readonly relayed?: true;
}

export type ChangeListener = (change: RegistryChange) => void;

/** The registry's time: slow-start ramps start on it (the selection engine must share it). */
export interface MonotonicClock {
  now(): number;
}

const performanceClock: MonotonicClock = { now: () => performance.now() };

/** Peer changes remembered per upstream for incremental readers (see peerChangesSince). */
export const PEER_LOG_SIZE = 256;
/**
 * Peer writes remembered per upstream for incremental encoders (see peersTouchedSince): twice
 * the upstream's peers, between 16 and this. More would not pay: past that many writes, reading
 * every peer costs no more than reading the log. And probing writes every upstream's peers over
 * and over, so each log fills up: 10,000 upstreams of 3 peers hold 96 entries each, not 1,024.
 */
export const PEER_TOUCH_LOG_SIZE = 1024;

function touchLog(members: ReadonlyMap<PeerId, ServerSpec>, floor: number): ChangeLog<PeerId> {
  return new ChangeLog(Math.min(PEER_TOUCH_LOG_SIZE, Math.max(16, 2 * members.size)), floor);
}

/** One upstream as the registry holds it; also the view the selection engine reads. */
export class UpstreamEntry {
  /** @internal */ readonly peers = new Map<PeerId, PeerHealth>();
  /** Each distinct peer's first listing (as distinctPeers gives it), by id. */
  private members: ReadonlyMap<PeerId, ServerSpec>;
  /** Peers listed without `down` in at least one cluster. */
  private upIds: ReadonlySet<PeerId>;
  /** @internal Slow start: when each peer last became usable (clock ms); absent = usable all along, or not usable. */
  readonly rampStarts = new Map<PeerId, number>();
  /** The last PEER_LOG_SIZE health/passive changes since the spec was set, by version (never reaching back past the spec's). */
  private readonly changeLog: ChangeLog<PeerId>;
  /** Every write of a peer's record since the spec was set, by peersRevision. */
  private touchLog: ChangeLog<PeerId>;
  /** @internal */ readonly passiveVerdicts = new Map<PeerId, PassiveVerdict>();
  /**
   * @internal The shared-log revision `version` was last set from (0: set by this registry).
   * The changes one log entry (or one loaded baseline) carries are applied together under that
   * entry's revision: the second peer of an entry must not get revision + 1, or instances that
   * applied the same entries would show different versions.
   */
  logRevision = 0;
  private touches = 0;

  constructor(
    public spec: UpstreamSpec,
    public version: number,
    public heartbeat: boolean,
    private readonly clock: MonotonicClock = performanceClock,
  ) {
    this.members = membersOf(spec);
    this.upIds = upIdsOf(spec);
    this.changeLog = new ChangeLog(PEER_LOG_SIZE, version);
    this.touchLog = touchLog(this.members, this.touches);
  }

  /**
   * Bumped on every write of a peer's health or passive record, including those that keep the
   * version (a new failure count or message: setHealth), and on a new spec. With `version` it
   * tells a reader whether anything a status shows of this upstream can have changed (GetStatus
   * reuses its encoded bytes of an upstream until then), and peersTouchedSince which peers.
   */
  get peersRevision(): number {
    return this.touches;
  }

  /**
   * Slow start: when the peer's ramp began, while it is within the upstream's slow_start window;
   * undefined when it has its full weight (or slow start is off).
   */
  rampStart(id: PeerId): number | undefined {
    const at = this.rampStarts.get(id);
    if (at === undefined) return undefined;
    const window = this.spec.slowStart.windowMs;
    return window > 0 && this.clock.now() - at < window ? at : undefined;
  }

  /** @internal Usable as far as the registry knows: listed up somewhere, and not heartbeat err. */
  usable(id: PeerId): boolean {
    return this.upIds.has(id) && !(this.heartbeat && this.peers.get(id)?.status === 'err');
  }

  /** @internal */ now(): number {
    return this.clock.now();
  }

  health(id: PeerId): PeerHealth | undefined {
    return this.peers.get(id);
  }

  has(id: PeerId): boolean {
    return this.members.has(id);
  }

  /** The peer's server entry (its first listing when several clusters list it), in O(1). */
  server(id: PeerId): ServerSpec | undefined {
    return this.members.get(id);
  }

  /** The published passive exclusion of a peer, if any. */
  passive(id: PeerId): PassiveVerdict | undefined {
    return this.passiveVerdicts.get(id);
  }

  /** Every published passive exclusion of this upstream. */
  passiveExclusions(): IterableIterator<[PeerId, PassiveVerdict]> {
    return this.passiveVerdicts.entries();
  }

  /**
   * Peers whose heartbeat status or passive verdict changed after `version` (oldest first,
   * possibly repeated), or
   * undefined when that is not known: the spec changed since, or the log no longer reaches back
   * that far. Then the caller re-reads the whole upstream.
   */
  peerChangesSince(version: number): PeerId[] | undefined {
    return this.changeLog.since(version);
  }

  /**
   * Peers whose health or passive record was written after `peersRevision` (any write, also one
   * that kept the version), or undefined when that is not known (the spec changed since, or the
   * log no longer reaches back that far): then the caller reads every peer.
   */
  peersTouchedSince(peersRevision: number): PeerId[] | undefined {
    return this.touchLog.since(peersRevision);
  }

  /** @internal A write of `id`'s health or passive record. */
  touchPeer(id: PeerId): void {
    this.touchLog.record(++this.touches, id);
  }

  /** @internal */ setSpec(spec: UpstreamSpec, version: number, heartbeat: boolean): void {
    this.spec = spec;
    this.version = version;
    this.heartbeat = heartbeat;
    this.members = membersOf(spec);
    this.upIds = upIdsOf(spec);
    this.changeLog.clear(version);
    this.touchLog = touchLog(this.members, ++this.touches);
  }

  /** @internal */ logPeerChange(id: PeerId, version: number): void {
    this.changeLog.record(version, id);
    this.version = version;
  }
}

function membersOf(spec: UpstreamSpec): Map<PeerId, ServerSpec> {
  return new Map(distinctPeers(spec).map((s) => [peerId(s.host, s.port), s]));
}

function upIdsOf(spec: UpstreamSpec): Set<PeerId> {
  const out = new Set<PeerId>();
  for (const c of spec.clusters) for (const s of c.servers) if (!s.down) out.add(peerId(s.host, s.port));
  return out;
}

export class UpstreamRegistry {
  private readonly entries = new Map<string, UpstreamEntry>();
  private readonly listeners = new Set<ChangeListener>();
  private revision: number;
  private globalSpec: GlobalSpec;
  private readonly clock: MonotonicClock;

  /**
   * `initialRevision`: where versions start. The server starts them at its start time in
   * microseconds, so versions keep increasing across restarts and a client resuming with a
   * version from a previous run never mistakes a changed upstream for an unchanged one.
   */
  constructor(global: GlobalSpec, opts: { initialRevision?: number; clock?: MonotonicClock } = {}) {
    this.globalSpec = global;
    this.revision = opts.initialRevision ?? 0;
    this.clock = opts.clock ?? performanceClock;
  }

  /** Builds a registry holding every upstream of a validated config. */
  static fromConfig(config: CheckupsConfig, opts: { clock?: MonotonicClock } = {}): UpstreamRegistry {
    const registry = new UpstreamRegistry(config.global, opts);
    for (const spec of config.upstreams.values()) registry.put(spec);
    return registry;
  }

  get global(): GlobalSpec {
    return this.globalSpec;
  }

  /** The latest revision handed out. */
  get currentRevision(): number {
    return this.revision;
  }

  upstream(skey: string): UpstreamEntry | undefined {
    return this.entries.get(skey);
  }

  skeys(): string[] {
    return [...this.entries.keys()];
  }

  /**
   * Moves the revision forward to an externally assigned one (a change-stream entry that left
   * the registry as it was). Never moves it back.
   */
  advanceTo(revision: number): void {
    if (revision > this.revision) this.revision = revision;
  }

  /**
   * The next version of an upstream now at `previous`: the registry's own (`external`
   * undefined) or one from the shared log. A change made here without the log may already have
   * used that number for this upstream; a version is never reused nor goes back. The changes
   * of one log entry share its revision (UpstreamEntry.logRevision).
   */
  private stamp(external: number | undefined, entry?: UpstreamEntry): number {
    if (external === undefined) {
      if (entry !== undefined) entry.logRevision = 0;
      return ++this.revision;
    }
    const previous = entry?.version;
    const sameLogEntry = entry !== undefined && external === previous && entry.logRevision === external;
    const version = previous !== undefined && external <= previous && !sameLogEntry ? previous + 1 : external;
    this.advanceTo(version);
    if (entry !== undefined) entry.logRevision = version === external ? external : 0;
    return version;
  }

  /**
   * Creates or replaces an upstream (already validated). Returns its new version: `version`
   * when given (a change-stream revision), else the next revision.
   */
  put(spec: UpstreamSpec, version?: number): number {
    const heartbeat = heartbeatEnabled(spec, this.globalSpec);
    const existing = this.entries.get(spec.skey);
    const external = version;
    version = this.stamp(external, existing);
    if (existing === undefined) {
      const created = new UpstreamEntry(spec, version, heartbeat, this.clock);
      if (external !== undefined) created.logRevision = version;
      this.entries.set(spec.skey, created);
      this.emit({ skey: spec.skey, version, cause: 'created' });
      return version;
    }
    // Slow start: who was usable before, to ramp the peers this update makes usable.
    const wasUsable = new Set<PeerId>();
    for (const s of distinctPeers(spec)) {
      const id = peerId(s.host, s.port);
      if (existing.has(id) && existing.usable(id)) wasUsable.add(id);
    }
    existing.setSpec(spec, version, heartbeat);
    for (const id of existing.peers.keys()) if (!existing.has(id)) existing.peers.delete(id);
    for (const id of existing.passiveVerdicts.keys()) if (!existing.has(id)) existing.passiveVerdicts.delete(id);
    const now = existing.now();
    for (const id of existing.rampStarts.keys()) if (!existing.usable(id)) existing.rampStarts.delete(id);
    for (const s of distinctPeers(spec)) {
      const id = peerId(s.host, s.port);
      if (!wasUsable.has(id) && existing.usable(id)) existing.rampStarts.set(id, now);
    }
    this.emit({ skey: spec.skey, version, cause: 'updated' });
    return version;
  }

  /** Removes an upstream (at `version` when given). Returns false when it did not exist. */
  delete(skey: string, version?: number): boolean {
    if (!this.entries.delete(skey)) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    this.emit({ skey, version: this.stamp(version), cause: 'deleted' });
    return true;
  }

  /**
   * Records a peer's heartbeat health. Bumps the version (to `version` when given, a
   * change-stream revision) and emits only when the status, its protection or its damping hold
   * changed; counters and messages are updated in place without a new version.
   */
  setHealth(skey: string, id: PeerId, health: PeerHealth, version?: number): boolean {
    const entry = this.entries.get(skey);
    if (entry === undefined || !entry.has(id)) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    const before = entry.peers.get(id);
    entry.peers.set(id, health);
    entry.touchPeer(id);
    // Protection and damping are part of what a peer's status says (and of what clients show).
    if (before?.status === health.status && before.protection?.reason === health.protection?.reason && before.dampedUntil === health.dampedUntil) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    // Slow start: leaving err starts a ramp, entering err ends it (only heartbeat err counts).
    if (entry.heartbeat && (before?.status === 'err') !== (health.status === 'err')) {
      if (health.status === 'err') entry.rampStarts.delete(id);
      else if (entry.usable(id)) entry.rampStarts.set(id, entry.now());
    }
    entry.logPeerChange(id, this.stamp(version, entry));
    this.emit({ skey, version: entry.version, cause: 'health', peer: id });
    return true;
  }

  /**
   * Publishes (or with `undefined`, lifts) a peer's passive exclusion. Bumps the version (and
   * emits) when the exclusion appears, ends or gets a new end; a new count alone does not.
   * `relayed`: see RegistryChange.relayed.
   */
  setPassive(skey: string, id: PeerId, verdict: PassiveVerdict | undefined, version?: number, relayed = false): boolean {
    const entry = this.entries.get(skey);
    if (entry === undefined || !entry.has(id)) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    const before = entry.passiveVerdicts.get(id);
    if (verdict === undefined) entry.passiveVerdicts.delete(id);
    else entry.passiveVerdicts.set(id, verdict);
    entry.touchPeer(id);
    if (before?.untilWall === verdict?.untilWall) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    entry.logPeerChange(id, this.stamp(version, entry));
    this.emit({ skey, version: entry.version, cause: 'passive', peer: id, ...(relayed ? { relayed } : {}) });
    return true;
  }

  /**
   * Cluster mode: an entry of the shared log named this upstream (a verdict entry). Its version
   * becomes that revision even when nothing visible changed here, so the version is "the last
   * entry that named the upstream" on every instance, whether it applied each entry or loaded
   * the published state later. Emits (cause `health`, no peer) when the version moved.
   */
  touch(skey: string, version: number): boolean {
    this.advanceTo(version);
    const entry = this.entries.get(skey);
    if (entry === undefined || version <= entry.version) return false;
    entry.version = version;
    entry.logRevision = version;
    this.emit({ skey, version, cause: 'health' });
    return true;
  }

  /** Subscribes to changes; returns the unsubscribe function. Listeners run synchronously. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(change: RegistryChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (err) {
        // A broken subscriber must not undo or block a write that already happened.
        process.emitWarning(`checkups registry listener failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }
}
