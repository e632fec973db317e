/**
 * `checkups import lua|nginx` end to end: the CLI converts realistic files (the shapes of
 * lua-resty-checkups' README example and of nginx's upstream documentation, rewritten here, plus
 * files with every construct), a real server loads the output unchanged, and its picks follow
 * what the source would pick:
 * - Lua: the original's verified smooth-WRR output for weights 1,4,3,6 (EBCEBEACEBECBE...), the
 *   original's weights of 3,200,000, levels and named clusters;
 * - nginx: a real nginx (Debian's nginx-light) proxying to live backends, request by request.
 */
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { Checkups } from '../../src/main.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';
import { freePort, listen } from '../support/net.ts';
import { startTestServer } from '../support/test-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = join(ROOT, 'test/fixtures/import');
const CHILD_TIMEOUT_MS = 20_000;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: CHILD_TIMEOUT_MS }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

/** Copies a fixture with its @Pn@ / @DIR@ / @LISTEN@ placeholders filled in. */
function fill(text: string, ports: ReadonlyMap<number, number>, extra: Record<string, string> = {}): string {
  return text.replace(/@P(\d+)@/g, (_, n: string) => String(ports.get(Number(n)))).replace(/@([A-Z]+)@/g, (m, k: string) => extra[k] ?? m);
}

async function selectSequence(c: Clients, skey: string, n: number, clusterKey: string[] = [], hashKey = ''): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await call(c.discovery, c.discovery.SelectPeer, { skey, clusterKey, hashKey })).peer!.port);
  return out;
}

describe('checkups import lua', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  const ports = new Map<number, number>();
  let run: Run;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-import-lua-'));
    for (let i = 1; i <= 12; i++) ports.set(i, 20_000 + i * 7);
    writeFileSync(join(dir, 'config.lua'), fill(readFileSync(join(FIXTURES, 'readme-config.lua'), 'utf8'), ports));
    run = await cli(['import', 'lua', join(dir, 'config.lua'), '-o', join(dir, 'checkups.yaml')]);
    server = await startTestServer(dir);
    c = clients(server.grpcAddress);
  });

  after(async () => {
    c?.close();
    await server?.stop(1000);
    rmSync(dir, { recursive: true, force: true });
  });

  it('converts the README example with nothing left behind, and the server loads it', () => {
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /5 upstreams imported into .*checkups\.yaml; 0 constructs not carried as written\n/);
    const doc = parseYaml(readFileSync(join(dir, 'checkups.yaml'), 'utf8')) as { global: Record<string, unknown>; upstreams: Record<string, Record<string, unknown>> };
    assert.deepEqual(doc.global, { checkup_timer_interval: 15, checkup_shd_sync_enable: true, shd_config_timer_interval: 1 });
    assert.deepEqual(Object.keys(doc.upstreams), ['ups1', 'api', 'redis', 'mysql', 'web']);
    assert.equal(doc.upstreams['web']!['http_opts'] !== undefined && (doc.upstreams['web']!['http_opts'] as { query: string }).query, 'GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n');
    assert.deepEqual(doc.upstreams['mysql']!['charset'], 'utf8mb4');
  });

  it('level 1 of api picks exactly as lua-resty-checkups does for weights 1,4,3,6', async () => {
    const [a, b, cc, e] = [ports.get(2)!, ports.get(3)!, ports.get(4)!, ports.get(5)!];
    const name = new Map([
      [a, 'A'],
      [b, 'B'],
      [cc, 'C'],
      [e, 'E'],
    ]);
    const got = (await selectSequence(c, 'api', 56)).map((p) => name.get(p) ?? '?').join('');
    assert.equal(got, 'EBCEBEACEBECBEEBCEBEACEBECBE'.repeat(2));
    // Level 2 holds the fallback server, as in the source.
    assert.deepEqual(await selectSequence(c, 'api', 2, ['2']), [ports.get(6)!, ports.get(6)!]);
  });

  it("the original's weights of 3,200,000 load and share 2:1", async () => {
    const seq = await selectSequence(c, 'redis', 30);
    assert.equal(seq.filter((p) => p === ports.get(7)).length, 20);
    assert.equal(seq.filter((p) => p === ports.get(8)).length, 10);
  });

  it('named clusters keep their servers; a hash key picks within the asked cluster', async () => {
    const dc1 = new Set([ports.get(10)!, ports.get(11)!]);
    for (const key of ['a', 'b', 'c', 'd']) assert.ok(dc1.has((await selectSequence(c, 'web', 1, ['dc1'], key))[0]!));
    assert.deepEqual(await selectSequence(c, 'web', 1, ['dc2'], 'a'), [ports.get(12)!]);
  });

  it('every construct: the rest converts, each one not carried is reported with its line', async () => {
    const out = await cli(['import', 'lua', join(FIXTURES, 'every-construct.lua')]);
    assert.equal(out.code, 0, out.stderr);
    for (const line of [
      `${join(FIXTURES, 'every-construct.lua')}:36: http_api.heartbeat: a custom heartbeat function is not carried`,
      ':40: http_api.cluster.2.upstream = "api_backup": servers pulled from an nginx upstream block are not carried; run `checkups import nginx`',
      ':48: http_api.cluster.dc3.servers[2].host: a function call cannot be read without running it',
      ':49: http_api.cluster.dc3.servers[3].weight: must be an integer 1..2147483647 (got number 0)',
      ':50: http_api.cluster.dc3.servers[4].max_fail: unknown option',
      ':34: http_api.http_opts.statuses[502] = false: lua-resty-checkups never matched numeric keys',
      ':47: http_api.cluster.dc3.servers[1]: 10.0.0.3:9003 is listed twice in one level',
      ':69: a function in the config module is not carried',
    ]) {
      assert.ok(out.stderr.includes(line), `missing ${JSON.stringify(line)} in:\n${out.stderr}`);
    }
    const doc = parseYaml(out.stdout) as { upstreams: Record<string, { cluster: Record<string, { servers: Array<{ host: string; port: number; weight?: number }> }>; [k: string]: unknown }> };
    const api = doc.upstreams['http_api']!;
    // Local bindings and literal arithmetic are data; a string port is taken as its number.
    assert.deepEqual(api.cluster['1']!.servers, [
      { host: '10.0.0.1', port: 9001, weight: 2 },
      { host: '10.0.0.2', port: 9002 },
    ]);
    assert.deepEqual(api['http_opts'], { query: 'GET /health HTTP/1.0\r\n\r\n', statuses: { '200': true, '502': false, '503': false } });
    assert.deepEqual(
      api.cluster['dc3']!.servers.map((s) => s.port),
      [9003, 9005, 9006],
    );
    assert.equal(doc.upstreams['store']!['name'], 'db1');
    assert.equal(doc.upstreams['store']!['timeout'], 3);
    // The output loads in a server unchanged.
    const d2 = mkdtempSync(join(tmpdir(), 'checkups-import-lua2-'));
    try {
      writeFileSync(join(d2, 'checkups.yaml'), out.stdout);
      const s2 = await startTestServer(d2);
      await s2.stop(1000);
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it('not Lua, or not a module: a clear error with the line, exit 1', async () => {
    const bad = join(dir, 'bad.lua');
    writeFileSync(bad, 'local _M = {\n  api = { cluster = {\n}\n');
    const out = await cli(['import', 'lua', bad]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /bad\.lua:4: not valid Lua: .*nothing imported/);
  });
});

/** An HTTP backend that answers with its own port. */
async function backend(): Promise<{ port: number; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    res.setHeader('connection', 'close');
    res.end(String((server.address() as { port: number }).port));
  });
  const port = await listen(server);
  return { port, server };
}

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('checkups import nginx (against a real nginx)', () => {
  let dir: string;
  let nginx: ChildProcess;
  let nginxPort: number;
  let server: Checkups;
  let c: Clients;
  const backends: Array<{ port: number; server: Server }> = [];
  const ports = new Map<number, number>();
  let run: Run;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-import-nginx-'));
    for (let i = 1; i <= 9; i++) {
      const b = await backend();
      backends.push(b);
      ports.set(i, b.port);
    }
    nginxPort = await freePort();
    const conf = join(dir, 'conf');
    cpSync(join(FIXTURES, 'nginx'), conf, { recursive: true });
    for (const f of ['nginx.conf', 'conf.d/sessions.conf']) {
      writeFileSync(join(conf, f), fill(readFileSync(join(conf, f), 'utf8'), ports, { DIR: dir, LISTEN: String(nginxPort) }));
    }
    mkdirSync(join(dir, 'logs'));
    nginx = spawn('nginx', ['-p', dir, '-c', join(conf, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    nginx.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Ready when it answers (bounded).
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await get(nginxPort, '/ready-check');
        break;
      } catch (err) {
        if (Date.now() > deadline || nginx.exitCode !== null) throw new Error(`nginx did not start: ${stderr || String(err)}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    run = await cli(['import', 'nginx', join(conf, 'nginx.conf'), '-o', join(dir, 'checkups.yaml')]);
    server = await startTestServer(dir);
    c = clients(server.grpcAddress);
  });

  after(async () => {
    c?.close();
    await server?.stop(1000);
    if (nginx !== undefined && nginx.exitCode === null) {
      nginx.kill('SIGTERM');
      await once(nginx, 'exit');
    }
    await Promise.all(backends.map((b) => new Promise((r) => b.server.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('reports what is not carried, with file and line, following include', () => {
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /conf\.d\/sessions\.conf:3: zone: not carried/);
    assert.match(run.stderr, /conf\.d\/sessions\.conf:8: keepalive: not carried/);
    assert.match(run.stderr, /conf\.d\/sessions\.conf:4: hash \$request_uri consistent: carried as mode: url_hash/);
    assert.match(run.stderr, /2 upstreams imported/);
    const doc = parseYaml(readFileSync(join(dir, 'checkups.yaml'), 'utf8')) as { upstreams: Record<string, { enable: boolean; mode?: string; cluster: Record<string, { servers: Array<Record<string, unknown>> }> }> };
    assert.equal(doc.upstreams['backend']!.enable, false, 'nginx has no active checks');
    assert.deepEqual(doc.upstreams['backend']!.cluster['1']!.servers[2], { host: '127.0.0.1', port: ports.get(3), weight: 3, max_fails: 3, fail_timeout: 30 });
    assert.deepEqual(doc.upstreams['backend']!.cluster['2']!.servers.map((s) => s['port']), [ports.get(5), ports.get(6)]);
    assert.deepEqual(doc.upstreams['sessions']!.cluster['1']!.servers[1], { host: '127.0.0.1', port: ports.get(8), weight: 1, max_fails: 1, fail_timeout: 90 });
    assert.equal(doc.upstreams['sessions']!.mode, 'url_hash');
  });

  it('round robin: checkups picks the same servers in the same order as nginx, request by request', async () => {
    const viaNginx: number[] = [];
    for (let i = 0; i < 22; i++) {
      const res = await get(nginxPort, `/r${i}`);
      assert.equal(res.status, 200);
      viaNginx.push(Number(res.body));
    }
    // The readiness request took one pick from nginx's rotation: skip the same one here.
    const viaCheckups = (await selectSequence(c, 'backend', 23)).slice(1);
    assert.deepEqual(viaCheckups, viaNginx);
    assert.ok(viaNginx.every((p) => p !== ports.get(5) && p !== ports.get(6)), 'backups stay idle while primaries work');
  });

  it('hash: a down server is skipped by both; both use only the servers listed', async () => {
    const allowed = new Set([ports.get(7)!, ports.get(8)!]);
    for (let i = 0; i < 20; i++) {
      const res = await get(nginxPort, `/sessions/u${i}`);
      assert.ok(allowed.has(Number(res.body)), `nginx used ${res.body}`);
      const peer = (await call(c.discovery, c.discovery.SelectPeer, { skey: 'sessions', request: { path: `/sessions/u${i}`, clientIp: '', headerHashKey: '' } })).peer!;
      assert.ok(allowed.has(peer.port), `checkups picked ${peer.port}`);
    }
  });

  it('every construct: the rest converts, each one not carried is reported with its line', async () => {
    const out = await cli(['import', 'nginx', join(FIXTURES, 'every-construct.nginx.conf')]);
    assert.equal(out.code, 0, out.stderr);
    for (const want of [
      /:4: zone: not carried/,
      /:5: least_conn: not carried/,
      /:6: keepalive: not carried/,
      /:10: server 10\.0\.0\.2:8080 max_conns=100: no connection limit per server; not carried/,
      /:11: server api\.internal resolve: checkups re-resolves host names itself/,
      /:13: server unix:\/run\/api\.sock: a unix socket; not carried/,
      /:14: server 10\.0\.0\.1:8080 is listed twice/,
      /:16: server 10\.0\.0\.10:8080 slow_start=30s: carried as the upstream's slow_start: 30; checkups ramps every server/,
      /:19: ip_hash: carried as mode: ip_hash/,
      /:24: hash \$cookie_user: carried as mode: hash \(callers must pass/,
      /:25: random: not carried/,
      /:30: include missing\/\*\.conf: ENOENT/,
      /:31: include .*missing\.conf: ENOENT/,
      /:34: server 10\.0\.4\.2:53 weight=2147483648: weight must be an integer 1\.\.2147483647/,
    ]) {
      assert.match(out.stderr, want);
    }
    const doc = parseYaml(out.stdout) as { upstreams: Record<string, { mode?: string; slow_start?: number; cluster: Record<string, { servers: Array<Record<string, unknown>> }> }> };
    assert.deepEqual(Object.keys(doc.upstreams), ['api', 'by_ip', 'by_key', 'by_header', 'dns']);
    assert.equal(doc.upstreams['api']!.slow_start, 30);
    assert.equal(doc.upstreams['by_ip']!.slow_start, undefined);
    assert.deepEqual(
      doc.upstreams['api']!.cluster['1']!.servers.map((s) => `${s['host']}:${s['port']}${s['down'] === true ? ' down' : ''}`),
      ['10.0.0.1:8080', '10.0.0.2:8080', 'api.internal:80', 'fd00::1:8443', '10.0.0.10:8080 down'],
    );
    assert.deepEqual(doc.upstreams['api']!.cluster['2']!.servers.map((s) => s['host']), ['10.0.0.9']);
    assert.equal(doc.upstreams['by_ip']!.mode, 'ip_hash');
    assert.equal(doc.upstreams['by_key']!.mode, 'hash');
    assert.equal(doc.upstreams['by_header']!.mode, 'header_hash');
    assert.equal(doc.upstreams['dns']!.cluster['1']!.servers[0]!['weight'], 2 ** 31 - 1);
  });

  it('a syntax error: file and line, nothing imported, exit 1', async () => {
    const bad = join(dir, 'bad.conf');
    writeFileSync(bad, 'http {\n  upstream x {\n    server 127.0.0.1:1\n  }\n}\n');
    const out = await cli(['import', 'nginx', bad]);
    assert.equal(out.code, 1);
    assert.match(out.stderr, /bad\.conf:\d+: .*nothing imported/);
  });
});
