/**
 * The write path of two instances on one real (private) redis-server, where B's feed is slow:
 * B reads each change 300 ms after Redis took it (as a busy instance may). A peer operation
 * through B right after A created the upstream must build on A's write, not answer
 * UNKNOWN_SKEY from what B's feed has delivered so far; an skey nobody wrote stays NOT_FOUND.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { upstreamCodec } from '../../src/config/codec.ts';
import { addServer, setServerDown } from '../../src/config/edit.ts';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import type { ChangeStore, FeedItem } from '../../src/core/store/change-store.ts';
import { RedisChangeStore } from '../../src/core/store/redis-store.ts';
import { UpstreamWritePath } from '../../src/core/write-path.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { GLOBAL } from '../support/xds-harness.ts';

const LAG_MS = 300;

/**
 * The real store, with every feed item handed on LAG_MS late (the order is kept). `slowHead`:
 * head() answers LAG_MS + 100 ms after Redis did, so the feed delivers meanwhile.
 */
function lagging(store: ChangeStore, out: { synced: boolean } = { synced: true }, slowHead = false): ChangeStore {
  return {
    kind: store.kind,
    location: store.location,
    open: (b) => store.open(b),
    append: (c, e) => store.append(c, e),
    follow: (cursor, onItem) => store.follow(cursor, (item: FeedItem) => void setTimeout(() => onItem(item), LAG_MS)),
    // What the store has handed on reaches the follower LAG_MS later.
    reached: async (revision, ms) => {
      const from = Date.now();
      if (!(await store.reached(revision, ms))) return false;
      const left = ms - (Date.now() - from);
      await new Promise((r) => setTimeout(r, Math.max(0, Math.min(LAG_MS, left))));
      return left >= LAG_MS;
    },
    snapshot: () => store.snapshot(),
    head: async () => {
      const head = await store.head();
      if (slowHead) await new Promise((r) => setTimeout(r, LAG_MS + 100));
      return head;
    },
    // As the Redis store says while Redis is away (its head is then the revision it holds).
    syncState: () => (out.synced ? store.syncState() : { synced: false, since: Date.parse('2026-01-01T00:00:00Z'), reason: 'connection closed' }),
    close: () => store.close(),
  };
}

const newServer = (port: number) => ({ host: '127.0.0.1', port, weight: 1, maxFails: 0, failTimeoutMs: 0, down: false });

describe('write path: a write right after another instance wrote, with a lagging feed', () => {
  let redis: TestRedis;
  const paths: UpstreamWritePath[] = [];

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    await Promise.all(paths.map((p) => p.close()));
    await redis.stop();
  });

  async function instance(id: string, slow: boolean, opts: { applyWaitMs?: number; out?: { synced: boolean }; slowHead?: boolean } = {}): Promise<{ writes: UpstreamWritePath; registry: UpstreamRegistry }> {
    const registry = new UpstreamRegistry(GLOBAL, { initialRevision: 0 });
    const store = new RedisChangeStore({ url: redis.url, cluster: 'lag', instanceId: id, configFile: 'same.yaml', warn: () => undefined });
    const writes = new UpstreamWritePath(registry, slow ? lagging(store, opts.out, opts.slowHead) : store, upstreamCodec, { warn: () => undefined, ...(opts.applyWaitMs === undefined ? {} : { applyWaitMs: opts.applyWaitMs }) });
    paths.push(writes);
    await writes.open(new Map());
    return { writes, registry };
  }

  it('B waits for what Redis held before it says unknown, and builds on A', async () => {
    const a = await instance('A', false);
    const b = await instance('B', true);
    const created = await a.writes.put('pool', { cluster: [{ servers: [{ host: '127.0.0.1', port: 9500 }] }] }, []);
    assert.equal(b.registry.upstream('pool'), undefined, "B's feed has not delivered A's write yet");
    const added = await b.writes.edit('pool', addServer('pool', '1', newServer(9501)));
    assert.ok(added > created);
    assert.deepEqual(b.registry.upstream('pool')?.spec.clusters.flatMap((c) => c.servers.map((s) => s.port)), [9500, 9501]);
    // The same for a peer A just added: B does not answer UNKNOWN_PEER.
    await a.writes.edit('pool', addServer('pool', '1', newServer(9502)));
    await b.writes.edit('pool', setServerDown('pool', '127.0.0.1', 9502, true));
    // And for a delete of an upstream A just created.
    await a.writes.put('short', { cluster: [{ servers: [{ host: '127.0.0.1', port: 9600 }] }] }, []);
    await b.writes.delete('short');
    // Unknown to the whole cluster: still UNKNOWN_SKEY, after B caught up.
    await assert.rejects(b.writes.edit('never', addServer('never', '1', newServer(9700))), (err: unknown) => err instanceof CheckupsError && err.code === 'UNKNOWN_SKEY');
    await assert.rejects(b.writes.delete('never'), (err: unknown) => err instanceof CheckupsError && err.code === 'UNKNOWN_SKEY');
  });

  it('the feed catches up while the write asks Redis for its head: the write reads again and builds on it', async () => {
    const a = await instance('A3', false);
    const b = await instance('B3', true, { slowHead: true });
    await a.writes.put('meanwhile', { cluster: [{ servers: [{ host: '127.0.0.1', port: 9900 }] }] }, []);
    assert.equal(b.registry.upstream('meanwhile'), undefined, "B's feed has not delivered A's write yet");
    await b.writes.edit('meanwhile', addServer('meanwhile', '1', newServer(9901)));
    assert.deepEqual(b.registry.upstream('meanwhile')?.spec.clusters.flatMap((c) => c.servers.map((s) => s.port)), [9900, 9901]);
  });

  it('a feed too slow to show what Redis held, or a store out of step, is UNAVAILABLE (retry), never "not found"', async () => {
    const a = await instance('A2', false);
    const out = { synced: true };
    // B waits 100 ms for its feed, which hands every change on 300 ms late.
    const b = await instance('B2', true, { applyWaitMs: 100, out });
    await a.writes.put('late', { cluster: [{ servers: [{ host: '127.0.0.1', port: 9800 }] }] }, []);
    await assert.rejects(b.writes.edit('late', addServer('late', '1', newServer(9801))), (err: unknown) => {
      assert.ok(err instanceof CheckupsError && err.code === 'STORE_UNAVAILABLE', String(err));
      assert.match(err.message, /unknown skey late on this instance, which has not yet applied revision \d+ of Redis .* \(waited 100 ms\): nothing was changed, retry/);
      return true;
    });
    // Out of step: whether another instance made it cannot be known.
    out.synced = false;
    await assert.rejects(b.writes.edit('never', addServer('never', '1', newServer(9802))), (err: unknown) => {
      assert.ok(err instanceof CheckupsError && err.code === 'STORE_UNAVAILABLE', String(err));
      assert.match(err.message, /unknown skey never on this instance, and Redis .* is unreachable since 2026-01-01T00:00:00.000Z \(connection closed\): nothing was changed/);
      return true;
    });
    assert.equal(b.registry.upstream('never'), undefined);
  });
});
