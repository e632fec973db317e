/**
 * GET /status returns lua-resty-checkups' get_status JSON (docs/compat.md), keys
 * included, with real probes of a live and a refused loopback server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startCheckups, type Checkups } from '../../src/main.ts';

describe('HTTP /status', () => {
  let dir: string;
  let live: Server;
  let livePort: number;
  let deadPort: number;
  let server: Checkups;

  before(async () => {
    live = createServer((s) => s.destroy()).listen(0, '127.0.0.1');
    await once(live, 'listening');
    livePort = (live.address() as AddressInfo).port;
    const tmp = createServer().listen(0, '127.0.0.1');
    await once(tmp, 'listening');
    deadPort = (tmp.address() as AddressInfo).port;
    tmp.close();
    dir = mkdtempSync(join(tmpdir(), 'checkups-http-'));
    writeFileSync(
      join(dir, 'c.yaml'),
      `global: { checkup_timer_interval: 0.2, conf_hash: "abc123" }
upstreams:
  api:
    timeout: 1
    cluster:
      - servers: [ { host: 127.0.0.1, port: ${livePort}, weight: 3, max_fails: 2, fail_timeout: 5 }, { host: 127.0.0.1, port: ${deadPort} } ]
      - servers: [ { host: 127.0.0.1, port: ${livePort} } ]
  named:
    enable: false
    cluster:
      dc1: { servers: [ { host: 127.0.0.1, port: 1 } ] }
`,
    );
    server = await startCheckups({ configFile: join(dir, 'c.yaml'), grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir, 'data'), logger: pino({ level: 'silent' }) });
  });

  after(async () => {
    await server.stop(100);
    live.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function status(): Promise<Record<string, unknown>> {
    const res = await fetch(`http://${server.httpAddress}/status`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    return (await res.json()) as Record<string, unknown>;
  }

  it('has the original keys and shapes, with probe results', async () => {
    let body = await status();
    for (let i = 0; i < 50 && body['last_check_time'] === null; i++) {
      await new Promise((r) => setTimeout(r, 100));
      body = await status();
    }
    await new Promise((r) => setTimeout(r, 500)); // every target probed at least once
    body = await status();
    assert.deepEqual(Object.keys(body).sort(), ['checkup_timer_alive', 'cls:api', 'cls:named', 'conf_hash', 'config_timer', 'last_check_time', 'shd_config_version', 'start_time']);
    assert.match(body['last_check_time'] as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.match(body['start_time'] as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(body['checkup_timer_alive'], true);
    assert.equal(body['conf_hash'], 'abc123');
    assert.equal(typeof body['shd_config_version'], 'number');
    assert.deepEqual(body['config_timer'], { 'worker-0': 'alive' });

    const api = body['cls:api'] as Array<Array<Record<string, unknown>>>;
    assert.equal(api.length, 2, 'levels are a list of lists');
    const [ok, dead] = api[0]!;
    assert.equal(ok!['server'], `api:127.0.0.1:${livePort}`);
    assert.equal(ok!['status'], 'ok');
    assert.equal(ok!['fail_num'], 0);
    assert.equal(ok!['msg'], null);
    assert.equal(ok!['weight'], 3);
    assert.equal(ok!['max_fails'], 2);
    assert.equal(ok!['fail_timeout'], 5);
    assert.match(ok!['lastmodified'] as string, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    assert.equal(dead!['status'], 'err');
    assert.equal(dead!['msg'], 'connection refused');
    assert.ok((dead!['fail_num'] as number) >= 1);
    assert.equal(api[1]![0]!['status'], 'ok', 'a server listed twice shares one record');

    const named = body['cls:named'] as Record<string, Array<Record<string, unknown>>>;
    assert.deepEqual(Object.keys(named), ['dc1'], 'named clusters are an object');
    assert.deepEqual(named['dc1']![0], { server: 'named:127.0.0.1:1', status: 'unchecked', passive_status: 'ok', weight: 1, max_fails: 0, fail_timeout: 10 });
  });

  it('/healthz answers; unknown paths and methods are refused with a hint', async () => {
    assert.equal((await fetch(`http://${server.httpAddress}/healthz`)).status, 200);
    const nf = await fetch(`http://${server.httpAddress}/nope`);
    assert.equal(nf.status, 404);
    assert.match(await nf.text(), /GET \/status/);
    assert.equal((await fetch(`http://${server.httpAddress}/status`, { method: 'POST' })).status, 405);
  });
});
