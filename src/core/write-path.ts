/**
 * The one write path of upstreams: validate, persist, apply. The gRPC, HTTP and CLI layers only
 * translate requests into calls of this class.
 *
 * - Validate: the whole new document, with the injected codec (config/ owns the rules; core/
 *   never imports config/, so the composition root passes them in). Errors name their paths and
 *   nothing is stored.
 * - Persist: `store.append` with the version the write was based on; the store refuses it if
 *   another instance changed the upstream meanwhile, and the edit is made again on the newer
 *   document (a few times, then WRITE_CONFLICT).
 * - Apply: only what comes back through the store's feed is applied to the registry, in feed
 *   order, for this instance's writes and everyone else's alike. A write answers once its own
 *   change is applied here, so a client reads its write back from the instance it wrote to.
 *
 * Writes from one instance run one at a time, so each sees the state the previous one left.
 */
import type { UpstreamSpec } from './model.ts';
import type { UpstreamRegistry } from './registry.ts';
import type { ChangeOrigin, ChangeStore, FeedChange, StoreSnapshot, UpstreamChange, UpstreamDocument } from './store/change-store.ts';
import { CheckupsError, invalidConfig } from '../util/errors.ts';

export type CodecResult = { readonly ok: true; readonly value: UpstreamSpec } | { readonly ok: false; readonly errors: readonly string[] };

/** How documents become specs and back (config/validate.ts and config/serialize.ts). */
export interface UpstreamCodec {
  /**
   * Validates `doc` as upstream `skey`; errors are `path: rule` lines, `path` prefixing them.
   * `write`: a new admin write (every level must list servers); `stored`: a document already
   * accepted once (a config file may have had empty levels).
   */
  parse(skey: string, doc: unknown, path: readonly string[], purpose: 'write' | 'stored'): CodecResult;
  /** The document of a spec: what GetUpstream shows and what the store keeps. */
  toDocument(spec: UpstreamSpec): UpstreamDocument;
}

/** Turns the current document (undefined: no such upstream) into the new one. May throw CheckupsError. */
export type DocumentEdit = (current: UpstreamDocument | undefined) => unknown;

export interface WritePathOptions {
  /** Attempts of one write when other instances keep changing the same upstream (default 8). */
  readonly maxAttempts?: number;
  /** How long a write waits for its own change to come back through the feed (default 5000 ms). */
  readonly applyWaitMs?: number;
  /** Warnings about feed entries that could not be applied (logged by the caller). */
  readonly warn?: (message: string) => void;
}

/** Formats validation errors the one way every write reports them. */
export function invalidDocument(errors: readonly string[]): CheckupsError {
  return invalidConfig(errors);
}

export class UpstreamWritePath {
  /** skey -> version of its stored document (0 or absent: not stored), as applied here. */
  private readonly docVersions = new Map<string, number>();
  /** skey -> origin of what is applied here, for the restore rule and status. */
  private readonly origins = new Map<string, ChangeOrigin>();
  /** Highest feed revision applied here (null: the store has no shared log). */
  private appliedRevision: number | null = null;
  private queue: Promise<unknown> = Promise.resolve();
  private stopFollowing: (() => void) | undefined;
  private readonly maxAttempts: number;
  private readonly applyWaitMs: number;
  private readonly warn: (message: string) => void;

  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly store: ChangeStore,
    private readonly codec: UpstreamCodec,
    opts: WritePathOptions = {},
  ) {
    this.maxAttempts = opts.maxAttempts ?? 8;
    this.applyWaitMs = opts.applyWaitMs ?? 5000;
    this.warn = opts.warn ?? ((m) => process.emitWarning(m));
  }

  /**
   * Opens the store with this instance's config file (`base`), loads the state it returns into
   * the registry, and follows the feed from there. Stored documents that no longer validate
   * stop the start (DATA_CORRUPT), naming each problem.
   */
  async open(base: ReadonlyMap<string, UpstreamSpec>): Promise<StoreSnapshot> {
    const docs = new Map<string, UpstreamDocument>();
    for (const [skey, spec] of base) docs.set(skey, this.codec.toDocument(spec));
    const snapshot = await this.store.open(docs);
    const problems: string[] = [];
    for (const [skey, stored] of snapshot.upstreams) {
      if (stored.upstream === null) continue;
      const parsed = this.codec.parse(skey, stored.upstream, ['upstream'], 'stored');
      if (!parsed.ok) problems.push(...parsed.errors.map((e) => `${skey}: ${e}`));
    }
    if (problems.length > 0) {
      throw new CheckupsError('DATA_CORRUPT', `stored upstreams of ${this.store.location} no longer validate; nothing was started:\n  ${problems.join('\n  ')}`);
    }
    this.applySnapshot(snapshot);
    this.stopFollowing = this.store.follow(snapshot.revision, (item) => (item.type === 'change' ? this.applyChange(item) : this.applySnapshot(item.snapshot)));
    return snapshot;
  }

  /** Stops following the feed and closes the store. */
  async close(): Promise<void> {
    this.stopFollowing?.();
    await this.store.close();
  }

  /** The stored document of `skey` and its version, or undefined. */
  document(skey: string): { readonly upstream: UpstreamDocument; readonly version: number } | undefined {
    const entry = this.registry.upstream(skey);
    return entry === undefined ? undefined : { upstream: this.codec.toDocument(entry.spec), version: entry.version };
  }

  /** Creates or replaces upstream `skey` with `doc` (errors prefixed with `path`). Resolves with its version. */
  put(skey: string, doc: unknown, path: readonly string[]): Promise<number> {
    return this.edit(skey, () => doc, path);
  }

  /**
   * Read-modify-write of one upstream: `edit` gets the current document and returns the new
   * one, which is validated and stored. When another instance changed the upstream meanwhile,
   * `edit` runs again on the newer document. Resolves with the new version.
   */
  edit(skey: string, edit: DocumentEdit, path: readonly string[] = []): Promise<number> {
    return this.serialized(async () => {
      for (let attempt = 1; ; attempt++) {
        const doc = await this.caughtUpOnMiss(() => {
          const current = this.registry.upstream(skey);
          return edit(current === undefined ? undefined : this.codec.toDocument(current.spec));
        });
        const expect = this.docVersions.get(skey) ?? 0;
        const parsed = this.codec.parse(skey, doc, path, 'write');
        if (!parsed.ok) throw invalidDocument(parsed.errors);
        const change: UpstreamChange = { kind: 'put', skey, upstream: this.codec.toDocument(parsed.value), origin: 'admin' };
        const version = await this.persist(change, expect, attempt);
        if (version !== undefined) return version;
      }
    });
  }

  /** Deletes upstream `skey` (UNKNOWN_SKEY when there is none). Resolves with the deletion's revision. */
  delete(skey: string): Promise<number> {
    return this.serialized(async () => {
      for (let attempt = 1; ; attempt++) {
        await this.caughtUpOnMiss(() => {
          if (this.registry.upstream(skey) === undefined) throw new CheckupsError('UNKNOWN_SKEY', `unknown skey ${skey}`);
        });
        const version = await this.persist({ kind: 'delete', skey, origin: 'admin' }, this.docVersions.get(skey) ?? 0, attempt);
        if (version !== undefined) return version;
      }
    });
  }

  /**
   * Runs `read`; when it finds no such upstream or peer here, waits until this instance has
   * applied everything the store held at that moment and runs it once more. So a write through
   * one instance right after a write through another (add an upstream on A, add a peer to it on
   * B) sees the first one, and UNKNOWN_SKEY means unknown to the cluster, not only to the
   * instance's feed so far. When that cannot be known (the store is out of step, or the feed
   * did not get there within applyWaitMs) the answer is STORE_UNAVAILABLE: retry.
   */
  private async caughtUpOnMiss<T>(read: () => T): Promise<T> {
    try {
      return read();
    } catch (err) {
      if (!(err instanceof CheckupsError) || (err.code !== 'UNKNOWN_SKEY' && err.code !== 'UNKNOWN_PEER')) throw err;
      const sync = this.store.syncState();
      // Out of step, nobody can say whether another instance made it: not "not found".
      if (!sync.synced) {
        throw new CheckupsError('STORE_UNAVAILABLE', `${err.message} on this instance, and ${this.store.location} is unreachable since ${new Date(sync.since).toISOString()} (${sync.reason}): nothing was changed, retry when it is back`);
      }
      const head = await this.store.head();
      if (head !== null && !(await this.reached(head))) {
        throw new CheckupsError('STORE_UNAVAILABLE', `${err.message} on this instance, which has not yet applied revision ${head} of ${this.store.location} (waited ${this.applyWaitMs} ms): nothing was changed, retry`);
      }
      // Everything Redis held when the first read missed is applied here now: look again.
      return read();
    }
  }

  /** Appends; undefined when another instance won the race and the caller should edit again. */
  private async persist(change: UpstreamChange, expect: number, attempt: number): Promise<number | undefined> {
    const outcome = await this.store.append(change, expect);
    if (!outcome.ok) {
      if (attempt >= this.maxAttempts) {
        throw new CheckupsError('WRITE_CONFLICT', `upstream ${change.skey} was changed by other instances ${attempt} times while this write was made; nothing was changed, try again`);
      }
      // Catch up to the change that beat us, then edit the newer document.
      await this.reached(outcome.current);
      return undefined;
    }
    if (outcome.revision === null) {
      // No shared log: the store delivered the change synchronously, before resolving.
      return this.registry.upstream(change.skey)?.version ?? this.registry.currentRevision;
    }
    await this.reached(outcome.revision);
    return outcome.revision;
  }

  /**
   * Resolves true once the feed has applied everything up to `revision` here, false after
   * applyWaitMs (a change is durable in the store by then; it is applied when the feed catches up).
   */
  private reached(revision: number): Promise<boolean> {
    return this.store.reached(revision, this.applyWaitMs);
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private advanced(revision: number | null): void {
    if (revision === null) return;
    if (this.appliedRevision === null || revision > this.appliedRevision) this.appliedRevision = revision;
    this.registry.advanceTo(revision);
  }

  /** Applies one change of the feed. A change that does not validate here is reported and skipped. */
  private applyChange(item: FeedChange): void {
    const { change, revision } = item;
    if (revision !== null && this.appliedRevision !== null && revision <= this.appliedRevision) return;
    const version = revision ?? undefined;
    if (change.kind === 'delete') {
      this.registry.delete(change.skey, version);
      this.docVersions.set(change.skey, 0);
      this.origins.set(change.skey, change.origin);
    } else {
      const parsed = this.codec.parse(change.skey, change.upstream, ['upstream'], 'stored');
      if (parsed.ok) {
        // The store's version check compares the stream revision (the registry's may be higher).
        const v = this.registry.put(parsed.value, version);
        this.docVersions.set(change.skey, revision ?? v);
        this.origins.set(change.skey, change.origin);
      } else {
        this.warn(`${this.store.location}: change to ${change.skey} at revision ${revision ?? '-'} does not validate here and was skipped (this instance keeps the previous state): ${parsed.errors.slice(0, 5).join('; ')}`);
      }
    }
    this.advanced(revision);
  }

  /**
   * Makes the registry hold exactly `snapshot`: upstreams at a newer version are put, ones it
   * no longer has are deleted, others are left alone (their health stays).
   */
  private applySnapshot(snapshot: StoreSnapshot): void {
    const shared = snapshot.revision !== null;
    for (const [skey, stored] of snapshot.upstreams) {
      const version = stored.version ?? undefined;
      this.origins.set(skey, stored.origin);
      if (stored.upstream === null) {
        this.registry.delete(skey, version);
        this.docVersions.set(skey, 0);
        continue;
      }
      if (shared && version !== undefined && (this.docVersions.get(skey) ?? -1) >= version && this.registry.upstream(skey) !== undefined) continue;
      const parsed = this.codec.parse(skey, stored.upstream, ['upstream'], 'stored');
      if (!parsed.ok) {
        this.warn(`${this.store.location}: stored upstream ${skey} does not validate here and was skipped: ${parsed.errors.slice(0, 5).join('; ')}`);
        continue;
      }
      const v = this.registry.put(parsed.value, version);
      this.docVersions.set(skey, version ?? v);
    }
    for (const skey of this.registry.skeys()) {
      if (!snapshot.upstreams.has(skey)) {
        this.registry.delete(skey, snapshot.revision ?? undefined);
        this.docVersions.delete(skey);
      }
    }
    this.advanced(snapshot.revision);
  }

  /** Where each applied upstream came from (file or admin). */
  origin(skey: string): ChangeOrigin | undefined {
    return this.origins.get(skey);
  }
}
