/**
 * The data dir (FileStore) as a ChangeStore: the embedded default, one instance.
 *
 * There is no other writer, so the feed is this instance's own appends, delivered
 * synchronously once they are on disk; entries carry `revision: null` and the registry stamps
 * them from its own counter, as a single instance always did. The version check is the write
 * path's own (its writes are serialized), so `expect` is not checked again here.
 */
import type { AppendOutcome, ChangeStore, FeedItem, StoreSnapshot, StoredUpstream, SyncState, UpstreamChange, UpstreamDocument } from './change-store.ts';
import { FileStore, type FileStoreOptions } from './file-store.ts';

export class FileChangeStore implements ChangeStore {
  readonly kind = 'file';
  readonly location: string;
  private readonly files: FileStore;
  private readonly followers = new Set<(item: FeedItem) => void>();
  private state = new Map<string, StoredUpstream>();
  private warnings: readonly string[] = [];

  constructor(
    dir: string,
    opts: FileStoreOptions = {},
    private readonly wallNow: () => number = Date.now,
  ) {
    this.location = `data dir ${dir}`;
    this.files = new FileStore(dir, opts);
  }

  /** Restore rule: the config file's upstreams, then every admin change on top (docs/durability.md). */
  async open(base: ReadonlyMap<string, UpstreamDocument>): Promise<StoreSnapshot> {
    const recovered = await this.files.open();
    for (const [skey, upstream] of base) this.state.set(skey, { upstream, origin: 'file', version: null });
    for (const [skey, upstream] of recovered.upstreams) this.state.set(skey, { upstream, origin: 'admin', version: null });
    this.warnings = recovered.warnings;
    return this.snapshot();
  }

  async append(change: UpstreamChange, _expect: number): Promise<AppendOutcome> {
    await this.files.append(change.kind === 'put' ? { op: 'put', skey: change.skey, upstream: change.upstream } : { op: 'delete', skey: change.skey });
    this.state.set(change.skey, { upstream: change.kind === 'put' ? change.upstream : null, origin: change.origin, version: null });
    const item: FeedItem = { type: 'change', revision: null, at: this.wallNow(), change };
    for (const follower of this.followers) follower(item);
    return { ok: true, revision: null };
  }

  follow(_cursor: number | null, onItem: (item: FeedItem) => void): () => void {
    this.followers.add(onItem);
    return () => this.followers.delete(onItem);
  }

  snapshot(): Promise<StoreSnapshot> {
    return Promise.resolve({ revision: null, upstreams: new Map(this.state), warnings: this.warnings });
  }

  head(): Promise<number | null> {
    return Promise.resolve(null);
  }

  /** The feed is this instance's own appends, handed on before they resolve: always there. */
  reached(): Promise<boolean> {
    return Promise.resolve(true);
  }

  syncState(): SyncState {
    return { synced: true };
  }

  close(): Promise<void> {
    this.followers.clear();
    return this.files.close();
  }
}
