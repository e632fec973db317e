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
 */
import type { CheckupsConfig, GlobalSpec, PassiveVerdict, PeerHealth, PeerId, UpstreamSpec } from './model.ts';
import { distinctPeers, heartbeatEnabled, peerId } from './model.ts';

export type ChangeCause = 'created' | 'updated' | 'health' | 'passive' | 'deleted';

export interface RegistryChange {
  readonly skey: string;
  /** The upstream's new version (for `deleted`: the revision of the deletion). */
  readonly version: number;
  readonly cause: ChangeCause;
  /** For `health` and `passive`: the peer whose status changed. */
  readonly peer?: PeerId;
}

export type ChangeListener = (change: RegistryChange) => void;

/** Peer changes remembered per upstream for incremental readers (see peerChangesSince). */
export const PEER_LOG_SIZE = 256;

/** One upstream as the registry holds it; also the view the selection engine reads. */
export class UpstreamEntry {
  /** @internal */ readonly peers = new Map<PeerId, PeerHealth>();
  /** Distinct peer ids of `spec`: membership checks without scanning the clusters. */
  private memberIds: ReadonlySet<PeerId>;
  /** Ring of the last PEER_LOG_SIZE health/passive changes since the spec was set: version, peer. */
  private readonly logVersions = new Float64Array(PEER_LOG_SIZE);
  private readonly logPeers = new Array<PeerId>(PEER_LOG_SIZE);
  private logCount = 0;
  /** Version of the newest change overwritten in the ring (the log is complete after it). */
  private droppedVersion = 0;
  /** Version the spec was set at: the log never reaches back past it. */
  private specVersion: number;
  /** @internal */ readonly passiveVerdicts = new Map<PeerId, PassiveVerdict>();

  constructor(
    public spec: UpstreamSpec,
    public version: number,
    public heartbeat: boolean,
  ) {
    this.memberIds = idsOf(spec);
    this.specVersion = version;
  }

  health(id: PeerId): PeerHealth | undefined {
    return this.peers.get(id);
  }

  has(id: PeerId): boolean {
    return this.memberIds.has(id);
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
    if (version < this.specVersion) return undefined;
    const out: PeerId[] = [];
    const oldest = Math.max(0, this.logCount - PEER_LOG_SIZE);
    for (let k = this.logCount - 1; k >= oldest; k--) {
      const slot = k % PEER_LOG_SIZE;
      if (this.logVersions[slot]! <= version) return out.reverse();
      out.push(this.logPeers[slot]!);
    }
    // Every logged change is newer: complete only if nothing newer was overwritten.
    return this.droppedVersion <= version ? out.reverse() : undefined;
  }

  /** @internal */ setSpec(spec: UpstreamSpec, version: number, heartbeat: boolean): void {
    this.spec = spec;
    this.version = version;
    this.heartbeat = heartbeat;
    this.memberIds = idsOf(spec);
    this.specVersion = version;
    this.logCount = 0;
    this.droppedVersion = 0;
  }

  /** @internal */ logPeerChange(id: PeerId, version: number): void {
    const slot = this.logCount % PEER_LOG_SIZE;
    if (this.logCount >= PEER_LOG_SIZE) this.droppedVersion = this.logVersions[slot]!;
    this.logVersions[slot] = version;
    this.logPeers[slot] = id;
    this.logCount++;
    this.version = version;
  }
}

function idsOf(spec: UpstreamSpec): Set<PeerId> {
  return new Set(distinctPeers(spec).map((s) => peerId(s.host, s.port)));
}

export class UpstreamRegistry {
  private readonly entries = new Map<string, UpstreamEntry>();
  private readonly listeners = new Set<ChangeListener>();
  private revision: number;
  private globalSpec: GlobalSpec;

  /**
   * `initialRevision`: where versions start. The server starts them at its start time in
   * microseconds, so versions keep increasing across restarts and a client resuming with a
   * version from a previous run never mistakes a changed upstream for an unchanged one.
   */
  constructor(global: GlobalSpec, opts: { initialRevision?: number } = {}) {
    this.globalSpec = global;
    this.revision = opts.initialRevision ?? 0;
  }

  /** Builds a registry holding every upstream of a validated config. */
  static fromConfig(config: CheckupsConfig): UpstreamRegistry {
    const registry = new UpstreamRegistry(config.global);
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
   * used that number for this upstream; a version is never reused nor goes back.
   */
  private stamp(external: number | undefined, previous?: number): number {
    if (external === undefined) return ++this.revision;
    const version = previous !== undefined && external <= previous ? previous + 1 : external;
    this.advanceTo(version);
    return version;
  }

  /**
   * Creates or replaces an upstream (already validated). Returns its new version: `version`
   * when given (a change-stream revision), else the next revision.
   */
  put(spec: UpstreamSpec, version?: number): number {
    const heartbeat = heartbeatEnabled(spec, this.globalSpec);
    const existing = this.entries.get(spec.skey);
    version = this.stamp(version, existing?.version);
    if (existing === undefined) {
      this.entries.set(spec.skey, new UpstreamEntry(spec, version, heartbeat));
      this.emit({ skey: spec.skey, version, cause: 'created' });
      return version;
    }
    existing.setSpec(spec, version, heartbeat);
    for (const id of existing.peers.keys()) if (!existing.has(id)) existing.peers.delete(id);
    for (const id of existing.passiveVerdicts.keys()) if (!existing.has(id)) existing.passiveVerdicts.delete(id);
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
    // Protection and damping are part of what a peer's status says (and of what clients show).
    if (before?.status === health.status && before.protection?.reason === health.protection?.reason && before.dampedUntil === health.dampedUntil) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    entry.logPeerChange(id, this.stamp(version, entry.version));
    this.emit({ skey, version: entry.version, cause: 'health', peer: id });
    return true;
  }

  /**
   * Publishes (or with `undefined`, lifts) a peer's passive exclusion. Bumps the version (and
   * emits) when the exclusion appears, ends or gets a new end; a new count alone does not.
   */
  setPassive(skey: string, id: PeerId, verdict: PassiveVerdict | undefined, version?: number): boolean {
    const entry = this.entries.get(skey);
    if (entry === undefined || !entry.has(id)) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    const before = entry.passiveVerdicts.get(id);
    if (verdict === undefined) entry.passiveVerdicts.delete(id);
    else entry.passiveVerdicts.set(id, verdict);
    if (before?.untilWall === verdict?.untilWall) {
      if (version !== undefined) this.advanceTo(version);
      return false;
    }
    entry.logPeerChange(id, this.stamp(version));
    this.emit({ skey, version: entry.version, cause: 'passive', peer: id });
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
