/**
 * The Redis store against a real (private) redis-server when Redis lost its last writes: as
 * after a restart from an AOF written with `appendfsync everysec` that missed the last second
 * (docs/cluster.md, "Failure modes"). The instance that notices starts a new epoch and writes its
 * view back above every revision it read; another instance, still on the old epoch, has its
 * writes refused with a clear message until it merged its view too; nothing it had read is lost.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CheckupsError } from '../../src/util/errors.ts';
import type { FeedItem, UpstreamDocument } from '../../src/core/store/change-store.ts';
import { clusterKeys } from '../../src/core/store/redis-keys.ts';
import { RedisChangeStore } from '../../src/core/store/redis-store.ts';
import { until } from '../support/async.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

const doc = (port: number): UpstreamDocument => ({ cluster: [{ servers: [{ host: '127.0.0.1', port }] }] }) as unknown as UpstreamDocument;
const base = new Map([['api', doc(9000)]]);

describe('Redis store: Redis lost its last writes', () => {
  let redis: TestRedis;
  const stores: RedisChangeStore[] = [];

  before(async () => {
    redis = await startRedis();
  });

  after(async () => {
    await Promise.all(stores.map((s) => s.close()));
    await redis.stop();
  });

  function store(id: string, warnings: string[], items: FeedItem[]): RedisChangeStore {
    const s = new RedisChangeStore({ url: redis.url, cluster: 'tail', instanceId: id, configFile: 'same.yaml', warn: (m) => warnings.push(m) });
    stores.push(s);
    return s;
  }

  it('the instance that notices writes its view back above what it read; the other merges; nothing read is lost', async () => {
    const keys = clusterKeys('tail');
    const warnA: string[] = [];
    const warnB: string[] = [];
    const itemsA: FeedItem[] = [];
    const a = store('A', warnA, itemsA);
    const b = store('B', warnB, []);
    const snapA = await a.open(base);
    a.follow(snapA.revision, (i) => itemsA.push(i));
    const snapB = await b.open(base);
    b.follow(snapB.revision, () => undefined);

    const w1 = await a.append({ kind: 'put', skey: 'web1', upstream: doc(9001), origin: 'admin' }, 0);
    const w2 = await a.append({ kind: 'put', skey: 'web2', upstream: doc(9002), origin: 'admin' }, 0);
    assert.ok(w1.ok && w2.ok);
    const r2 = w2.revision!;
    assert.ok(await a.reached(r2));
    assert.ok(await b.reached(r2));
    const oldEpoch = a.epochId;

    // Redis comes back without the last write: counter, stream entry and state as before it.
    const r = redis.client();
    await r.set(keys.revision, String(w1.revision));
    await r.xdel(keys.changes, `${r2}-0`);
    await r.hdel(keys.upstreams, 'web2');
    await r.hdel(keys.versions, 'web2');

    // Noticed when the reader looks up from the idle stream (every couple of seconds).
    await until(() => warnA.some((w) => w.includes('Redis came back without its last writes')) || warnB.some((w) => w.includes('Redis came back without its last writes')), 'an instance to notice the lost write', 15_000);
    const [noticer, other, otherWarn] = warnA.some((w) => w.includes('without its last writes')) ? [a, b, warnB] : [b, a, warnA];
    assert.notEqual(noticer.epochId, oldEpoch, 'a new epoch');
    const stored = await r.hget(keys.upstreams, 'web2');
    assert.equal(stored, '{"origin":"admin","upstream":{"cluster":[{"servers":[{"host":"127.0.0.1","port":9002}]}]}}', 'the lost write is back');
    assert.ok(Number(await r.hget(keys.versions, 'web2')) > r2, 'at a revision above every one read');

    // The other instance is still on the old epoch until its reader looks up: its writes are
    // refused, saying why; then it merges its view (nothing to add) and writes again.
    if (other.epochId === oldEpoch) {
      await assert.rejects(other.append({ kind: 'put', skey: 'web3', upstream: doc(9003), origin: 'admin' }, 0), (err: unknown) => {
        assert.ok(err instanceof CheckupsError && err.code === 'STORE_UNAVAILABLE');
        assert.match(err.message, /lost the cluster's data \(epoch .* is now .*\); the instances are seeding it again from their views, nothing was changed: retry in a moment/);
        return true;
      });
    }
    await until(() => other.epochId === noticer.epochId, 'the other instance to join the new epoch', 15_000);
    assert.ok(otherWarn.some((w) => /another instance found it lost; now epoch/.test(w)), otherWarn.join('\n'));
    const w3 = await other.append({ kind: 'put', skey: 'web3', upstream: doc(9003), origin: 'admin' }, 0);
    assert.ok(w3.ok && w3.revision! > r2);
    // A's feed: the snapshot after the reseed holds web2 at its new version.
    await until(() => itemsA.some((i) => i.type === 'snapshot' && i.snapshot.upstreams.get('web2')?.upstream !== null && (i.snapshot.upstreams.get('web2')?.version ?? 0) > r2), 'A to load the snapshot with web2', 15_000);
  });
});
