/**
 * The cluster store: admin changes kept in Redis, shared by every instance of one cluster
 * (docs/cluster.md). Key layout and the revision rule: redis-keys.ts; entries: stream-entry.ts.
 *
 * - Every write is one Lua script: check the cluster epoch and the upstream's version, store the
 *   document, INCR the revision, XADD the entry. It is acknowledged once Redis ran it (with
 *   `appendfsync always`, once it is on Redis's disk).
 * - ONE reader per instance follows the change stream from the revision it holds (XREAD BLOCK
 *   on its own connection) and hands entries in stream order to the write path (admin changes)
 *   and to `onVerdict` (the cluster node): one order for both kinds, so versions never go back.
 *   A gap in the revisions (entries trimmed) makes it read a snapshot instead (`onRebase`).
 * - Redis unreachable: the instance keeps its view, reports "unsynced since T" and refuses
 *   writes (STORE_UNAVAILABLE); when Redis is back it catches up from its cursor.
 * - Redis back without the cluster's data (the epoch key is gone or different) or without its
 *   last writes (the counter is behind what this instance read): the instance starts a new
 *   epoch and seeds the cluster again from its own view, merged per upstream with the other
 *   instances' views by the version each had (the newest wins; an admin write made since wins
 *   over all), then reads a snapshot (`onRebase`).
 */
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Redis, type RedisOptions } from 'ioredis';
import { CheckupsError } from '../../util/errors.ts';
import type { AppendOutcome, ChangeStore, FeedItem, StoreSnapshot, StoredUpstream, SyncState, UpstreamChange, UpstreamDocument } from './change-store.ts';
import { clusterKeys, DEFAULT_CLUSTER_NAME, DEFAULT_STREAM_MAXLEN, LUA_CLUSTER_LIB, streamId, type ClusterKeys } from './redis-keys.ts';
import { changeFields, parseStreamEntry, type StreamEntry } from './stream-entry.ts';

export interface RedisStoreOptions {
  /** redis://[user:password@]host:port/db (or rediss://). */
  readonly url: string;
  /** Cluster name: the key prefix (two clusters may share one Redis). */
  readonly cluster?: string;
  /** The config file of this instance, named in warnings about differing configs. */
  readonly configFile?: string;
  /** Entries kept in the stream (default DEFAULT_STREAM_MAXLEN). */
  readonly streamMaxLen?: number;
  /** Epoch ms (default Date.now). */
  readonly wallNow?: () => number;
  /** Warnings for the operator (bad entries, differing configs, reconnects). */
  readonly warn?: (message: string) => void;
  /**
   * Entries of kind `verdict` (health verdicts, applied by the cluster node), handed over in
   * stream order between the admin changes: this store's reader is the ONE reader of the change
   * stream in an instance, so admin and verdict entries are applied in one order everywhere.
   */
  readonly onVerdict?: (entry: Extract<StreamEntry, { kind: 'verdict' }>) => void;
  /**
   * Called after the reader replaced its state with a snapshot instead of entries: `trimmed`
   * (the entries after its cursor were no longer kept) or `reseeded` (Redis lost the cluster's
   * data and the instances seeded it again). Whatever else follows the stream (the verdicts)
   * must reload its state too.
   */
  readonly onRebase?: (why: 'trimmed' | 'reseeded') => void;
  /** This instance's id in the cluster (default: host name, pid and a random suffix). */
  readonly instanceId?: string;
  /** How long a connection attempt may take (default 3000 ms). */
  readonly connectTimeoutMs?: number;
  /** How long one command may take before Redis counts as unreachable (default 5000 ms). */
  readonly commandTimeoutMs?: number;
}

/** The URL as it may be shown: without its password. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** Parses a store URL into ioredis options; INVALID_CONFIG naming what is wrong. */
export function parseRedisUrl(url: string): RedisOptions {
  let u: URL;
  const bad = (what: string) => new CheckupsError('INVALID_CONFIG', `store ${JSON.stringify(redactRedisUrl(url) === '(unparseable URL)' ? url.replace(/:[^:@/]*@/, ':***@').slice(0, 200) : redactRedisUrl(url))}: ${what}; expected redis://[user:password@]HOST:PORT/DB`);
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw bad(`scheme ${u.protocol} is not redis: or rediss:`);
  if (u.hostname === '') throw bad('no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!/^\d*$/.test(dbText) || !Number.isInteger(db) || db < 0 || db > 65535) throw bad(`database ${JSON.stringify(dbText)} is not a number`);
  if (u.search !== '' || u.hash !== '') throw bad('query strings and fragments are not supported');
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(u.username !== '' ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password !== '' ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

const SNAPSHOT_LUA = `
return {redis.call('GET', KEYS[1]) or '0', redis.call('GET', KEYS[2]) or '', redis.call('HGETALL', KEYS[3]), redis.call('HGETALL', KEYS[4])}
`;

/** KEYS: epoch, revision. ARGV: new epoch id, revision floor. Returns {epoch, created 0/1}. */
const INIT_LUA = `
local e = redis.call('GET', KEYS[1])
if e then return {e, 0} end
redis.call('SET', KEYS[1], ARGV[1])
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if cur < tonumber(ARGV[2]) then redis.call('SET', KEYS[2], ARGV[2]) end
return {ARGV[1], 1}
`;

/**
 * The hash value of an upstream, `{"origin":..,"upstream":..}`, built by concatenation in Lua
 * (cjson would re-encode numbers with 14 digits): ARGV carries the document JSON as written.
 */
const LUA_STORED = `
local function stored_json(origin, upstream)
  return '{"origin":"' .. origin .. '","upstream":' .. (upstream == '' and 'null' or upstream) .. '}'
end
`;

/**
 * KEYS: epoch, versions, upstreams, revision, changes, reseeded.
 * ARGV: epoch, skey, expected version, origin, upstream JSON ('' = delete), maxlen, admin ('1'/'0'), fields...
 */
const APPEND_LUA = `${LUA_CLUSTER_LIB}${LUA_STORED}
if not check_epoch(KEYS[1], ARGV[1]) then return {'EPOCH', redis.call('GET', KEYS[1]) or ''} end
local cur = redis.call('HGET', KEYS[2], ARGV[2]) or '0'
if cur ~= ARGV[3] then return {'CONFLICT', cur} end
local fields = {}
for i = 8, #ARGV do fields[#fields + 1] = ARGV[i] end
local rev = append_entry(KEYS[4], KEYS[5], ARGV[6], fields)
if ARGV[5] == '' then redis.call('HDEL', KEYS[2], ARGV[2]) else redis.call('HSET', KEYS[2], ARGV[2], rev) end
redis.call('HSET', KEYS[3], ARGV[2], stored_json(ARGV[4], ARGV[5]))
if ARGV[7] == '1' then redis.call('HSET', KEYS[6], ARGV[2], 'written') end
return {'OK', rev}
`;

/**
 * The cheap half of RESEED_LUA's first test, run first when idle: 'SAME' while Redis holds the
 * epoch this instance joined and its counter is not behind what the instance read. Only
 * otherwise is the instance's whole view (every upstream as JSON) sent with RESEED_LUA, which
 * tests again atomically; sending it on every idle read cost megabytes per instance every
 * READ_BLOCK_MS at 30,000 peers.
 * KEYS: epoch, revision. ARGV: the epoch held, the revision the instance holds.
 */
const IN_STEP_LUA = `
local e = redis.call('GET', KEYS[1])
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
if e == ARGV[1] and cur >= tonumber(ARGV[2]) then return 'SAME' end
return 'CHECK'
`;

/**
 * Checks, after a reconnect or when idle, that Redis still holds what this instance read, and
 * seeds the cluster again from this instance's view when it does not.
 * KEYS: epoch, revision, changes, upstreams, versions, reseeded.
 * ARGV: the epoch the instance held, a new epoch id, the revision the instance holds, maxlen,
 * at (epoch ms), then per upstream 4 values: skey, the version it had, origin, upstream JSON
 * ('' = deleted).
 *
 * Nothing lost: the epoch is the one held and the revision counter is not behind what this
 * instance read; returns {'SAME', epoch}. Otherwise Redis lost data: all of it (no epoch, or
 * another one), or its last writes (restarted from a persistence file that missed them: the
 * counter is behind). Then the cluster gets a new epoch (unless another instance already gave
 * it one after the loss), so every instance notices, refuses writes until it has seeded its
 * view too, and reloads a snapshot. The counter is raised above what this instance read, so
 * no version is handed out twice. Per upstream the newest view wins: an upstream is written
 * back unless another instance already wrote back the same or a newer version of it, Redis
 * still has that version or a newer one, an admin write made since the loss replaced it, or
 * (for a config-file upstream) it is present already. Returns {'OK', epoch, why}: `gone` (no
 * epoch: Redis came back empty), `tail` (its last writes are missing), `replaced` (another
 * instance noticed first and started the new epoch).
 */
const RESEED_LUA = `${LUA_CLUSTER_LIB}${LUA_STORED}
local e = redis.call('GET', KEYS[1])
local cur = tonumber(redis.call('GET', KEYS[2]) or '0')
local held = tonumber(ARGV[3])
if e == ARGV[1] and cur >= held then return {'SAME', e, ''} end
local why = 'replaced'
if not e then why = 'gone' elseif e == ARGV[1] then why = 'tail' end
if why ~= 'replaced' then
  e = ARGV[2]
  redis.call('SET', KEYS[1], e)
  redis.call('DEL', KEYS[6])
end
if cur < held then redis.call('SET', KEYS[2], rev_string(held)) end
for i = 6, #ARGV, 4 do
  local skey, version, origin, upstream = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  local prev = redis.call('HGET', KEYS[6], skey)
  local have = tonumber(redis.call('HGET', KEYS[5], skey) or '0')
  local present = redis.call('HEXISTS', KEYS[4], skey) == 1
  local skip = prev == 'written' or (prev and tonumber(prev) >= tonumber(version)) or (not prev and have >= tonumber(version)) or (origin == 'file' and present)
  if not skip then
    local fields = {'kind', upstream == '' and 'delete' or 'put', 'at', ARGV[5], 'skey', skey, 'origin', origin}
    if upstream ~= '' then
      fields[#fields + 1] = 'upstream'
      fields[#fields + 1] = upstream
    end
    local rev = append_entry(KEYS[2], KEYS[3], ARGV[4], fields)
    if upstream == '' then redis.call('HDEL', KEYS[5], skey) else redis.call('HSET', KEYS[5], skey, rev) end
    redis.call('HSET', KEYS[4], skey, stored_json(origin, upstream))
    redis.call('HSET', KEYS[6], skey, version)
  end
end
return {'OK', e, why}
`;

interface StoredJson {
  readonly origin: 'file' | 'admin';
  readonly upstream: UpstreamDocument | null;
}

function parseStored(text: string): StoredJson | undefined {
  try {
    const v = JSON.parse(text) as StoredJson;
    if ((v.origin === 'file' || v.origin === 'admin') && (v.upstream === null || (typeof v.upstream === 'object' && !Array.isArray(v.upstream)))) return v;
  } catch {
    // reported by the caller
  }
  return undefined;
}

function pairs(flat: readonly string[]): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (let i = 0; i + 1 < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
}

/** A config-file entry (`configs`) of an instance without membership is dropped after this long. */
const CONFIG_ENTRY_GRACE_MS = 60_000;
/** Attempts to seed this instance's config file when other instances keep changing the same upstreams. */
const SEED_ATTEMPTS = 8;
/** XREAD BLOCK timeout: how often the reader looks up from an idle stream (to notice close()). */
const READ_BLOCK_MS = 2000;
/** Entries per XREAD. */
const READ_COUNT = 1000;

export class RedisChangeStore implements ChangeStore {
  readonly kind = 'redis';
  readonly location: string;
  readonly cluster: string;
  readonly instanceId: string;
  private readonly keys: ClusterKeys;
  private readonly redisOptions: RedisOptions;
  private readonly maxLen: number;
  private readonly wallNow: () => number;
  private readonly warn: (message: string) => void;
  private cmd: Redis | undefined;
  private reader: Redis | undefined;
  private epoch = '';
  /** The state as delivered to the follower: this instance's view (what a reseed writes back). */
  private view = new Map<string, StoredUpstream>();
  /** This instance's config file (skey -> document), to name differences with other instances' files. */
  private base: ReadonlyMap<string, UpstreamDocument> = new Map();
  private cursor = 0;
  private follower: ((item: FeedItem) => void) | undefined;
  private readLoop: Promise<void> | undefined;
  private closed = false;
  private opened = false;
  private unsynced: { since: number; reason: string } | undefined;
  private badEntries = 0;
  private readonly cursorWaiters = new Set<{ revision: number; resolve: (ok: boolean) => void }>();

  constructor(private readonly opts: RedisStoreOptions) {
    this.redisOptions = parseRedisUrl(opts.url);
    this.cluster = opts.cluster ?? DEFAULT_CLUSTER_NAME;
    try {
      this.keys = clusterKeys(this.cluster);
    } catch (err) {
      throw new CheckupsError('INVALID_CONFIG', `--cluster: ${(err as Error).message}`);
    }
    this.location = `Redis ${redactRedisUrl(opts.url)} cluster ${this.cluster}`;
    this.maxLen = opts.streamMaxLen ?? DEFAULT_STREAM_MAXLEN;
    this.wallNow = opts.wallNow ?? Date.now;
    this.warn = opts.warn ?? ((m) => process.emitWarning(m));
    this.instanceId = opts.instanceId ?? `${hostname()}/${process.pid}/${randomBytes(3).toString('hex')}`;
  }

  /** The cluster epoch this instance is in step with (scripts that append check it). */
  get epochId(): string {
    return this.epoch;
  }

  /** The revision of the last stream entry this instance's reader handled. */
  get cursorRevision(): number {
    return this.cursor;
  }

  /**
   * Resolves once the reader handled every entry up to `revision` (admin and verdict entries
   * alike; a change is handed to the follower before the cursor moves past it), or after `ms`
   * (false then).
   */
  reached(revision: number, ms = 5000): Promise<boolean> {
    if (this.cursor >= revision || this.closed) return Promise.resolve(this.cursor >= revision);
    return new Promise((resolve) => {
      const waiter = { revision, resolve: (ok: boolean) => (clearTimeout(timer), resolve(ok)) };
      const timer = setTimeout(() => {
        this.cursorWaiters.delete(waiter);
        resolve(false);
      }, ms);
      timer.unref();
      this.cursorWaiters.add(waiter);
    });
  }

  private moved(cursor: number): void {
    if (cursor > this.cursor) this.cursor = cursor;
    for (const w of this.cursorWaiters) {
      if (w.revision <= this.cursor) {
        this.cursorWaiters.delete(w);
        w.resolve(true);
      }
    }
  }

  /** Stream entries that did not parse (skipped and logged). */
  get badEntryCount(): number {
    return this.badEntries;
  }

  private connection(name: string): Redis {
    const redis = new Redis({
      ...this.redisOptions,
      lazyConnect: true,
      connectionName: `checkups-${name}`,
      connectTimeout: this.opts.connectTimeoutMs ?? 3000,
      // A Redis that stopped answering (paused, a dead link without a reset) counts as
      // unreachable too; the reader's XREAD BLOCK is accounted for by the caller.
      commandTimeout: (this.opts.commandTimeoutMs ?? 5000) + (name === 'reader' ? READ_BLOCK_MS : 0),
      // Fail fast instead of queueing: a write while Redis is away is refused, not delayed.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      // While opening, one attempt (a wrong address is a clear error at start); then retry for ever.
      retryStrategy: (attempt) => (this.opened && !this.closed ? Math.min(100 * attempt, 1000) : null),
    });
    redis.on('error', (err: Error) => this.lost(err.message));
    // A close says less than the error that comes with it: it never replaces a reason.
    redis.on('close', () => this.lost('connection closed', false));
    return redis;
  }

  /**
   * Out of step from now on (or still, since the first loss). The reason shown is the latest
   * error: a Redis that came back but refuses this instance's password says so.
   */
  private lost(reason: string, replaces = true): void {
    if (this.closed || !this.opened) return;
    if (this.unsynced === undefined) {
      this.unsynced = { since: this.wallNow(), reason };
      this.warn(`${this.location} unreachable (${reason}): serving the last view, admin writes are refused until it is back`);
    } else if (replaces && reason !== this.unsynced.reason) {
      this.unsynced = { since: this.unsynced.since, reason };
      this.warn(`${this.location} still unreachable (${reason}): serving the last view, admin writes are refused until it is back`);
    }
  }

  private async connect(redis: Redis): Promise<void> {
    // ioredis rejects with "Connection is closed."; the reason is the last 'error' it emitted.
    let cause: Error | undefined;
    const onError = (err: Error) => {
      cause = err;
    };
    redis.on('error', onError);
    try {
      await redis.connect();
    } catch (err) {
      const msg = (cause ?? (err as Error)).message;
      const auth = /NOAUTH|WRONGPASS|invalid password|AUTH/i.test(msg);
      throw new CheckupsError(
        'STORE_UNAVAILABLE',
        auth
          ? `${this.location}: Redis refused the credentials (${msg}); check the user and password of the store URL (--store or server.store)`
          : `${this.location}: cannot connect (${msg}); check that Redis runs there and the store URL (--store or server.store) names it`,
      );
    } finally {
      redis.off('error', onError);
    }
  }

  async open(base: ReadonlyMap<string, UpstreamDocument>): Promise<StoreSnapshot> {
    this.base = base;
    this.cmd = this.connection('cmd');
    this.reader = this.connection('reader');
    try {
      await this.connect(this.cmd);
      await this.connect(this.reader);
      const [epoch, created] = (await this.cmd.eval(INIT_LUA, 2, this.keys.epoch, this.keys.revision, this.newEpochId(), String(this.wallNow() * 1000))) as [string, number];
      this.epoch = epoch;
      const warnings: string[] = [];
      if (created === 1) warnings.push(`${this.location}: created the cluster (epoch ${epoch})`);
      warnings.push(...(await this.registerConfig(base)));
      await this.seed(base);
      const snapshot = await this.snapshot();
      // What a reseed writes back: the state served from now on, then every change applied.
      this.view = new Map(snapshot.upstreams);
      this.opened = true;
      return { ...snapshot, warnings: [...warnings, ...snapshot.warnings] };
    } catch (err) {
      this.closed = true;
      this.cmd.disconnect();
      this.reader.disconnect();
      throw err;
    }
  }

  private newEpochId(): string {
    return `${new Date(this.wallNow()).toISOString()}/${randomBytes(6).toString('hex')}`;
  }

  /**
   * Records this instance's config file in the cluster and names every live instance that
   * started with a different one, and what differs from what the cluster served (the cluster
   * then follows whichever file was seeded last). Entries of instances gone for a while (no
   * membership key, recorded over CONFIG_ENTRY_GRACE_MS ago) are dropped.
   */
  private async registerConfig(base: ReadonlyMap<string, UpstreamDocument>): Promise<string[]> {
    const cmd = this.cmd!;
    const hash = createHash('sha256').update(JSON.stringify([...base])).digest('hex').slice(0, 16);
    const mine = { hash, file: this.opts.configFile ?? '(embedded default)', host: hostname(), at: this.wallNow() };
    await cmd.hset(this.keys.configs, this.instanceId, JSON.stringify(mine));
    const others = await cmd.hgetall(this.keys.configs);
    const differing: string[] = [];
    for (const [id, text] of Object.entries(others)) {
      if (id === this.instanceId) continue;
      let other: typeof mine;
      try {
        other = JSON.parse(text) as typeof mine;
      } catch {
        await cmd.hdel(this.keys.configs, id);
        continue;
      }
      const live = (await cmd.exists(`${this.keys.instancePrefix}${id}`)) === 1;
      if (!live && this.wallNow() - Number(other.at) > CONFIG_ENTRY_GRACE_MS) {
        await cmd.hdel(this.keys.configs, id);
        continue;
      }
      if (other.hash !== hash) differing.push(`instance ${id} (config ${other.file} on ${other.host}, hash ${other.hash}, started ${new Date(other.at).toISOString()})`);
    }
    if (differing.length === 0) return [];
    const snap = await this.snapshot();
    const added: string[] = [];
    const changed: string[] = [];
    const removed: string[] = [];
    for (const [skey, doc] of base) {
      const stored = snap.upstreams.get(skey);
      if (stored?.origin === 'admin') continue;
      if (stored?.upstream == null) added.push(skey);
      else if (JSON.stringify(stored.upstream) !== JSON.stringify(doc)) changed.push(skey);
    }
    for (const [skey, stored] of snap.upstreams) if (stored.origin === 'file' && stored.upstream !== null && !base.has(skey)) removed.push(skey);
    const list = (what: string, skeys: string[]) => (skeys.length === 0 ? [] : [`${what} ${skeys.slice(0, 10).join(', ')}${skeys.length > 10 ? ` and ${skeys.length - 10} more` : ''}`]);
    const diff = [...list('adds', added), ...list('changes', changed), ...list('removes', removed)];
    return [
      `cluster ${this.cluster}: this instance (${this.instanceId}, config ${mine.file}, hash ${hash}) and ${differing.join(', ')} have different config files; ` +
        `this file ${diff.length === 0 ? 'serves the same upstreams as the cluster did' : `${diff.join('; ')} (of what the cluster served)`}; ` +
        `the cluster serves the config-file upstreams of the instance started last, admin changes stay (docs/cluster.md): give every instance the same file`,
    ];
  }

  /**
   * Restore rule, cluster-wide: this instance's config-file upstreams are stored unless an admin
   * change says otherwise; file upstreams this file no longer has are deleted.
   */
  private async seed(base: ReadonlyMap<string, UpstreamDocument>): Promise<void> {
    for (let attempt = 1; attempt <= SEED_ATTEMPTS; attempt++) {
      const snap = await this.snapshot();
      let conflicts = 0;
      const changes: Array<[UpstreamChange, number]> = [];
      for (const [skey, doc] of base) {
        const stored = snap.upstreams.get(skey);
        if (stored?.origin === 'admin') continue;
        if (stored?.upstream != null && JSON.stringify(stored.upstream) === JSON.stringify(doc)) continue;
        changes.push([{ kind: 'put', skey, upstream: doc, origin: 'file' }, stored?.upstream == null ? 0 : (stored.version ?? 0)]);
      }
      for (const [skey, stored] of snap.upstreams) {
        if (stored.origin === 'file' && stored.upstream !== null && !base.has(skey)) changes.push([{ kind: 'delete', skey, origin: 'file' }, stored.version ?? 0]);
      }
      for (const [change, expect] of changes) {
        const outcome = await this.append(change, expect);
        if (!outcome.ok) conflicts++;
      }
      if (conflicts === 0) return;
    }
    throw new CheckupsError('STORE_UNAVAILABLE', `${this.location}: other instances kept changing the upstreams while this one seeded its config file; start it again`);
  }

  async append(change: UpstreamChange, expect: number): Promise<AppendOutcome> {
    const cmd = this.cmd;
    if (cmd === undefined || this.closed) throw new CheckupsError('STORE_UNAVAILABLE', `${this.location} is closed: change to ${change.skey} not stored`);
    if (this.unsynced !== undefined && this.opened) throw this.unavailable(change.skey);
    const upstream = change.kind === 'put' ? JSON.stringify(change.upstream) : '';
    let reply: [string, string];
    try {
      reply = (await cmd.eval(
        APPEND_LUA,
        6,
        this.keys.epoch,
        this.keys.versions,
        this.keys.upstreams,
        this.keys.revision,
        this.keys.changes,
        this.keys.reseeded,
        this.epoch,
        change.skey,
        String(expect),
        change.origin,
        upstream,
        String(this.maxLen),
        change.origin === 'admin' ? '1' : '0',
        ...changeFields(change, this.wallNow(), this.instanceId),
      )) as [string, string];
    } catch (err) {
      this.lost((err as Error).message);
      throw this.unavailable(change.skey, ' (the change may or may not have been stored: read the upstream back)');
    }
    const [status, value] = reply;
    if (status === 'OK') return { ok: true, revision: Number(value) };
    if (status === 'CONFLICT') return { ok: false, current: Number(value) };
    // EPOCH: Redis no longer holds this cluster's data; the reader seeds it again (resync).
    throw new CheckupsError(
      'STORE_UNAVAILABLE',
      `${this.location} lost the cluster's data (epoch ${this.epoch} is ${value === '' ? 'gone' : `now ${value}`}); the instances are seeding it again from their views, nothing was changed: retry in a moment`,
    );
  }

  private unavailable(skey: string, more = ''): CheckupsError {
    const u = this.unsynced;
    const why = u === undefined ? 'unreachable' : `unreachable since ${new Date(u.since).toISOString()} (${u.reason})`;
    return new CheckupsError('STORE_UNAVAILABLE', `${this.location} is ${why}: change to ${skey} refused, nothing was changed${more}`);
  }

  async snapshot(): Promise<StoreSnapshot> {
    const [revText, , upstreamsFlat, versionsFlat] = (await this.cmd!.eval(SNAPSHOT_LUA, 4, this.keys.revision, this.keys.epoch, this.keys.upstreams, this.keys.versions)) as [string, string, string[], string[]];
    const versions = new Map(pairs(versionsFlat));
    const upstreams = new Map<string, StoredUpstream>();
    const warnings: string[] = [];
    for (const [skey, text] of pairs(upstreamsFlat)) {
      const stored = parseStored(text);
      if (stored === undefined) {
        warnings.push(`${this.location}: hash ${this.keys.upstreams} field ${JSON.stringify(skey.slice(0, 80))} is not a stored upstream; skipped`);
        continue;
      }
      const v = versions.get(skey);
      upstreams.set(skey, { upstream: stored.upstream, origin: stored.origin, version: v === undefined ? null : Number(v) });
    }
    return { revision: Number(revText), upstreams, warnings };
  }

  async head(): Promise<number | null> {
    const cmd = this.cmd;
    if (cmd === undefined || this.closed || (this.unsynced !== undefined && this.opened)) return this.cursor;
    try {
      return Number((await cmd.get(this.keys.revision)) ?? 0);
    } catch {
      // Unreachable: what this instance holds is all it can know (the write then fails on append).
      return this.cursor;
    }
  }

  syncState(): SyncState {
    return this.unsynced === undefined ? { synced: true } : { synced: false, since: this.unsynced.since, reason: this.unsynced.reason };
  }

  follow(cursor: number | null, onItem: (item: FeedItem) => void): () => void {
    this.cursor = cursor ?? 0;
    this.follower = onItem;
    this.readLoop ??= this.readForever();
    return () => {
      this.follower = undefined;
    };
  }

  private deliver(item: FeedItem): void {
    if (item.type === 'snapshot') {
      this.view = new Map(item.snapshot.upstreams);
    } else {
      const c = item.change;
      this.view.set(c.skey, { upstream: c.kind === 'put' ? c.upstream : null, origin: c.origin, version: item.revision });
    }
    this.follower?.(item);
    this.moved(item.type === 'snapshot' ? (item.snapshot.revision ?? 0) : (item.revision ?? 0));
  }

  private wake: (() => void) | undefined;

  private async readForever(): Promise<void> {
    let checkEpoch = false;
    while (!this.closed) {
      try {
        // Both connections: in step again means writes are taken again too.
        const down = [this.reader!, this.cmd!].find((c) => c.status !== 'ready');
        if (down !== undefined) {
          await this.waitReady(down);
          checkEpoch = true;
          continue;
        }
        if (checkEpoch || this.unsynced !== undefined) {
          await this.resync();
          checkEpoch = false;
        }
        const res = (await this.reader!.xread('COUNT', READ_COUNT, 'BLOCK', READ_BLOCK_MS, 'STREAMS', this.keys.changes, streamId(this.cursor))) as Array<[string, Array<[string, string[]]>]> | null;
        if (res === null) {
          // Idle: look at the epoch now and then (an emptied Redis has an empty stream too).
          checkEpoch = true;
          continue;
        }
        for (const [id, flat] of res[0]![1]) {
          const rev = Number(id.split('-')[0]);
          if (!Number.isSafeInteger(rev) || rev <= this.cursor) continue;
          if (rev > this.cursor + 1) {
            // Entries between the cursor and this one were trimmed (or the counter was raised
            // after Redis lost data): start from a snapshot.
            await this.rebase('trimmed');
            break;
          }
          const parsed = parseStreamEntry(this.keys.changes, id, flat);
          if (!parsed.ok) {
            this.badEntries++;
            this.warn(`${parsed.error}; skipped (this instance keeps its view; ${this.badEntries} bad entries so far)`);
            this.moved(rev);
            continue;
          }
          this.apply(parsed.entry);
        }
      } catch (err) {
        if (this.closed) return;
        this.lost((err as Error).message);
        checkEpoch = true;
        // Not a busy loop when Redis answers but a command keeps failing.
        if (this.reader!.status === 'ready') await new Promise((r) => setTimeout(r, 200).unref());
      }
    }
  }

  /** Warns when another instance seeded a config-file upstream unlike this instance's file. */
  private otherFile(change: UpstreamChange, by: string): void {
    const mine = this.base.get(change.skey);
    const theirs = change.kind === 'put' ? change.upstream : undefined;
    if (JSON.stringify(mine) === JSON.stringify(theirs)) return;
    const what = mine === undefined ? 'added it' : theirs === undefined ? 'removed it' : 'changed it';
    this.warn(
      `cluster ${this.cluster}: upstream ${change.skey} now follows the config file of instance ${by}, which ${what}; ` +
        `this instance's file ${this.opts.configFile ?? '(embedded default)'} differs: give every instance the same file (docs/cluster.md)`,
    );
  }

  /** Replaces the state with a snapshot (the changes after the cursor are not in the stream). */
  private async rebase(why: 'trimmed' | 'reseeded'): Promise<void> {
    const snapshot = await this.snapshot();
    for (const w of snapshot.warnings) this.warn(w);
    this.deliver({ type: 'snapshot', snapshot });
    this.opts.onRebase?.(why);
  }

  private apply(entry: StreamEntry): void {
    if (entry.kind === 'verdict') {
      this.opts.onVerdict?.(entry);
      this.moved(entry.rev);
      return;
    }
    if (entry.change.origin === 'file' && entry.by !== undefined && entry.by !== this.instanceId) this.otherFile(entry.change, entry.by);
    this.deliver({ type: 'change', revision: entry.rev, at: entry.at, change: entry.change });
  }

  private waitReady(conn: Redis): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.closed) return resolve();
      const done = () => {
        conn.off('ready', done);
        this.wake = undefined;
        resolve();
      };
      this.wake = done;
      conn.once('ready', done);
      if (conn.status === 'end' || conn.status === 'wait') conn.connect().catch(() => undefined);
    });
  }

  /**
   * After a disconnect, or when idle: is this still the cluster we joined, with everything we
   * read? If Redis lost the cluster's data (or its last writes), seed it again from this
   * instance's view (merged with the other instances' views), then reload a snapshot.
   */
  private async resync(): Promise<void> {
    if ((await this.reader!.eval(IN_STEP_LUA, 2, this.keys.epoch, this.keys.revision, this.epoch, String(this.cursor))) === 'SAME') {
      this.caughtUp();
      return;
    }
    const args: string[] = [];
    for (const [skey, s] of this.view) args.push(skey, String(s.version ?? 0), s.origin, s.upstream === null ? '' : JSON.stringify(s.upstream));
    const held = this.epoch;
    const [status, now, why] = (await this.reader!.eval(
      RESEED_LUA,
      6,
      this.keys.epoch,
      this.keys.revision,
      this.keys.changes,
      this.keys.upstreams,
      this.keys.versions,
      this.keys.reseeded,
      held,
      this.newEpochId(),
      String(this.cursor),
      String(this.maxLen),
      String(this.wallNow()),
      ...args,
    )) as [string, string, string];
    if (status === 'OK') {
      this.warn(
        `${this.location} lost the cluster's data (epoch ${held}: ${why === 'gone' ? 'Redis came back empty' : why === 'tail' ? 'Redis came back without its last writes' : 'another instance found it lost'}; now epoch ${now}): ` +
          `seeded it again from this instance's view of ${this.view.size} upstreams at revision ${this.cursor}`,
      );
      this.epoch = now;
      await this.rebase('reseeded');
    }
    this.caughtUp();
  }

  private caughtUp(): void {
    if (this.unsynced !== undefined) {
      this.warn(`${this.location} reachable again after ${Math.round((this.wallNow() - this.unsynced.since) / 1000)} s: caught up from revision ${this.cursor}`);
      this.unsynced = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.wake?.();
    for (const w of this.cursorWaiters) w.resolve(false);
    this.cursorWaiters.clear();
    try {
      if (this.cmd?.status === 'ready') await this.cmd.hdel(this.keys.configs, this.instanceId);
    } catch {
      // best effort: a stale entry only matters for the differing-config warning
    }
    this.reader?.disconnect();
    this.cmd?.disconnect();
    await this.readLoop?.catch(() => undefined);
  }
}
