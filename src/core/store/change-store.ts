/**
 * The store seam: where admin changes are kept and how every instance learns about them.
 *
 * A ChangeStore is a record of upstream documents plus a change feed:
 * - `open(base)` takes the store and returns the state to serve (the config file's upstreams,
 *   `base`, with the admin changes on top);
 * - `append(change, expect)` stores one change if the upstream's stored version is still
 *   `expect` (0 = absent), and resolves once it is durable;
 * - `follow(cursor, onEntry)` delivers, in order, every change after `cursor` (also the
 *   instance's own), and a snapshot when the changes after `cursor` are no longer kept;
 * - `snapshot()` reads the whole state at one revision.
 *
 * Two implementations: FileChangeStore (the data dir, one instance, the embedded default) and
 * RedisChangeStore (a cluster of instances sharing one Redis, docs/cluster.md).
 *
 * Versions. A store with a shared log (Redis) stamps each change with the cluster-wide revision
 * (`revision`), and the registry takes that number as the upstream's version, so every instance
 * hands out the same version for the same state. The file store has no shared log: its entries
 * carry `revision: null` and the registry stamps them from its own counter, exactly as a single
 * instance always did.
 */

import type { RawUpstream } from '../document.ts';

/**
 * An upstream as stored: a config document, exactly as under `upstreams.<skey>` in
 * checkups.yaml. The codec the composition root injects (config/) validates it into an
 * UpstreamSpec and writes it back.
 */
export type UpstreamDocument = RawUpstream;

/**
 * Where the stored state of an upstream came from. `file`: a config file (an instance seeded
 * it); `admin`: the admin API. An admin change wins over the file until it is deleted again
 * through the admin API (docs/durability.md, restore rule).
 */
export type ChangeOrigin = 'file' | 'admin';

/** One admin change (or one config-file upstream an instance seeds into a shared store). */
export type UpstreamChange =
  | { readonly kind: 'put'; readonly skey: string; readonly upstream: UpstreamDocument; readonly origin: ChangeOrigin }
  | { readonly kind: 'delete'; readonly skey: string; readonly origin: ChangeOrigin };

/** An upstream's stored state: its document, or null when it was deleted (a tombstone). */
export interface StoredUpstream {
  readonly upstream: UpstreamDocument | null;
  readonly origin: ChangeOrigin;
  /** The revision of the change that stored it; null for a store without a shared log. */
  readonly version: number | null;
}

export interface StoreSnapshot {
  /** The last revision the snapshot includes; null for a store without a shared log. */
  readonly revision: number | null;
  /** skey -> stored state, deleted ones included, in the order the store keeps them. */
  readonly upstreams: ReadonlyMap<string, StoredUpstream>;
  /** Things the store repaired or noticed that an operator should know about. */
  readonly warnings: readonly string[];
}

/** A change as the feed delivers it. */
export interface FeedChange {
  readonly type: 'change';
  /** Cluster-wide revision; null for a store without a shared log (the registry stamps it). */
  readonly revision: number | null;
  /** Epoch ms when the change was stored. */
  readonly at: number;
  readonly change: UpstreamChange;
}

/**
 * The whole state, delivered instead of changes when the ones after the reader's cursor are no
 * longer kept (the log was trimmed, or the store lost its data and was seeded again).
 */
export interface FeedSnapshot {
  readonly type: 'snapshot';
  readonly snapshot: StoreSnapshot;
}

export type FeedItem = FeedChange | FeedSnapshot;

export type AppendOutcome =
  /** Stored: `revision` is the change's revision (null for a store without a shared log). */
  | { readonly ok: true; readonly revision: number | null }
  /** Not stored: the upstream is at `current` (0 = absent), not at the expected version. */
  | { readonly ok: false; readonly current: number };

/**
 * Whether the instance is in step with the store. A file store always is; a Redis store is not
 * while Redis is unreachable (`since`: epoch ms of the loss, `reason`: why, for /readyz).
 */
export type SyncState = { readonly synced: true } | { readonly synced: false; readonly since: number; readonly reason: string };

export interface ChangeStore {
  /** `file` or `redis`: for status output. */
  readonly kind: 'file' | 'redis';
  /** Where the record lives, for messages (a data dir, or a Redis URL without its password). */
  readonly location: string;
  /**
   * Takes the store and returns the state to serve. `base` is this instance's config file
   * (skey -> document): a store applies the restore rule to it (file upstreams unless an admin
   * change says otherwise). Throws CheckupsError on bad data or an unreachable store.
   */
  open(base: ReadonlyMap<string, UpstreamDocument>): Promise<StoreSnapshot>;
  /**
   * Stores `change` if the upstream's stored version is `expect` (0: not stored, or deleted).
   * Resolves once the change is durable, before any reader sees it. Rejects with
   * CheckupsError('STORE_UNAVAILABLE') when the store cannot take writes; nothing is stored then.
   * A store without a shared log has one writer, the write path, which checks versions itself.
   */
  append(change: UpstreamChange, expect: number): Promise<AppendOutcome>;
  /**
   * Calls `onItem` for every change after `cursor` (the revision the caller holds), in order, as
   * they arrive, until the returned function is called. The file store delivers its own
   * appends (there is no other writer); the Redis store reads the cluster's change stream.
   */
  follow(cursor: number | null, onItem: (item: FeedItem) => void): () => void;
  /**
   * Resolves true once the feed has handed the follower everything up to `revision`, false
   * after `ms`. Revisions count every entry of a shared log, also those that change no upstream
   * (health verdicts take revisions of the same log). A store without a shared log: true at once.
   */
  reached(revision: number, ms: number): Promise<boolean>;
  /** The whole state at one revision. */
  snapshot(): Promise<StoreSnapshot>;
  /**
   * The newest revision in the record, of any entry (null for a store without a shared log,
   * whose feed is always current). A write that finds nothing to edit waits for this before
   * saying so, since another instance may have just made it. While the store is unreachable:
   * the revision this instance holds (the write then fails on `append` and says why).
   */
  head(): Promise<number | null>;
  /** Whether this instance is in step with the record. */
  syncState(): SyncState;
  /** Waits for pending appends, then releases the store. Later appends reject. */
  close(): Promise<void>;
}
