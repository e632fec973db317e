/**
 * Cluster mode under faults (docs/cluster.md, "Failure modes"): a real redis-server the test
 * starts on its own loopback port and dir, three `checkups serve --store` processes.
 *
 * - Redis stopped and restarted: every instance keeps serving its view (no status flips),
 *   /readyz and GetStatus say "unsynced since T", admin writes fail with UNAVAILABLE saying
 *   why; when Redis is back the instances catch up and take their probe leases again.
 * - kill -9 of an instance and of Redis during a burst of admin writes spread over the three
 *   (appendfsync always): no acknowledged write is lost.
 * - An SDK connected to A, A killed: it resumes on B with the versions it holds (B resends
 *   nothing unchanged), versions never go back.
 * - Redis back EMPTY (no persistence): the instances seed it again from their views; no
 *   acknowledged change is lost, a new instance sees them too.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Redis } from 'ioredis';
import { CheckupsClient } from '../../src/client/index.ts';
import type { GetStatusResponse__Output } from '../../src/generated/checkups/v1/GetStatusResponse.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { jsonToValue, structToJson } from '../../src/wire/struct.ts';
import { until } from '../support/async.ts';
import { CountingBackends, startInstance, type Instance } from '../support/cluster-instances.ts';
import { call, clients, grpcError } from '../support/grpc-clients.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';

/** Lease lifetime = probe interval: long enough for a loaded 2-core machine to renew in time. */
const INTERVAL_S = 2;

const config = (ports: number[]) => `global: { checkup_timer_interval: ${INTERVAL_S} }
upstreams:
  h:
    timeout: 0.5
    cluster:
      - servers:
${ports.map((p) => `          - { host: 127.0.0.1, port: ${p} }`).join('\n')}
`;

const servers = (ports: number[]) => jsonToValue([{ servers: ports.map((port) => ({ host: '127.0.0.1', port })) }]);

async function status(inst: Instance): Promise<GetStatusResponse__Output> {
  const c = clients(inst.grpc);
  try {
    return await call(c.discovery, c.discovery.GetStatus, {});
  } finally {
    c.close();
  }
}

async function readyz(inst: Instance): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${inst.http}/readyz`);
  return { status: res.status, text: await res.text() };
}

/** Polls `probe` (an async check) until it holds; fails naming `what`. */
async function eventually(probe: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Ports of upstream `skey` as GetUpstream on `inst` returns them, or undefined when absent. */
async function portsOn(inst: Instance, skey: string): Promise<number[] | undefined> {
  const c = clients(inst.grpc);
  try {
    const g = await call(c.admin, c.admin.GetUpstream, { skey });
    const doc = structToJson(g.upstream) as { cluster: Array<{ servers: Array<{ port: number }> }> | Record<string, { servers: Array<{ port: number }> }> };
    return Object.values(doc.cluster).flatMap((l) => l.servers.map((s) => s.port));
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

/**
 * A Watch on one instance: fails the test if a version goes back; records every heartbeat
 * status each peer of `h` shows (each change once).
 */
class Watcher {
  readonly versions = new Map<string, number>();
  readonly statuses = new Map<number, string[]>();
  readonly backwards: string[] = [];
  private readonly c;
  private readonly stream: grpc.ClientReadableStream<WatchResponse__Output>;

  constructor(inst: Instance) {
    this.c = clients(inst.grpc);
    this.stream = this.c.discovery.Watch({});
    this.stream.on('data', (m: WatchResponse__Output) => {
      for (const u of m.upstreams) {
        const prev = this.versions.get(u.skey);
        if (prev !== undefined && Number(u.version) <= prev) this.backwards.push(`${u.skey}: ${prev} -> ${u.version}`);
        this.versions.set(u.skey, Number(u.version));
        if (u.skey !== 'h') continue;
        for (const p of u.clusters.flatMap((cl) => cl.peers)) {
          const list = this.statuses.get(p.server!.port) ?? [];
          const st = p.health!.status;
          if (list.at(-1) !== st) list.push(st);
          this.statuses.set(p.server!.port, list);
        }
      }
      for (const skey of m.removedSkeys) this.versions.delete(skey);
    });
    this.stream.on('error', () => undefined);
  }

  close(): void {
    this.stream.cancel();
    this.c.close();
  }
}

describe('cluster faults: Redis with appendfsync always', { timeout: 600_000 }, () => {
  let dir: string;
  let redis: TestRedis;
  let backends: CountingBackends;
  const inst = new Map<string, Instance>();
  const cluster = `f${process.pid}`;
  const A = () => inst.get('A')!;
  const B = () => inst.get('B')!;
  const C = () => inst.get('C')!;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-faults-'));
    backends = await CountingBackends.start(2);
    writeFileSync(join(dir, 'checkups.yaml'), config(backends.ports));
    redis = await startRedis({ dir: join(dir, 'redis'), appendfsync: 'always' });
    await Promise.all(['A', 'B', 'C'].map(async (id) => inst.set(id, await startInstance({ config: join(dir, 'checkups.yaml'), store: redis.url, cluster, id }))));
    // Every instance shows both peers ok (probed by their owners, applied everywhere).
    for (const i of inst.values()) {
      await eventually(async () => (await status(i)).upstreams.find((u) => u.skey === 'h')!.clusters.flatMap((c) => c.peers).every((p) => p.health!.status === 'HEALTH_STATUS_OK'), `h ok on ${i.grpc}`);
    }
  });

  after(async () => {
    await Promise.all([...inst.values()].map((i) => i.kill()));
    await redis?.stop();
    await backends?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Redis stopped: every instance serves its view, says unsynced since T, refuses writes saying why; Redis back: catch up, leases again', async (t) => {
    const watchers = [A(), B(), C()].map((i) => new Watcher(i));
    const admin = clients(A().grpc);
    try {
      await until(() => watchers.every((w) => w.versions.has('h')), 'every Watch to hold h', 10_000);
      const killedAt = Date.now();
      await redis.kill();

      for (const i of [A(), B(), C()]) {
        await eventually(async () => (await readyz(i)).status === 503, `/readyz 503 on ${i.grpc}`);
        const r = await readyz(i);
        assert.match(r.text, /store: unsynced since \d{4}-\d\d-\d\dT[\d:.]+Z: Redis redis:\/\/127\.0\.0\.1:\d+\/0 cluster \S+: /, r.text);
        const st = await status(i);
        assert.equal(st.store!.synced, false);
        assert.ok(Number(st.store!.unsyncedSinceMs) >= killedAt - 1000, `unsynced since ${st.store!.unsyncedSinceMs}`);
        assert.notEqual(st.store!.reason, '');
        // The last view is still served: both peers ok, nothing unknown.
        assert.deepEqual(
          st.upstreams.find((u) => u.skey === 'h')!.clusters.flatMap((c) => c.peers.map((p) => p.health!.status)),
          ['HEALTH_STATUS_OK', 'HEALTH_STATUS_OK'],
        );
      }
      await assert.rejects(
        call(admin.admin, admin.admin.UpdateUpstream, { skey: 'during', cluster: servers([9400]) }),
        grpcError(grpc.status.UNAVAILABLE, /unreachable since \d{4}-.*: change to during refused, nothing was changed/),
      );
      // The leases run out while Redis is away (renewals every interval / 3): every instance
      // stops probing. Four failed renewals each outlast a lease.
      const failedRenewals = (i: Instance) => i.logs.filter((l) => /renewing membership and leases failed/.test(l.msg)).length;
      await until(() => [A(), B(), C()].every((i) => failedRenewals(i) >= 4), 'four failed lease renewals on every instance', 30_000);

      const ownershipLogs = (i: Instance) => i.logs.filter((l) => l.msg === 'probe ownership changed').length;
      const ownedBefore = new Map([A(), B(), C()].map((i) => [i, ownershipLogs(i)]));
      const restartedAt = performance.now();
      await redis.restart();
      for (const i of [A(), B(), C()]) {
        await eventually(async () => (await readyz(i)).status === 200, `/readyz 200 on ${i.grpc}`);
        assert.equal((await status(i)).store!.synced, true);
        await i.logged(/reachable again after \d+ s: caught up from revision \d+/);
      }
      // Writes are taken again, through any instance, and reach the others.
      const b = clients(B().grpc);
      try {
        await eventually(async () => (await call(b.admin, b.admin.UpdateUpstream, { skey: 'after', cluster: servers([9401]) })).version > 0, 'a write through B');
      } finally {
        b.close();
      }
      for (const i of [A(), C()]) await eventually(async () => (await portsOn(i, 'after'))?.[0] === 9401, `after on ${i.grpc}`);
      assert.equal(await portsOn(A(), 'during'), undefined, 'the refused write left nothing');
      // Leases taken again by every instance, and both targets are probed again.
      await until(() => [A(), B(), C()].every((i) => ownershipLogs(i) > ownedBefore.get(i)!), 'every instance to take its leases again', 4 * INTERVAL_S * 1000);
      await until(() => backends.ports.every((p) => backends.count(p, restartedAt) > 0), 'both targets probed again after Redis came back', 4 * INTERVAL_S * 1000);
      for (const w of watchers) {
        assert.deepEqual(w.backwards, [], 'versions only go forward');
        for (const [port, list] of w.statuses) assert.deepEqual(list, ['HEALTH_STATUS_OK'], `peer ${port} never flipped`);
      }
      t.diagnostic(`caught up, leases taken and both targets probed again ${((performance.now() - restartedAt) / 1000).toFixed(1)} s after Redis came back`);
    } finally {
      for (const w of watchers) w.close();
      admin.close();
    }
  });

  it('kill -9 of an instance and of Redis during a burst of admin writes over three instances: 0 acknowledged writes lost', async (t) => {
    const acked: Array<{ skey: string; port: number; via: string }> = [];
    const refused = new Map<string, number>();
    const ackedAfterRestart = new Map<string, number>([['A', 0], ['B', 0]]);
    let restarted = false;
    let stop = false;
    const writer = async (id: string, i: Instance) => {
      const c = clients(i.grpc);
      try {
        for (let n = 0; !stop; n++) {
          const skey = `w-${id}-${n}`;
          const port = 10_000 + n;
          try {
            // A write Redis took answers at the latest after the write path's apply wait (5 s).
            await call(c.admin, c.admin.UpdateUpstream, { skey, cluster: servers([port]) }, new grpc.Metadata(), 10_000);
            acked.push({ skey, port, via: id });
            if (restarted && ackedAfterRestart.has(id)) ackedAfterRestart.set(id, ackedAfterRestart.get(id)! + 1);
          } catch (err) {
            const code = grpc.status[(err as grpc.ServiceError).code] ?? 'unknown';
            refused.set(`${id} ${code}`, (refused.get(`${id} ${code}`) ?? 0) + 1);
            if (i.child.exitCode !== null || i.child.signalCode !== null) return;
            // Back off a little instead of spinning while Redis is away.
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      } finally {
        c.close();
      }
    };
    const writers = [writer('A', A()), writer('B', B()), writer('C', C())];
    await until(() => acked.length >= 60 && acked.some((a) => a.via === 'C'), 'a burst of acknowledged writes on all three', 60_000);
    await Promise.all([C().kill('SIGKILL'), redis.kill()]);
    const atKill = acked.length;
    await redis.restart();
    restarted = true;
    await until(() => [...ackedAfterRestart.values()].every((n) => n >= 20), '20 more acknowledged writes through A and B after Redis came back', 60_000);
    stop = true;
    await Promise.all(writers);
    inst.delete('C');

    // Every acknowledged write is in Redis and on every live instance, as written.
    const r: Redis = redis.client();
    try {
      const stored = await r.hgetall(`checkups:{${cluster}}:upstreams`);
      const missing = acked.filter((a) => !(stored[a.skey] ?? '').includes(`"port":${a.port}`));
      assert.deepEqual(missing, [], 'acknowledged writes missing from Redis');
    } finally {
      r.disconnect();
    }
    for (const i of [A(), B()]) {
      await eventually(async () => {
        const st = await status(i);
        const have = new Set(st.upstreams.map((u) => u.skey));
        return acked.every((a) => have.has(a.skey));
      }, `every acknowledged write on ${i.grpc}`);
    }
    for (const key of refused.keys()) if (!key.startsWith('C ')) assert.match(key, / UNAVAILABLE$/, `writes through A and B fail only as UNAVAILABLE (${[...refused].join(', ')})`);
    t.diagnostic(`acknowledged ${acked.length} (${atKill} before kill -9 of C and Redis), lost 0; refused: ${[...refused].map(([k, n]) => `${k}=${n}`).join(', ')}`);
  });

  it('an SDK connected to A, A killed: it resumes on B without a full resend, versions never go back', async (t) => {
    const sdk = new CheckupsClient({ servers: [A().grpc, B().grpc] });
    try {
      await sdk.ready();
      assert.equal(sdk.status().connectedTo, A().grpc);
      // The SDK holds what A serves (the writes of the burst have all reached it).
      const onA = new Map((await status(A())).upstreams.map((u) => [u.skey, Number(u.version)]));
      await until(() => [...onA].every(([skey, v]) => (sdk.upstream(skey)?.version ?? 0) >= v), 'the SDK to hold what A serves', 10_000);
      const held = new Map([...onA.keys()].map((s) => [s, sdk.upstream(s)!.version]));
      assert.ok(held.size > 50, `${held.size} upstreams held`);
      await A().kill('SIGKILL');
      inst.delete('A');
      await until(() => sdk.status().connectedTo === B().grpc, 'the SDK to resume on B', 30_000);
      for (const [skey, v] of held) assert.ok(sdk.upstream(skey)!.version >= v, `${skey} went from ${v} to ${sdk.upstream(skey)?.version}`);
      // What B sends a client resuming with those versions: only what changed since.
      const c = clients(B().grpc);
      const first = await new Promise<WatchResponse__Output>((resolve, reject) => {
        const s = c.discovery.Watch({ skeys: [], knownVersions: Object.fromEntries(held) });
        s.on('data', (m: WatchResponse__Output) => {
          if (m.syncComplete) {
            resolve(m);
            s.cancel();
          }
        });
        s.on('error', (err: grpc.ServiceError) => err.code !== grpc.status.CANCELLED && reject(err));
      });
      c.close();
      const resent = first.upstreams.filter((u) => Number(u.version) <= held.get(u.skey)!);
      assert.deepEqual(resent.map((u) => u.skey), [], 'nothing unchanged is sent again');
      assert.ok(first.upstreams.length < held.size / 4, `${first.upstreams.length} of ${held.size} upstreams sent on resume`);
      // A write through B reaches the SDK at a version above everything it held.
      const b = clients(B().grpc);
      const { version } = await call(b.admin, b.admin.UpdateUpstream, { skey: 'post-failover', cluster: servers([9500]) });
      b.close();
      assert.ok(version > Math.max(...held.values()));
      await until(() => sdk.upstream('post-failover')?.version === version, 'the SDK to see the write through B', 10_000);
      t.diagnostic(`resumed on B: ${first.upstreams.length} of ${held.size} upstreams sent (${first.upstreams.map((u) => `${u.skey} ${held.get(u.skey)} -> ${u.version}`).join(", ")})`);
    } finally {
      await sdk.close();
    }
  });
});

describe('cluster faults: Redis comes back empty (no persistence)', { timeout: 300_000 }, () => {
  let dir: string;
  let redis: TestRedis;
  let backends: CountingBackends;
  const inst: Instance[] = [];
  const cluster = `e${process.pid}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-empty-'));
    backends = await CountingBackends.start(1);
    writeFileSync(join(dir, 'checkups.yaml'), config(backends.ports));
    redis = await startRedis({ dir: join(dir, 'redis') });
    await Promise.all(['A', 'B', 'C'].map(async (id) => inst.push(await startInstance({ config: join(dir, 'checkups.yaml'), store: redis.url, cluster, id }))));
  });

  after(async () => {
    await Promise.all(inst.map((i) => i.kill()));
    await redis?.stop();
    await backends?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('the instances seed it again from their views: acknowledged changes survive, versions go on, a new instance sees them', async () => {
    const [a, b, c] = inst as [Instance, Instance, Instance];
    const watcher = new Watcher(b);
    const ca = clients(a.grpc);
    const cb = clients(b.grpc);
    const cc = clients(c.grpc);
    const r = redis.client();
    const keys = { upstreams: `checkups:{${cluster}}:upstreams`, verdicts: `checkups:{${cluster}}:verdicts` };
    try {
      await call(ca.admin, ca.admin.UpdateUpstream, { skey: 'keep', cluster: servers([9300]) });
      await call(ca.admin, ca.admin.UpdateUpstream, { skey: 'gone', cluster: servers([9303]) });
      const { version } = await call(cb.admin, cb.admin.AddPeer, { skey: 'keep', cluster: '1', server: { host: '127.0.0.1', port: 9301, weight: 1, maxFails: 0, failTimeoutMs: 0, down: false } });
      await call(cc.admin, cc.admin.DeleteUpstream, { skey: 'gone' });
      // At least the write's version: keep's peers are probed too, and their verdicts move it on.
      await until(() => (watcher.versions.get('keep') ?? 0) >= version && watcher.versions.has('h') && !watcher.versions.has('gone'), 'B to hold every write', 10_000);
      await eventually(async () => (await r.hlen(keys.verdicts)) > 0, 'the verdicts of h published');

      await redis.kill();
      await redis.restart();
      r.disconnect();
      const fresh = redis.client();
      try {
        // Noticed and seeded again, with every acknowledged change.
        await eventually(async () => {
          const stored = await fresh.hgetall(keys.upstreams);
          return (stored['keep'] ?? '').includes('9301') && stored['gone'] === '{"origin":"admin","upstream":null}' && stored['h'] !== undefined;
        }, 'keep (with both peers), the deletion of gone and the file upstream h back in Redis', 30_000);
        const noticed = /lost the cluster's data \(epoch .*: Redis came back empty; now epoch .*\): seeded it again from this instance's view/;
        // The instance logs it after its script answered, and the line comes through a pipe: wait for it.
        await Promise.any(inst.map((i) => i.logged(noticed, 10_000))).catch(() => assert.fail('an instance says what happened'));
        // The owner of h's target published its verdict again.
        await eventually(async () => (await fresh.hlen(keys.verdicts)) > 0, 'the verdicts of h published again');
        for (const i of inst) {
          await eventually(async () => JSON.stringify(await portsOn(i, 'keep')) === '[9300,9301]', `keep on ${i.grpc}`);
          assert.equal(await portsOn(i, 'gone'), undefined, `gone stays deleted on ${i.grpc}`);
          await eventually(async () => (await readyz(i)).status === 200, `/readyz 200 on ${i.grpc}`);
        }
        // Writes work again and versions go on from where they were.
        await eventually(async () => (await call(cc.admin, cc.admin.UpdateUpstream, { skey: 'new', cluster: servers([9302]) })).version > version, 'a write through C above the old versions');
        await eventually(async () => JSON.stringify(await portsOn(a, 'new')) === '[9302]', 'new on A');
        assert.deepEqual(watcher.backwards, [], 'versions only go forward on B');
        // A new instance joins the seeded cluster and sees the same.
        const d = await startInstance({ config: join(dir, 'checkups.yaml'), store: redis.url, cluster, id: 'D' });
        inst.push(d);
        assert.deepEqual(await portsOn(d, 'keep'), [9300, 9301]);
        assert.equal(await portsOn(d, 'gone'), undefined);
      } finally {
        fresh.disconnect();
      }
    } finally {
      watcher.close();
      for (const cl of [ca, cb, cc]) cl.close();
      r.disconnect();
    }
  });
});
