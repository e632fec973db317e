/**
 * No probe leaves a socket behind: the process's open file descriptors are counted before and
 * after thousands of probes of every kind (successes, failures and timeouts) on loopback.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { UpstreamSpec } from '../../src/core/model.ts';
import { runProbe } from '../../src/health/probes/index.ts';
import type { ProbeResult } from '../../src/health/state-machine.ts';
import { ctx, freePort, listen, openFds, settleFds, spec, startTcpServerChild } from '../support/net.ts';
import { ensureMariaDb, ensureRedis } from '../support/services.ts';

const GET = 'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n';

/** Runs `count` probes, at most `concurrency` at a time; returns how many ended in each status/msg. */
async function probeMany(count: number, concurrency: number, port: number, s: UpstreamSpec, timeoutMs = 1000): Promise<Record<string, number>> {
  const tally: Record<string, number> = {};
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      const r: ProbeResult = await runProbe({ host: '127.0.0.1', port }, s, ctx(timeoutMs));
      const key = r.msg === null ? r.status : `${r.status}: ${r.msg}`;
      tally[key] = (tally[key] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return tally;
}

/** Sockets of this host in TIME_WAIT towards `port` on loopback (the kernel's /proc/net/tcp, state 06). */
function timeWaitTo(port: number): number {
  let n = 0;
  for (const line of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length > 3 && cols[3] === '06' && Number.parseInt(cols[2]!.split(':')[1]!, 16) === port) n++;
  }
  return n;
}

describe('probe resource hygiene', () => {
  let sink: Awaited<ReturnType<typeof startTcpServerChild>>;
  let hole: Awaited<ReturnType<typeof startTcpServerChild>>;
  let web: ReturnType<typeof createHttpServer>;
  let webPort: number;
  let grpcServer: grpc.Server;
  let grpcPort: number;
  let refused: number;

  before(async () => {
    await Promise.all([ensureRedis(), ensureMariaDb()]);
    [sink, hole] = await Promise.all([startTcpServerChild('sink'), startTcpServerChild('blackhole')]);
    web = createHttpServer((req, res) => res.writeHead(req.url === '/bad' ? 502 : 200).end('x'.repeat(4096)));
    webPort = await listen(web);
    grpcServer = new grpc.Server();
    new HealthImplementation({ '': 'SERVING' }).addToServer(grpcServer);
    grpcPort = await new Promise<number>((resolve, reject) =>
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    refused = await freePort();
  });
  after(async () => {
    web?.closeAllConnections();
    grpcServer?.forceShutdown();
    await Promise.all([web && new Promise((resolve) => web.close(resolve)), hole?.stop(), sink?.stop()]);
  });

  it('every kind of probe, ok, failing and timing out, leaves the fd count where it was', async () => {
    // One of each first, so lazily loaded modules and the health proto are in place.
    await probeMany(1, 1, grpcPort, spec('grpc'));
    await probeMany(1, 1, 3306, spec('mysql', { mysql: { user: 'root' } }));
    const baseline = await settleFds(openFds());

    const results = {
      tcp: await probeMany(500, 50, sink.port, spec('general')),
      tcpRefused: await probeMany(100, 50, refused, spec('general')),
      tcpHole: await probeMany(100, 50, hole.port, spec('general')),
      http: await probeMany(100, 25, webPort, spec('http', { http: { query: GET } })),
      httpBad: await probeMany(50, 25, webPort, spec('http', { http: { query: 'GET /bad HTTP/1.1\r\n\r\n', statuses: { '502': false } } })),
      httpBody: await probeMany(50, 25, webPort, spec('http', { http: { query: GET, bodyMatch: '^x+$' } })),
      httpTimeout: await probeMany(50, 50, hole.port, spec('http', { http: { query: GET } }), 100),
      redis: await probeMany(50, 10, 6379, spec('redis')),
      redisTimeout: await probeMany(20, 20, hole.port, spec('redis'), 100),
      mysql: await probeMany(20, 5, 3306, spec('mysql', { mysql: { user: 'root' } })),
      mysqlTimeout: await probeMany(20, 20, hole.port, spec('mysql'), 100),
      grpc: await probeMany(50, 10, grpcPort, spec('grpc')),
      grpcTimeout: await probeMany(20, 20, hole.port, spec('grpc'), 100),
    };
    assert.deepEqual(results, {
      tcp: { ok: 500 },
      tcpRefused: { 'err: connection refused': 100 },
      tcpHole: { ok: 100 },
      http: { ok: 100 },
      httpBad: { 'err: bad status code': 50 },
      httpBody: { ok: 50 },
      httpTimeout: { 'err: timeout': 50 },
      redis: { ok: 50 },
      redisTimeout: { 'err: timeout': 20 },
      mysql: { ok: 20 },
      mysqlTimeout: { 'err: timeout': 20 },
      grpc: { ok: 50 },
      grpcTimeout: { 'err: timeout': 20 },
    });
    const afterwards = await settleFds(baseline);
    assert.ok(Math.abs(afterwards - baseline) <= 2, `open fds: ${baseline} before, ${afterwards} after`);
  });

  it('a tcp probe closes with a reset: it leaves no TIME_WAIT socket on this host', async () => {
    // A server that closes when the client does: after a FIN from the probe, the probe's end
    // would wait in TIME_WAIT for a minute.
    const own = await startTcpServerChild('sink');
    try {
      assert.deepEqual(await probeMany(200, 20, own.port, spec('general')), { ok: 200 });
      assert.equal(timeWaitTo(own.port), 0);
    } finally {
      await own.stop();
    }
  });

  it('10,000 tcp probes, 100 at a time, leave the open file count the same', async () => {
    const baseline = await settleFds(openFds());
    const t0 = performance.now();
    const tally = await probeMany(10_000, 100, sink.port, spec('general'));
    const took = performance.now() - t0;
    assert.deepEqual(tally, { ok: 10_000 });
    const afterwards = await settleFds(baseline);
    assert.ok(Math.abs(afterwards - baseline) <= 2, `open fds: ${baseline} before, ${afterwards} after`);
    assert.ok(took < 10_000, `took ${Math.round(took)} ms`);
  });
});
