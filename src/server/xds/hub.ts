/**
 * XdsHub: which stream watches what, and the coalesced fan-out of cache changes.
 *
 * Streams register the (type, name) pairs they subscribe to, or a type's wildcard. A batch of
 * cache changes marks the watching streams dirty for those types; after `coalesceMs` every dirty
 * stream flushes once, with the newest state (so a burst of changes costs each stream one
 * response per type, and the resources inside were encoded once for all of them).
 *
 * The hub also tells the cache which names are wanted at all (first watcher in, last one out):
 * ClusterLoadAssignments are built only for those (cache.ts "On demand").
 */
import { pushDuration, pushesTotal } from '../../observability/metrics.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { forEachSliced } from '../../util/sliced.ts';
import { FANOUT_SLICE_MS } from '../stream-flow.ts';
import type { ResourceChange, XdsResourceCache } from './cache.ts';
import type { ResourceTypeUrl } from './type-urls.ts';

/**
 * Responses assembled during one hub flush, by content: streams that need the very same
 * response (same type, resources, versions) send the same bytes, nonce included — a nonce only
 * has to be unique per stream, and a stream gets at most one response per (phase, type) per
 * flush. Saves assembling (and allocating) a copy per stream.
 */
export interface SharedResponses {
  readonly id: number;
  readonly byKey: Map<string, { readonly nonce: string; readonly bytes: Buffer }>;
}

/** What the hub needs from a SotW or delta stream. */
export interface HubStream {
  /** Resources of `typeUrl` this stream watches changed; it flushes when the hub says so. */
  markDirty(typeUrl: ResourceTypeUrl): void;
  /** Sends what is dirty (make-before-break order), unless held (ACK gating, transport). */
  flush(shared?: SharedResponses): void;
  /** Types with changes waiting to be sent. */
  readonly dirtyTypes: number;
  /** Server shutdown: end the call. */
  end(): void;
}

export class XdsHub {
  private readonly streams = new Set<HubStream>();
  private readonly byName = new Map<string, Set<HubStream>>();
  private readonly wildcards = new Map<ResourceTypeUrl, Set<HubStream>>();
  private readonly pending = new Set<HubStream>();
  private timer: Timer | undefined;
  private flushes = 0;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly cache: XdsResourceCache,
    private readonly clock: Clock,
    private readonly coalesceMs: number,
  ) {
    this.unsubscribe = cache.subscribe((changes) => this.onChanges(changes));
  }

  get streamCount(): number {
    return this.streams.size;
  }

  add(stream: HubStream): void {
    this.streams.add(stream);
  }

  /** Forgets a stream; `keys` are what it watched (from `watch`). */
  remove(stream: HubStream, watched: Iterable<[ResourceTypeUrl, string]>, wildcardTypes: Iterable<ResourceTypeUrl>): void {
    this.streams.delete(stream);
    this.pending.delete(stream);
    for (const [t, n] of watched) this.unwatch(stream, t, n);
    for (const t of wildcardTypes) this.setWildcard(stream, t, false);
  }

  watch(stream: HubStream, typeUrl: ResourceTypeUrl, name: string): void {
    const key = keyOf(typeUrl, name);
    let set = this.byName.get(key);
    if (set === undefined) this.byName.set(key, (set = new Set()));
    set.add(stream);
    // After the stream is counted: building on demand happens now, before the stream answers.
    if (set.size === 1) this.cache.setWanted(typeUrl, name, true);
  }

  unwatch(stream: HubStream, typeUrl: ResourceTypeUrl, name: string): void {
    const key = keyOf(typeUrl, name);
    const set = this.byName.get(key);
    if (set === undefined) return;
    set.delete(stream);
    if (set.size > 0) return;
    this.byName.delete(key);
    this.cache.setWanted(typeUrl, name, false);
  }

  setWildcard(stream: HubStream, typeUrl: ResourceTypeUrl, on: boolean): void {
    let set = this.wildcards.get(typeUrl);
    if (set === undefined) this.wildcards.set(typeUrl, (set = new Set()));
    if (on) set.add(stream);
    else set.delete(stream);
  }

  /** Number of (type, name) watch entries: 0 once every stream is gone (leak check for tests). */
  watchEntries(): number {
    let n = 0;
    for (const set of this.byName.values()) n += set.size;
    for (const set of this.wildcards.values()) n += set.size;
    return n;
  }

  /** Types with changes waiting, summed over streams (what held-back streams keep: no bytes). */
  pendingTypes(): number {
    let n = 0;
    for (const s of this.streams) n += s.dirtyTypes;
    return n;
  }

  close(): void {
    this.unsubscribe();
    this.timer?.cancel();
    this.timer = undefined;
    for (const s of [...this.streams]) s.end();
    this.streams.clear();
    this.pending.clear();
  }

  private onChanges(changes: readonly ResourceChange[]): void {
    for (const c of changes) {
      const watchers = this.byName.get(keyOf(c.typeUrl, c.name));
      if (watchers !== undefined) for (const s of watchers) this.mark(s, c.typeUrl);
      const wild = this.wildcards.get(c.typeUrl);
      if (wild !== undefined) for (const s of wild) this.mark(s, c.typeUrl);
    }
    if (this.pending.size > 0 && this.timer === undefined) {
      const firstChangeAt = this.clock.now();
      this.timer = this.clock.setTimer(this.coalesceMs, () => {
        this.timer = undefined;
        const due = [...this.pending];
        this.pending.clear();
        const shared: SharedResponses = { id: ++this.flushes, byKey: new Map() };
        // In slices (util/sliced.ts); a stream closed before its turn does nothing.
        forEachSliced(this.clock, due, FANOUT_SLICE_MS, (s) => s.flush(shared), () => {
          pushesTotal.inc({ kind: 'xds' });
          pushDuration.observe({ kind: 'xds' }, (this.clock.now() - firstChangeAt) / 1000);
        });
      });
    }
  }

  private mark(stream: HubStream, typeUrl: ResourceTypeUrl): void {
    stream.markDirty(typeUrl);
    this.pending.add(stream);
  }
}

function keyOf(typeUrl: string, name: string): string {
  return `${typeUrl}\u0000${name}`;
}
