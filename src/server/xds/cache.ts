/**
 * XdsResourceCache: the resources checkups serves, each encoded once per version.
 *
 * - Built from the registry: a spec change rebuilds all four kinds of the upstream's trees, a
 *   health change only the ClusterLoadAssignments, a DNS change only the CLAs using that name.
 *   A rebuilt resource whose bytes did not change keeps its version (no push).
 * - Lazily: a registry change only marks its upstream dirty (O(1) inside the registry's event);
 *   one scheduled flush per `coalesceMs` window rebuilds each dirty upstream once, whatever the
 *   number of changes. 1,000 of 10,000 peers failing one by one cost one CLA rebuild per window,
 *   not 1,000 (each O(servers)). `settle()` runs the flush now.
 * - On demand: ClusterLoadAssignments (the kind rebuilt on every health change, O(servers)) are
 *   built only for names some stream subscribes to (ResourceKind.onDemand). The hub says when a
 *   name gets its first subscriber and loses its last (`setWanted`); the first builds the CLA
 *   at once from the current state, so that stream's answer carries it. A mass failure on an
 *   upstream nobody asks for over xDS then costs no CLA at all. A CLA nobody wants any more is
 *   set aside ("parked"): rebuilt later byte-identical, it keeps its version.
 * - Encode once: a resource is serialized once per version, as google.protobuf.Any bytes
 *   already framed as a response entry; every stream sends those same bytes (`encodes` counts).
 * - Versions: one counter, `max(registry revision, last + 1)`, also for a CLA built on demand
 *   (so a version never goes back, however late a resource is built). Registry revisions start at the
 *   process start time in microseconds (main.ts), so versions never repeat across restarts and a
 *   client resuming with an old version never mistakes new data for what it holds. A type's
 *   version is the version of its latest change.
 * - Slow start: a ramping server's locality weight follows the ramp (resources/endpoint.ts), so
 *   while one ramps its upstream's CLAs are built again every RAMP_PUSHES-th of the window (at
 *   least every RAMP_MIN_STEP_MS), on the injected clock, until the ramp ends.
 * - Deleted resources stay a while as tombstones, so a stream can keep a removed Cluster in its
 *   full-state update until the Listener pointing at it is gone (make-before-break).
 * - A name deleted and created again gets a new generation (tree.ts), which its Listener and
 *   Cluster carry: grpc-js-xds <= 1.14.1 would ignore an identical comeback.
 */
import type { RegistryChange, UpstreamRegistry } from '../../core/registry.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { HostAddressBook, type ResolveHost } from './dns.ts';
import type { EnvoyCodec } from './proto.ts';
import { hostNamesOf } from './resources/endpoint.ts';
import { RESOURCE_KINDS, type EndpointContext } from './resources/index.ts';
import { skeyOfTree, treesOf, type ServiceTree } from './resources/tree.ts';
import type { XdsLogger } from './status.ts';
import { CLUSTER, PUSH_ORDER, type ResourceTypeUrl } from './type-urls.ts';
import { deltaResourceEntry } from './wire.ts';

/** Tombstones kept per type; the oldest go first. */
export const MAX_TOMBSTONES = 1024;

export interface CachedResource {
  readonly typeUrl: ResourceTypeUrl;
  readonly name: string;
  readonly version: string;
  /** google.protobuf.Any bytes. */
  readonly any: Buffer;
  /** DiscoveryResponse `resources` entry. */
  readonly sotwEntry: Buffer;
  /** DeltaDiscoveryResponse `resources` entry, made on first use. */
  deltaEntry: Buffer | undefined;
}

export interface ResourceChange {
  readonly typeUrl: ResourceTypeUrl;
  readonly name: string;
  readonly removed: boolean;
}

export type ChangeBatchListener = (changes: readonly ResourceChange[]) => void;

export interface XdsCacheOptions {
  readonly clock: Clock;
  readonly resolveHost: ResolveHost;
  readonly dnsRefreshMs: number;
  readonly logger?: XdsLogger;
  /** Changes within this window are rebuilt together, once per upstream (default 10 ms). */
  readonly coalesceMs?: number;
}

export const DEFAULT_XDS_COALESCE_MS = 10;
/** Pushes over one slow-start window (each a CLA update to every subscriber). */
const RAMP_PUSHES = 20;
const RAMP_MIN_STEP_MS = 500;

type RebuildScope = 'spec' | 'dynamic';

/** Types whose resources are built only while wanted (resources/kind.ts `onDemand`). */
const ON_DEMAND_TYPES: readonly ResourceTypeUrl[] = RESOURCE_KINDS.filter((k) => k.onDemand).map((k) => k.typeUrl);

type ResourceUpdate = { typeUrl: ResourceTypeUrl; name: string; any: Buffer; sotwEntry: Buffer };

export class XdsResourceCache {
  private readonly live = new Map<ResourceTypeUrl, Map<string, CachedResource>>(PUSH_ORDER.map((t) => [t, new Map()]));
  private readonly tombstones = new Map<ResourceTypeUrl, Map<string, CachedResource>>(PUSH_ORDER.map((t) => [t, new Map()]));
  /** Per on-demand type: names some stream subscribes to (as many as the hub's watch entries). */
  private readonly wanted = new Map<ResourceTypeUrl, Set<string>>(ON_DEMAND_TYPES.map((t) => [t, new Set()]));
  /** Per on-demand type: the last build of names nobody wants now (at most one per tree name). */
  private readonly parked = new Map<ResourceTypeUrl, Map<string, CachedResource>>(ON_DEMAND_TYPES.map((t) => [t, new Map()]));
  private readonly typeVersions = new Map<ResourceTypeUrl, string>();
  /** Resource names each upstream publishes (all kinds share the tree names). */
  private readonly namesBySkey = new Map<string, Set<string>>();
  private readonly hostsBySkey = new Map<string, Set<string>>();
  /** Deletions seen per tree name (ServiceTree.generation). */
  private readonly generations = new Map<string, number>();
  private readonly listeners = new Set<ChangeBatchListener>();
  private readonly dns: HostAddressBook;
  private lastVersion = 0;
  private encodeCount = 0;
  private rebuildCount = 0;
  /** Upstreams to rebuild at the next flush, with the widest scope asked for. */
  private readonly dirty = new Map<string, RebuildScope>();
  private timer: Timer | undefined;
  /** Upstreams with a peer in slow start: their CLAs are built again every ramp step. */
  private readonly rampTimers = new Map<string, Timer>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly codec: EnvoyCodec,
    private readonly opts: XdsCacheOptions,
  ) {
    this.dns = new HostAddressBook({
      resolve: opts.resolveHost,
      clock: opts.clock,
      refreshMs: opts.dnsRefreshMs,
      inUse: () => this.hostsInUse(),
      onChange: (host) => this.onHostChange(host),
      ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
    });
    const initial = this.nextVersion();
    for (const t of PUSH_ORDER) this.typeVersions.set(t, initial);
    this.unsubscribe = registry.subscribe((c) => this.onRegistryChange(c));
    for (const skey of registry.skeys()) this.rebuild(skey, 'spec');
  }

  /** Serializations performed so far (resources, not responses). */
  get encodes(): number {
    return this.encodeCount;
  }

  /** Upstream rebuilds performed so far (at most one per dirty upstream per flush). */
  get rebuilds(): number {
    return this.rebuildCount;
  }

  /** Upstreams waiting for the next flush. */
  get pendingRebuilds(): number {
    return this.dirty.size;
  }

  /** Rebuilds every dirty upstream now (the scheduled flush does the same). */
  settle(): void {
    this.timer?.cancel();
    this.timer = undefined;
    if (this.dirty.size === 0) return;
    const due = [...this.dirty];
    this.dirty.clear();
    for (const [skey, scope] of due) this.rebuild(skey, scope);
  }

  get(typeUrl: ResourceTypeUrl, name: string): CachedResource | undefined {
    return this.live.get(typeUrl)!.get(name);
  }

  /** The last version of a resource deleted recently, if still kept. */
  tombstone(typeUrl: ResourceTypeUrl, name: string): CachedResource | undefined {
    return this.tombstones.get(typeUrl)!.get(name);
  }

  names(typeUrl: ResourceTypeUrl): IterableIterator<string> {
    return this.live.get(typeUrl)!.keys();
  }

  version(typeUrl: ResourceTypeUrl): string {
    return this.typeVersions.get(typeUrl)!;
  }

  deltaEntry(res: CachedResource): Buffer {
    return (res.deltaEntry ??= deltaResourceEntry(res.name, res.version, res.any));
  }

  /**
   * Whether some stream subscribes to `name` of `typeUrl`: the hub calls this when a name gets
   * its first subscriber (true) and loses its last (false). Kinds built on demand are built for
   * such names only: the first subscriber gets the resource built now, if its upstream exists
   * (otherwise when it appears). That build is announced to no listener: the only stream
   * watching the name is the one asking, and it answers from the cache. Other kinds ignore this.
   */
  setWanted(typeUrl: ResourceTypeUrl, name: string, wanted: boolean): void {
    const names = this.wanted.get(typeUrl);
    if (names === undefined) return;
    if (!wanted) {
      names.delete(name);
      const res = this.get(typeUrl, name);
      if (res === undefined) return;
      this.live.get(typeUrl)!.delete(name);
      this.parked.get(typeUrl)!.set(name, res);
      return;
    }
    if (names.has(name)) return;
    names.add(name);
    const skey = skeyOfTree(name);
    const entry = this.registry.upstream(skey);
    if (entry === undefined || this.namesBySkey.get(skey)?.has(name) !== true) return;
    const trees = treesOf(entry.spec, (n) => this.generations.get(n) ?? 0).filter((t) => t.name === name);
    const { updates, ramping } = this.build(skey, trees, (kind) => kind.typeUrl === typeUrl);
    if (ramping) this.scheduleRamp(skey, entry.spec.slowStart.windowMs);
    if (updates.length > 0) this.apply(updates, []);
  }

  /** Listeners run synchronously after each batch of changes. Returns the unsubscribe function. */
  subscribe(listener: ChangeBatchListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves every host name again now (tests; the periodic refresh does the same). */
  refreshDns(): Promise<void> {
    return this.dns.refresh();
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.dirty.clear();
    for (const t of this.rampTimers.values()) t.cancel();
    this.rampTimers.clear();
    this.unsubscribe();
    this.dns.close();
    this.listeners.clear();
  }

  private nextVersion(): string {
    this.lastVersion = Math.max(this.registry.currentRevision, this.lastVersion + 1);
    return String(this.lastVersion);
  }

  private onRegistryChange(change: RegistryChange): void {
    this.markDirty(change.skey, change.cause === 'health' || change.cause === 'passive' ? 'dynamic' : 'spec');
  }

  private onHostChange(host: string): void {
    for (const [skey, hosts] of this.hostsBySkey) if (hosts.has(host)) this.markDirty(skey, 'dynamic');
  }

  private markDirty(skey: string, scope: RebuildScope): void {
    if (this.dirty.get(skey) !== 'spec') this.dirty.set(skey, scope);
    this.timer ??= this.opts.clock.setTimer(this.opts.coalesceMs ?? DEFAULT_XDS_COALESCE_MS, () => {
      this.timer = undefined;
      this.settle();
    });
  }

  /** While a peer of `skey` ramps (`windowMs` set), its CLAs are built again a step later. */
  private scheduleRamp(skey: string, windowMs: number | undefined): void {
    if (windowMs === undefined) {
      this.rampTimers.get(skey)?.cancel();
      this.rampTimers.delete(skey);
      return;
    }
    if (this.rampTimers.has(skey)) return;
    this.rampTimers.set(
      skey,
      this.opts.clock.setTimer(Math.max(RAMP_MIN_STEP_MS, windowMs / RAMP_PUSHES), () => {
        this.rampTimers.delete(skey);
        this.markDirty(skey, 'dynamic');
      }),
    );
  }

  private *hostsInUse(): Iterable<string> {
    for (const hosts of this.hostsBySkey.values()) yield* hosts;
  }

  /** Brings an upstream's resources up to date; `dynamic`: only kinds that depend on health/DNS. */
  private rebuild(skey: string, scope: RebuildScope): void {
    this.rebuildCount++;
    const entry = this.registry.upstream(skey);
    const before = this.namesBySkey.get(skey) ?? new Set<string>();
    const trees = entry === undefined ? [] : treesOf(entry.spec, (name) => this.generations.get(name) ?? 0);
    const removals: Array<{ typeUrl: ResourceTypeUrl; name: string }> = [];
    if (scope === 'spec') {
      const now = new Set(trees.map((t) => t.name));
      for (const name of before) {
        if (now.has(name)) continue;
        for (const t of PUSH_ORDER) if (this.get(t, name) !== undefined) removals.push({ typeUrl: t, name });
        for (const parkedOfType of this.parked.values()) parkedOfType.delete(name);
      }
      if (entry === undefined) {
        this.namesBySkey.delete(skey);
        this.hostsBySkey.delete(skey);
      } else {
        this.namesBySkey.set(skey, now);
        this.hostsBySkey.set(skey, hostNamesOf(entry.spec.clusters));
      }
    }
    const { updates, ramping } = this.build(skey, trees, (kind) => scope === 'spec' || kind.dynamic);
    this.scheduleRamp(skey, ramping ? entry?.spec.slowStart.windowMs : undefined);
    if (updates.length === 0 && removals.length === 0) return;
    const changes = this.apply(updates, removals);
    for (const listener of this.listeners) {
      try {
        listener(changes);
      } catch (err) {
        this.opts.logger?.warn({ err: (err as Error).message }, 'xds: change listener failed');
      }
    }
  }

  /**
   * Builds and encodes the kinds `include` selects for `trees` of `skey` (an on-demand kind only
   * for wanted names); returns those whose bytes changed. A parked build with the very same
   * bytes comes back as it was, version and all.
   */
  private build(skey: string, trees: readonly ServiceTree[], include: (kind: (typeof RESOURCE_KINDS)[number]) => boolean): { updates: ResourceUpdate[]; ramping: boolean } {
    const updates: ResourceUpdate[] = [];
    const entry = this.registry.upstream(skey);
    let ramping = false;
    if (entry === undefined) return { updates, ramping };
    const ctx: EndpointContext = { view: entry, addresses: (host) => this.dns.addresses(host), now: () => entry.now(), ramping: () => (ramping = true) };
    for (const kind of RESOURCE_KINDS) {
      if (!include(kind)) continue;
      const wanted = this.wanted.get(kind.typeUrl);
      for (const tree of trees) {
        if (wanted !== undefined && !wanted.has(tree.name)) continue;
        const message = kind.build(tree, ctx);
        if (message === undefined) continue;
        let encoded;
        try {
          encoded = this.codec.encodeAny(kind.typeUrl, message);
        } catch (err) {
          this.opts.logger?.warn({ name: tree.name, err: (err as Error).message }, 'xds: cannot encode resource');
          continue;
        }
        this.encodeCount++;
        if (this.get(kind.typeUrl, tree.name)?.any.equals(encoded.any) === true) continue;
        const parked = this.parked.get(kind.typeUrl)?.get(tree.name);
        if (parked !== undefined) {
          this.parked.get(kind.typeUrl)!.delete(tree.name);
          if (parked.any.equals(encoded.any)) {
            this.live.get(kind.typeUrl)!.set(tree.name, parked);
            continue;
          }
        }
        updates.push({ typeUrl: kind.typeUrl, name: tree.name, ...encoded });
      }
    }
    return { updates, ramping };
  }

  /** Stores updates (one new version for all) and removals; returns them as changes. */
  private apply(updates: readonly ResourceUpdate[], removals: ReadonlyArray<{ typeUrl: ResourceTypeUrl; name: string }>): ResourceChange[] {
    const version = this.nextVersion();
    const changes: ResourceChange[] = [];
    for (const u of updates) {
      this.live.get(u.typeUrl)!.set(u.name, { ...u, version, deltaEntry: undefined });
      this.tombstones.get(u.typeUrl)!.delete(u.name);
      this.typeVersions.set(u.typeUrl, version);
      changes.push({ typeUrl: u.typeUrl, name: u.name, removed: false });
    }
    for (const r of removals) {
      const live = this.live.get(r.typeUrl)!;
      const graves = this.tombstones.get(r.typeUrl)!;
      graves.set(r.name, live.get(r.name)!);
      live.delete(r.name);
      if (r.typeUrl === CLUSTER) this.generations.set(r.name, (this.generations.get(r.name) ?? 0) + 1);
      if (graves.size > MAX_TOMBSTONES) graves.delete(graves.keys().next().value!);
      this.typeVersions.set(r.typeUrl, version);
      changes.push({ typeUrl: r.typeUrl, name: r.name, removed: true });
    }
    return changes;
  }
}
