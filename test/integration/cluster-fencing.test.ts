/**
 * Fencing of probe verdicts, at the script level against a real Redis: a verdict carries the
 * lease value "<instance> <epoch>" it was probed under; once the lease expired or moved to
 * another instance (a new epoch), the script refuses it and changes nothing. A verdict sent for
 * another cluster epoch (Redis lost the cluster's data since) is refused the same way.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { clusterHealthKeys } from '../../src/cluster/health-keys.ts';
import { CLAIM, PUBLISH_HEALTH, RELEASE } from '../../src/cluster/scripts.ts';
import { clusterKeys } from '../../src/core/store/redis-keys.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

const keys = clusterHealthKeys(clusterKeys('fence'));
const EPOCH = 'epoch-1';
const lease = `${keys.leasePrefix}7`;
const verdict = (status: string) => JSON.stringify({ peer: '10.0.0.1:80', status, raw: status, failNum: 0, okStreak: 1, msg: null, modified: 1 });

describe('cluster fencing (real Redis)', () => {
  let redis: TestRedis;
  let client: Redis;
  type Cmd = (...args: Array<string | number>) => Promise<unknown>;
  let claim: Cmd;
  let release: Cmd;
  let publish: Cmd;

  before(async () => {
    redis = await startRedis();
    client = redis.client();
    client.defineCommand('claim', { lua: CLAIM });
    client.defineCommand('release', { lua: RELEASE });
    client.defineCommand('publishHealth', { lua: PUBLISH_HEALTH });
    const cmd = (name: string): Cmd => (client as unknown as Record<string, Cmd>)[name]!.bind(client);
    claim = cmd('claim');
    release = cmd('release');
    publish = cmd('publishHealth');
    await client.set(keys.epoch, EPOCH);
  });

  after(() => redis.stop());

  const send = (holder: string, status: string, epoch = EPOCH) =>
    publish(6, keys.epoch, keys.revision, keys.changes, keys.verdicts, keys.touched, lease, epoch, 10_000, 'svc', 1, holder.split(' ')[0]!, holder, '10.0.0.1:80', verdict(status)) as Promise<[string, number]>;

  it('a lease taken again gets a new epoch; the old holder is refused and nothing changes', async () => {
    const [e1] = (await claim(2, keys.fence, lease, 'X', 60_000)) as number[];
    assert.ok(e1! > 0);
    assert.deepEqual(await claim(2, keys.fence, lease, 'Y', 60_000), [0], 'held by X: Y does not get it');
    assert.deepEqual(await claim(2, keys.fence, lease, 'X', 60_000), [e1], 'X renews with the same epoch');
    const [rev1, refused1] = await send(`X ${e1}`, 'ok');
    assert.notEqual(rev1, '0');
    assert.equal(Number(refused1), 0);

    // X stalls past its lease: it expires, Y takes the shard with the next epoch.
    await client.pexpire(lease, 1);
    await new Promise((r) => setTimeout(r, 20));
    const [e2] = (await claim(2, keys.fence, lease, 'Y', 60_000)) as number[];
    assert.ok(e2! > e1!);
    const before = { len: await client.xlen(keys.changes), rev: await client.get(keys.revision), v: await client.hget(keys.verdicts, 'svc\n10.0.0.1:80') };
    const [rev2, refused2] = await send(`X ${e1}`, 'err');
    assert.equal(rev2, '0', 'the late verdict is refused');
    assert.equal(Number(refused2), 1);
    assert.deepEqual({ len: await client.xlen(keys.changes), rev: await client.get(keys.revision), v: await client.hget(keys.verdicts, 'svc\n10.0.0.1:80') }, before, 'nothing written');
    // X cannot release Y's lease either; Y publishes fine.
    assert.equal(await release(1, lease, 'X'), 0);
    const [rev3] = await send(`Y ${e2}`, 'err');
    assert.equal(Number(rev3), Number(before.rev) + 1, 'one entry, the next revision');
    const [[id, fields]] = (await client.xrange(keys.changes, '-', '+', 'COUNT', 1000)).slice(-1) as [[string, string[]]];
    assert.equal(id, `${rev3}-0`);
    assert.deepEqual(fields.slice(0, 12), ['rev', rev3, 'kind', 'verdict', 'at', '1', 'skey', 'svc', 'type', 'health', 'by', 'Y'], 'the entry names its publisher');
  });

  it('a lease that expired and was taken by nobody refuses too', async () => {
    const l = `${keys.leasePrefix}9`;
    const [e] = (await claim(2, keys.fence, l, 'X', 60_000)) as number[];
    await client.del(l);
    const r = (await publish(6, keys.epoch, keys.revision, keys.changes, keys.verdicts, keys.touched, l, EPOCH, 10_000, 'svc', 1, 'X', `X ${e}`, '10.0.0.2:80', verdict('err'))) as [string, number];
    assert.deepEqual([r[0], Number(r[1])], ['0', 1]);
  });

  it('a verdict for another cluster epoch (Redis lost the data since) is refused and writes nothing', async () => {
    await client.del(lease);
    const [e2] = (await claim(2, keys.fence, lease, 'Z', 60_000)) as number[];
    assert.ok(e2! > 0);
    const before = { len: await client.xlen(keys.changes), rev: await client.get(keys.revision) };
    assert.deepEqual(await send(`Z ${e2}`, 'ok', 'epoch-0'), ['EPOCH', 0]);
    assert.deepEqual({ len: await client.xlen(keys.changes), rev: await client.get(keys.revision) }, before, 'nothing written');
    const [rev] = await send(`Z ${e2}`, 'ok');
    assert.equal(Number(rev), Number(before.rev) + 1, 'the current epoch publishes');
  });
});
