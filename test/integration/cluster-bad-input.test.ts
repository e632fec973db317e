/**
 * Cluster mode, bad input (docs/cluster.md, "Failure modes"): a bad store URL, a Redis that
 * refuses the credentials (at start, and after the password changed under running
 * instances), stream entries that do not parse, two instances with different config files.
 * Each: a clear error or warning naming what and where; running instances keep serving what
 * they had; nothing acknowledged is lost. Real redis-servers on their own loopback ports.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { clusterKeys } from '../../src/core/store/redis-keys.ts';
import { jsonToValue, structToJson } from '../../src/wire/struct.ts';
import { startInstance, type Instance } from '../support/cluster-instances.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { call, clients, grpcError } from '../support/grpc-clients.ts';

const CONFIG = `global: { default_heartbeat_enable: false }
upstreams:
  api:
    cluster:
      - servers:
          - { host: 127.0.0.1, port: 9001 }
`;

const servers = (ports: number[]) => jsonToValue([{ servers: ports.map((port) => ({ host: '127.0.0.1', port })) }]);

/** `checkups serve` that is expected to fail at start: its exit code and stderr. */
async function serveFails(args: readonly string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--log-level', 'silent', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, CHECKUPS_ADMIN_TOKEN: '' },
  });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code, stderr };
}

async function portsOn(inst: Instance, skey: string): Promise<number[] | undefined> {
  const c = clients(inst.grpc);
  try {
    const g = await call(c.admin, c.admin.GetUpstream, { skey });
    return Object.values(structToJson(g.upstream)['cluster'] as Record<string, { servers: Array<{ port: number }> }>).flatMap((l) => l.servers.map((s) => s.port));
  } catch {
    return undefined;
  } finally {
    c.close();
  }
}

async function eventually(probe: () => Promise<boolean>, what: string, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const readyz = async (i: Instance) => {
  const res = await fetch(`http://${i.http}/readyz`);
  return { status: res.status, text: await res.text() };
};

describe('cluster bad input', { timeout: 600_000 }, () => {
  let dir: string;
  const started: Instance[] = [];
  const redises: TestRedis[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-cluster-bad-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
  });

  after(async () => {
    await Promise.all(started.map((i) => i.kill()));
    await Promise.all(redises.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a bad store URL is refused at start, naming it (without its password) and the expected form', async () => {
    const config = ['--config', join(dir, 'checkups.yaml')];
    const scheme = await serveFails([...config, '--store', 'http://127.0.0.1:6379/0']);
    assert.equal(scheme.code, 1);
    assert.match(scheme.stderr, /store "http:\/\/127\.0\.0\.1:6379\/0": scheme http: is not redis: or rediss:; expected redis:\/\/\[user:password@\]HOST:PORT\/DB/);
    const db = await serveFails([...config, '--store', 'redis://:hunter2@127.0.0.1:6379/zero']);
    assert.equal(db.code, 1);
    assert.match(db.stderr, /store "redis:\/\/:\*\*\*@127\.0\.0\.1:6379\/zero": database "zero" is not a number/);
    assert.doesNotMatch(db.stderr, /hunter2/);
    // The same rule in the config file names the key.
    writeFileSync(join(dir, 'bad-store.yaml'), `${CONFIG}server: { store: "mysql://127.0.0.1:3306/x" }\n`);
    const file = await serveFails(['--config', join(dir, 'bad-store.yaml')]);
    assert.equal(file.code, 1);
    assert.match(file.stderr, /server\.store: must be a store URL \(redis:\/\/HOST:PORT\/DB\)/);
    assert.match(file.stderr, /bad-store\.yaml/);
  });

  it('a Redis that refuses the credentials: refused at start saying so; revoked while running: keeps serving, unsynced with the reason, writes UNAVAILABLE; fixed: catches up', async () => {
    const redis = await startRedis({ dir: join(dir, 'redis-auth'), args: ['--requirepass', 'right-pass'] });
    redises.push(redis);
    const base = `127.0.0.1:${redis.port}/0`;
    const none = await serveFails(['--config', join(dir, 'checkups.yaml'), '--store', `redis://${base}`]);
    assert.equal(none.code, 1);
    assert.match(none.stderr, /Redis redis:\/\/127\.0\.0\.1:\d+\/0 cluster default: Redis refused the credentials \(NOAUTH Authentication required\.\); check the user and password of the store URL/);
    const wrong = await serveFails(['--config', join(dir, 'checkups.yaml'), '--store', `redis://:wrong-pass@${base}`]);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Redis redis:\/\/:\*\*\*@127\.0\.0\.1:\d+\/0 cluster default: Redis refused the credentials \(WRONGPASS/);
    assert.doesNotMatch(wrong.stderr, /wrong-pass/);

    const a = await startInstance({ config: join(dir, 'checkups.yaml'), store: `redis://:right-pass@${base}`, cluster: 'auth', id: 'A' });
    started.push(a);
    const ca = clients(a.grpc);
    const admin = new Redis({ host: '127.0.0.1', port: redis.port, password: 'right-pass', maxRetriesPerRequest: 1 });
    try {
      await call(ca.admin, ca.admin.UpdateUpstream, { skey: 'before', cluster: servers([9100]) });
      // The password changes under the running instance; its connections are dropped.
      await admin.config('SET', 'requirepass', 'new-pass');
      await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
      await eventually(async () => /store: unsynced since .*(WRONGPASS|NOAUTH)/.test((await readyz(a)).text), '/readyz to name the refused password');
      assert.equal((await readyz(a)).status, 503);
      await a.logged(/still unreachable \((WRONGPASS|NOAUTH)[^)]*\): serving the last view/);
      assert.deepEqual(await portsOn(a, 'before'), [9100], 'keeps serving what it had');
      await assert.rejects(call(ca.admin, ca.admin.UpdateUpstream, { skey: 'refused', cluster: servers([9101]) }), grpcError(grpc.status.UNAVAILABLE, /(WRONGPASS|NOAUTH).*change to refused refused, nothing was changed/));
      assert.doesNotMatch(JSON.stringify(a.logs), /right-pass|new-pass/, 'no password in the log');
      // Fixed: it catches up and takes writes again.
      await admin.config('SET', 'requirepass', 'right-pass');
      await eventually(async () => (await readyz(a)).status === 200, '/readyz 200 again');
      await eventually(async () => (await call(ca.admin, ca.admin.UpdateUpstream, { skey: 'after', cluster: servers([9102]) })).version > 0, 'a write after the fix');
      assert.equal(await portsOn(a, 'refused'), undefined);
      assert.deepEqual(await portsOn(a, 'before'), [9100]);
    } finally {
      ca.close();
      admin.disconnect();
    }
  });

  it('stream entries that do not parse (or do not validate): warned about with stream and entry id, skipped; instances keep serving and following', async () => {
    const redis = await startRedis({ dir: join(dir, 'redis-entries') });
    redises.push(redis);
    const [a, b] = await Promise.all(['A', 'B'].map((id) => startInstance({ config: join(dir, 'checkups.yaml'), store: redis.url, cluster: 'entries', id })));
    started.push(a!, b!);
    const keys = clusterKeys('entries');
    const r = redis.client();
    const ca = clients(a!.grpc);
    try {
      // Written by something else than checkups, each with the next revision, as the stream rule wants.
      const bad = async (...fields: string[]) => {
        const rev = String(await r.incr(keys.revision));
        await r.xadd(keys.changes, `${rev}-0`, 'rev', rev, ...fields);
        return rev;
      };
      const kind = await bad('kind', 'bogus', 'at', '1', 'skey', 'api', 'origin', 'admin');
      const json = await bad('kind', 'put', 'at', '1', 'skey', 'api', 'origin', 'admin', 'upstream', '{"cluster": [');
      const invalid = await bad('kind', 'put', 'at', '1', 'skey', 'api', 'origin', 'admin', 'upstream', '{"cluster": "nope"}');
      const verdict = await bad('kind', 'verdict', 'at', '1', 'skey', 'api', 'type', 'health', 'peers', 'nope');
      for (const i of [a!, b!]) {
        await i.logged(new RegExp(`stream checkups:\\{entries\\}:changes entry "${kind}-0": unknown kind "bogus" \\(known: put, delete, verdict\\); skipped \\(this instance keeps its view`));
        await i.logged(new RegExp(`stream checkups:\\{entries\\}:changes entry "${json}-0": upstream is not valid JSON`));
        await i.logged(new RegExp(`change to api at revision ${invalid} does not validate here and was skipped \\(this instance keeps the previous state\\): .*cluster`));
        assert.ok(
          await i.logged(/verdict entry does not parse; skipped/).then(() => i.logs.some((l) => l.msg === 'verdict entry does not parse; skipped' && String(l['rev']) === verdict)),
          'the verdict entry is named by its revision',
        );
      }
      // Nothing changed, and the stream is still followed.
      for (const i of [a!, b!]) assert.deepEqual(await portsOn(i, 'api'), [9001]);
      const { version } = await call(ca.admin, ca.admin.UpdateUpstream, { skey: 'api', cluster: servers([9002]) });
      assert.ok(version > Number(verdict));
      await eventually(async () => JSON.stringify(await portsOn(b!, 'api')) === '[9002]', 'the next write on B');
      for (const i of [a!, b!]) assert.equal((await readyz(i)).status, 200);
    } finally {
      ca.close();
      r.disconnect();
    }
  });

  it('two instances with different config files: both name the difference and the files, keep serving, admin changes stay; SIGHUP is refused in cluster mode', async () => {
    const redis = await startRedis({ dir: join(dir, 'redis-configs') });
    redises.push(redis);
    const one = join(dir, 'one.yaml');
    const two = join(dir, 'two.yaml');
    const doc = (ups: Record<string, number>) =>
      `global: { default_heartbeat_enable: false }\nupstreams:\n${Object.entries(ups)
        .map(([skey, port]) => `  ${skey}:\n    cluster:\n      - servers:\n          - { host: 127.0.0.1, port: ${port} }\n`)
        .join('')}`;
    writeFileSync(one, doc({ x: 9201, shared: 9202 }));
    writeFileSync(two, doc({ y: 9203, shared: 9204 }));
    const a = await startInstance({ config: one, store: redis.url, cluster: 'configs', id: 'A' });
    started.push(a);
    const ca = clients(a.grpc);
    try {
      await call(ca.admin, ca.admin.UpdateUpstream, { skey: 'adm', cluster: servers([9205]) });
      const b = await startInstance({ config: two, store: redis.url, cluster: 'configs', id: 'B' });
      started.push(b);
      const warning = (await b.logged(/have different config files/)).msg;
      assert.match(warning, /this instance \(B, config .*two\.yaml, hash \w+\) and instance A \(config .*one\.yaml on /);
      assert.match(warning, /this file adds y; changes shared; removes x \(of what the cluster served\)/);
      await a.logged(/upstream shared now follows the config file of instance B, which changed it; this instance's file .*one\.yaml differs/);
      await a.logged(/upstream x now follows the config file of instance B, which removed it/);
      // One view, both serving; the admin change is kept.
      for (const i of [a, b]) {
        await eventually(async () => JSON.stringify(await portsOn(i, 'shared')) === '[9204]', `shared from two.yaml on ${i.grpc}`);
        assert.deepEqual(await portsOn(i, 'adm'), [9205]);
        assert.deepEqual(await portsOn(i, 'y'), [9203]);
      }
      // A reload would change one instance's view only: refused, saying how to roll a new file.
      a.child.kill('SIGHUP');
      await a.logged(/config reload refused, nothing changed: cluster mode: .*restart the instances one by one/);
      assert.deepEqual(await portsOn(a, 'shared'), [9204]);
    } finally {
      ca.close();
    }
  });
});
