/**
 * The redis and mysql probes against the local Redis (6379) and MariaDB (3306), throwaway
 * redis-server children (a replica whose master is dead, one with requirepass), refused ports
 * and a blackhole.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { MysqlOptions, RedisOptions } from '../../src/core/model.ts';
import { runProbe } from '../../src/health/probes/index.ts';
import { parseInfo } from '../../src/health/probes/redis.ts';
import { blackhole, ctx, freePort, listen, spec } from '../support/net.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { ensureMariaDb, ensureRedis } from '../support/services.ts';

const TIMEOUT_MS = 1000;

function redis(port: number, opts: RedisOptions = {}, timeoutMs = TIMEOUT_MS) {
  return runProbe({ host: '127.0.0.1', port }, spec('redis', { redis: opts }), ctx(timeoutMs));
}

function mysql(port: number, opts: MysqlOptions, timeoutMs = TIMEOUT_MS) {
  return runProbe({ host: '127.0.0.1', port }, spec('mysql', { mysql: opts }), ctx(timeoutMs));
}

/** Speaks just enough RESP: +PONG to PING; to INFO an error, or nothing at all. */
async function pingOnlyRedis(info: 'error' | 'silent'): Promise<{ server: Server; port: number }> {
  const server = createServer((sock) => {
    sock.on('error', () => {});
    sock.on('data', (d) => {
      for (const [, cmd] of d.toString().matchAll(/\$4\r\n(PING|INFO)\r\n/gi)) {
        if (cmd!.toUpperCase() === 'PING') sock.write('+PONG\r\n');
        else if (info === 'error') sock.write("-ERR unknown command 'INFO'\r\n");
      }
    });
  });
  return { server, port: await listen(server) };
}

describe('redis probe', () => {
  let replica: TestRedis;
  let locked: TestRedis;
  let deadMasterPort: number;
  let hole: Awaited<ReturnType<typeof blackhole>>;

  before(async () => {
    await ensureRedis();
    deadMasterPort = await freePort();
    [replica, locked, hole] = await Promise.all([
      startRedis({ args: ['--replicaof', '127.0.0.1', String(deadMasterPort)] }),
      startRedis({ args: ['--requirepass', 'secret'] }),
      blackhole(),
    ]);
  });
  after(async () => {
    await Promise.all([replica?.stop(), locked?.stop(), hole?.close()]);
  });

  it('is ok against the local master, with redis_version and the replication role', async () => {
    const r = await redis(6379);
    assert.equal(r.status, 'ok');
    assert.equal(r.msg, null);
    assert.match(String(r.extras?.redis_version), /^\d+\.\d+\.\d+/);
    assert.deepEqual(r.extras?.replication, { role: 'master' });
  });

  it('is unstable "master link status: down" for a replica whose master is gone', async () => {
    const r = await redis(replica.port);
    assert.equal(r.status, 'unstable');
    assert.equal(r.msg, 'master link status: down');
    const repl = r.extras?.replication as Record<string, string>;
    assert.equal(repl.role, 'slave');
    assert.equal(repl.master_host, '127.0.0.1');
    assert.equal(repl.master_port, String(deadMasterPort));
    assert.equal(repl.master_link_status, 'down');
    assert.match(repl.master_last_io_seconds_ago!, /^-?\d+$/);
    assert.match(String(r.extras?.redis_version), /^\d+\./);
  });

  it('authenticates with the password; a wrong or missing one is err with replication null', async () => {
    assert.equal((await redis(locked.port, { password: 'secret' })).status, 'ok');
    const wrong = await redis(locked.port, { password: 'wrong' });
    assert.equal(wrong.status, 'err');
    assert.match(wrong.msg!, /WRONGPASS|invalid password/);
    assert.deepEqual(wrong.extras, { replication: null });
    const none = await redis(locked.port);
    assert.equal(none.status, 'err');
    assert.match(none.msg!, /^NOAUTH/);
    assert.deepEqual(none.extras, { replication: null });
  });

  it('tolerates a password configured for a server that has none (as ioredis does)', async () => {
    assert.equal((await redis(6379, { password: 'unused' })).status, 'ok');
  });

  it('selects db; an out-of-range db is err', async () => {
    assert.equal((await redis(6379, { db: 1 })).status, 'ok');
    const r = await redis(6379, { db: 4000 });
    assert.deepEqual([r.status, r.msg, r.extras], ['err', 'ERR DB index is out of range', { replication: null }]);
  });

  it('is err "connection refused" with replication null against a closed port', async () => {
    assert.deepEqual(await redis(await freePort()), { status: 'err', msg: 'connection refused', extras: { replication: null } });
  });

  it('is err "timeout" against a blackhole, at the deadline', async () => {
    const t0 = performance.now();
    assert.deepEqual(await redis(hole.port, {}, 300), { status: 'err', msg: 'timeout', extras: { replication: null } });
    assert.ok(performance.now() - t0 < 550, 'gave up at the deadline');
  });

  it('is ok when PING works but INFO is refused, with the INFO error in replication (as the original)', async () => {
    const fake = await pingOnlyRedis('error');
    try {
      assert.deepEqual(await redis(fake.port), { status: 'ok', msg: null, extras: { replication: { err: "ERR unknown command 'INFO'" } } });
    } finally {
      fake.server.close();
    }
  });

  it('is err "timeout" when INFO never answers (the deadline is not mistaken for a refused INFO)', async () => {
    const fake = await pingOnlyRedis('silent');
    try {
      assert.deepEqual(await redis(fake.port, {}, 300), { status: 'err', msg: 'timeout', extras: { replication: null } });
    } finally {
      fake.server.close();
    }
  });

  it('parses INFO lines case-insensitively into the original key names', () => {
    const info = '# Server\r\nredis_version:7.2.4\r\n# Replication\r\nROLE:slave\r\nmaster_host:10.0.0.1\r\nmaster_link_status:up\r\nconnected_slaves:0\r\n';
    assert.deepEqual(parseInfo(info), { redisVersion: '7.2.4', replication: { role: 'slave', master_host: '10.0.0.1', master_link_status: 'up' } });
  });
});

describe('mysql probe', () => {
  let hole: Awaited<ReturnType<typeof blackhole>>;
  before(async () => {
    await ensureMariaDb();
    hole = await blackhole();
  });
  after(() => hole?.close());

  it('is ok logging in to the local MariaDB as root into database test', async () => {
    assert.deepEqual(await mysql(3306, { user: 'root', name: 'test', charset: 'utf8mb4' }), { status: 'ok', msg: null });
  });

  it('is err "Access denied" with a wrong password', async () => {
    const r = await mysql(3306, { user: 'root', pass: 'definitely-wrong', name: 'test' });
    assert.equal(r.status, 'err');
    assert.match(r.msg!, /^Access denied for user 'root'/);
  });

  it('is err for an unknown database', async () => {
    assert.deepEqual(await mysql(3306, { user: 'root', name: 'checkups_no_such_db' }), { status: 'err', msg: "Unknown database 'checkups_no_such_db'" });
  });

  it('is err for an unknown charset (mysql2 throws synchronously; runProbe records it)', async () => {
    assert.deepEqual(await mysql(3306, { user: 'root', charset: 'klingon' }), { status: 'err', msg: "Unknown charset 'klingon'" });
  });

  it('is err "connection refused" against a closed port', async () => {
    assert.deepEqual(await mysql(await freePort(), { user: 'root' }), { status: 'err', msg: 'connection refused' });
  });

  it('is err "timeout" against a blackhole that never sends the handshake', async () => {
    const t0 = performance.now();
    assert.deepEqual(await mysql(hole.port, { user: 'root' }, 300), { status: 'err', msg: 'timeout' });
    assert.ok(performance.now() - t0 < 550, 'gave up at the deadline');
  });
});
