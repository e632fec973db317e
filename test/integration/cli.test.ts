/**
 * The `checkups` command line against real servers: client commands run as child processes
 * against in-process servers (one open, one with an admin token, one on TLS); `serve` runs as a
 * child process of its own (bound addresses read from its JSON log, SIGTERM exits 0).
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { parse as parseYaml } from 'yaml';
import { startCheckups, type Checkups } from '../../src/main.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD_TIMEOUT_MS = 60_000;

const CONFIG = `
upstreams:
  api:
    cluster:
      - servers:
          - { host: 127.0.0.1, port: 18081, weight: 3 }
          - { host: 127.0.0.1, port: 18082 }
      - servers:
          - { host: 127.0.0.1, port: 18083 }
  sessions:
    enable: false
    mode: hash
    cluster:
      dc1:
        servers:
          - { host: "::1", port: 18084, weight: 2 }
`;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Child env without the variables the CLI reads, so the caller's shell cannot leak in. */
function cleanEnv(): NodeJS.ProcessEnv {
  const { CHECKUPS_ADMIN_TOKEN: _t, CHECKUPS_SERVER: _s, ...env } = process.env;
  return env;
}

function cli(args: readonly string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: CHILD_TIMEOUT_MS, env: cleanEnv() }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr: err?.killed === true ? `${stderr}\n(killed after ${CHILD_TIMEOUT_MS} ms)` : stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

function ok(r: Run): Run {
  assert.equal(r.code, 0, `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  return r;
}

let dir: string;
let configFile: string;
let open: Checkups;
let guarded: Checkups;
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'checkups-cli-'));
  configFile = file('checkups.yaml', CONFIG);
  const common = { configFile, grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', healthChecks: false, logger: pino({ level: 'silent' }) };
  open = await startCheckups({ ...common, dataDir: join(dir, 'data-open'), adminToken: '' });
  guarded = await startCheckups({ ...common, dataDir: join(dir, 'data-guarded'), adminToken: 'secret-token-123456' });
});

after(async () => {
  await Promise.all([open?.stop(0), guarded?.stop(0)]);
  rmSync(dir, { recursive: true, force: true });
});

describe('checkups CLI', { concurrency: 4, timeout: 240_000 }, () => {
  const on = (...args: string[]): string[] => [...args, '--server', open.grpcAddress];

  it('--help lists the commands', async () => {
    const r = ok(await cli(['--help']));
    for (const c of ['serve', 'status', 'select', 'update', 'delete', 'get', 'list', 'peers', 'peer']) assert.match(r.stdout, new RegExp(`^  ${c}\\b`, 'm'));
    const peer = ok(await cli(['peer', '--help']));
    for (const c of ['add', 'remove', 'update', 'down', 'up']) assert.match(peer.stdout, new RegExp(`^  ${c}\\b`, 'm'));
  });

  it('status: a table per upstream, and --json', async () => {
    const [human, json] = await Promise.all([cli(on('status')), cli(on('status', '--json'))]);
    ok(human);
    assert.match(human.stdout, /^api {2}v\d+ {2}heartbeat on$/m);
    assert.match(human.stdout, /^sessions {2}v\d+ {2}heartbeat off$/m);
    assert.match(human.stdout, /^ {2}CLUSTER +PEER +WEIGHT +STATUS +FAILS +PASSIVE/m);
    assert.match(human.stdout, /^ {2}1 +127\.0\.0\.1:18081 +3 +unchecked +0 +ok 0/m);
    assert.match(human.stdout, /^ {2}dc1 +\[::1\]:18084 +2 +unchecked/m);
    assert.match(human.stdout, /^checker: /m);
    const status = JSON.parse(ok(json).stdout) as { upstreams: { skey: string; heartbeat: boolean; clusters: { key: string; peers: Record<string, unknown>[] }[] }[]; revision: number };
    const api = status.upstreams.find((u) => u.skey === 'api');
    assert.deepEqual(api?.clusters.map((c) => [c.key, c.peers.map((p) => p['port'])]), [['1', [18081, 18082]], ['2', [18083]]]);
    // One vocabulary: the config's names and units, short status words.
    assert.deepEqual(api?.clusters[0]?.peers[0], {
      host: '127.0.0.1', port: 18081, weight: 3, max_fails: 0, fail_timeout: 10, down: false,
      status: 'unchecked', fail_num: 0, msg: null, last_modified_ms: 0, passive: { status: 'ok', failed_count: 0, until_ms: 0 },
    });
    assert.equal(status.upstreams.find((u) => u.skey === 'sessions')?.heartbeat, false);
    assert.ok(status.revision > 0);
  });

  it('select prints host:port with cluster and status', async () => {
    const [human, json, hashed] = await Promise.all([cli(on('select', 'api')), cli(on('select', 'api', '--cluster-key', '2', '--json')), cli(on('select', 'sessions', '--hash-key', 'user-1'))]);
    assert.match(ok(human).stdout, /^127\.0\.0\.1:1808[12] {2}cluster 1 {2}weight \d+ {2}unchecked$/m);
    assert.deepEqual(JSON.parse(ok(json).stdout), { host: '127.0.0.1', port: 18083, cluster: 2, weight: 1, status: 'unchecked' });
    assert.match(ok(hashed).stdout, /^\[::1\]:18084 {2}cluster dc1/m);
  });

  it('update -f: the full form, then the cluster-only form keeps the options; get shows it', async () => {
    const full = file('web-full.yaml', 'typ: http\nmode: hash\ntimeout: 3\nhttp_opts: { query: "GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n" }\ncluster:\n  - servers:\n      - { host: 127.0.0.1, port: 19001, weight: 2 }\n');
    assert.match(ok(await cli(on('update', 'web', '-f', full))).stdout, /^updated web: version \d+$/m);
    const clusters = file('web-clusters.json', JSON.stringify({ 1: { servers: [{ host: '127.0.0.1', port: 19002 }] }, backup: { servers: [{ host: '::1', port: 19003 }] } }));
    assert.match(ok(await cli(on('update', 'web', '-f', clusters))).stdout, /^updated web: version \d+$/m);
    // Cluster-only form from stdin, as a YAML list.
    assert.match(ok(await cli(on('update', 'web', '-f', '-'), '- servers:\n    - { host: 127.0.0.1, port: 19004 }\n')).stdout, /^updated web/m);
    const [gotJson, gotYaml, list] = await Promise.all([cli(on('get', 'web', '--json')), cli(on('get', 'web')), cli(on('list'))]);
    const got = JSON.parse(ok(gotJson).stdout) as { upstream: { typ: string; mode: string; timeout: number; cluster: Record<string, { servers: { port: number }[] }> } };
    assert.equal(got.upstream.typ, 'http');
    assert.equal(got.upstream.mode, 'hash');
    assert.equal(got.upstream.timeout, 3);
    assert.deepEqual(Object.entries(got.upstream.cluster).map(([k, c]) => [k, c.servers.map((s) => s.port)]), [['1', [19004]]]);
    const yaml = ok(gotYaml).stdout;
    assert.match(yaml, /^# upstream web, version \d+$/m);
    assert.deepEqual(parseYaml(yaml), got.upstream);
    // The probe query reads as it was written: one line, not folded at every \n escape.
    assert.match(yaml, /^ {2}query: "GET \/ HTTP\/1\.1\\r\\nHost: x\\r\\n\\r\\n"$/m);
    assert.match(ok(list).stdout, /^web +\d+ +http +hash +1 +1$/m);
  });

  it('update with an invalid file exits 2, lists every error and sends nothing', async () => {
    const bad = file('bad.yaml', 'typ: htp\nmode: wrr\ncluster:\n  - servers:\n      - { host: 127.0.0.1, port: 70000 }\n      - { host: 127.0.0.1, port: 80, weight: 0 }\n');
    const r = await cli(on('update', 'bad', '-f', bad));
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /bad\.yaml: 3 errors, nothing sent/);
    assert.match(r.stderr, /^ {2}typ: must be one of/m);
    assert.match(r.stderr, /^ {2}cluster\[0\]\.servers\[0\]\.port: /m);
    assert.match(r.stderr, /^ {2}cluster\[0\]\.servers\[1\]\.weight: /m);
    const get = await cli(on('get', 'bad'));
    assert.equal(get.code, 3, 'exit 3: not found');
    assert.match(get.stderr, /^error: UNKNOWN_SKEY: /m);
    // The cluster-only form is checked by the server: still exit 2, with its paths.
    const badClusters = await cli(on('update', 'api', '-f', file('bad-clusters.yaml', '- servers:\n    - { host: 127.0.0.1, port: 0 }\n')));
    assert.equal(badClusters.code, 2, badClusters.stderr);
    assert.match(badClusters.stderr, /^error: INVALID_CONFIG: 1 error, nothing changed:\n {2}cluster\[0\]\.servers\[0\]\.port: /m);
    const syntax = await cli(on('update', 'bad', '-f', file('syntax.yaml', 'cluster: [\n')));
    assert.equal(syntax.code, 2);
    assert.match(syntax.stderr, /syntax\.yaml:\d+:\d+: /);
  });

  it('peer add/down/up/update/remove round trip, visible in peers --json', async () => {
    ok(await cli(on('update', 'pool', '-f', file('pool.yaml', 'cluster:\n  - servers:\n      - { host: 127.0.0.1, port: 19101 }\n'))));
    type Servers = { version: number; clusters: { key: string; peers: { host: string; port: number; weight: number; max_fails: number; fail_timeout: number; down: boolean }[] }[] };
    const peers = async (): Promise<Servers> => JSON.parse(ok(await cli(on('peers', 'pool', '--json'))).stdout) as Servers;
    const server = (s: Servers, port: number) => s.clusters.flatMap((c) => c.peers.map((p) => ({ cluster: c.key, host: p.host, port: p.port, weight: p.weight, max_fails: p.max_fails, fail_timeout: p.fail_timeout, down: p.down }))).filter((p) => p.port === port);

    // Writes are serialized by the server; independent ones go out together.
    const [added] = await Promise.all([
      cli(on('peer', 'add', 'pool', '[::1]:19102', '--weight', '5', '--max-fails', '2', '--fail-timeout', '2.5', '--down')),
      cli(on('peer', 'add', 'pool', '127.0.0.1:19103', '--cluster', 'canary')).then(ok),
    ]);
    assert.match(ok(added).stdout, /^pool: version \d+$/m);
    let s = await peers();
    assert.deepEqual(server(s, 19102), [{ cluster: '1', host: '::1', port: 19102, weight: 5, max_fails: 2, fail_timeout: 2.5, down: true }]);
    assert.deepEqual(server(s, 19103).map((p) => [p.cluster, p.weight, p.down]), [['canary', 1, false]]);

    await Promise.all([
      cli(on('peer', 'up', 'pool', '[::1]:19102')).then(ok),
      cli(on('peer', 'update', 'pool', '[::1]:19102', '--weight', '7', '--fail-timeout', '4')).then(ok),
      cli(on('peer', 'down', 'pool', '127.0.0.1:19101')).then(ok),
    ]);
    const [json, human] = await Promise.all([peers(), cli(on('peers', 'pool'))]);
    assert.deepEqual(server(json, 19102).map((p) => [p.weight, p.max_fails, p.fail_timeout, p.down]), [[7, 2, 4, false]]);
    assert.equal(server(json, 19101)[0]?.down, true);
    assert.match(ok(human).stdout, /^ {2}1 +127\.0\.0\.1:19101 +1 +unchecked +0 +ok 0 +down/m);

    // The last server of a cluster stays (the server says how to get rid of it).
    const [, last] = await Promise.all([cli(on('peer', 'remove', 'pool', '[::1]:19102')).then(ok), cli(on('peer', 'remove', 'pool', '127.0.0.1:19103', '--cluster', 'canary'))]);
    assert.equal(last.code, 1);
    assert.match(last.stderr, /^error: FAILED_PRECONDITION: 127\.0\.0\.1:19103 is the last server of cluster canary/m);
    s = await peers();
    assert.deepEqual(s.clusters.map((c) => [c.key, c.peers.map((p) => p.port)]), [['1', [19101]], ['canary', [19103]]]);
    const again = await cli(on('peer', 'remove', 'pool', '[::1]:19102'));
    assert.equal(again.code, 3);
    assert.match(again.stderr, /^error: UNKNOWN_PEER: /m);
    const badAddr = await cli(on('peer', 'add', 'pool', '::1:80'));
    assert.equal(badAddr.code, 2);
    assert.match(badAddr.stderr, /is not HOST:PORT/);
  });

  it('delete, then select on it fails with NOT_FOUND', async () => {
    ok(await cli(on('update', 'doomed', '-f', file('doomed.yaml', 'cluster:\n  - servers:\n      - { host: 127.0.0.1, port: 19201 }\n'))));
    assert.match(ok(await cli(on('delete', 'doomed'))).stdout, /^deleted doomed: version \d+$/m);
    const r = await cli(on('select', 'doomed'));
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^error: UNKNOWN_SKEY: .*doomed/m);
  });

  it('--dry-run shows the difference for update, delete and peer changes, and changes nothing', async () => {
    ok(await cli(on('update', 'dry', '-f', file('dry.yaml', 'cluster:\n  - servers:\n      - { host: 127.0.0.1, port: 19301 }\n      - { host: 127.0.0.1, port: 19302 }\n'))));
    const before = JSON.parse(ok(await cli(on('get', 'dry', '--json'))).stdout) as { version: number };
    const down = ok(await cli(on('peer', 'down', 'dry', '127.0.0.1:19302', '--dry-run')));
    assert.match(down.stdout, new RegExp(`^--- dry \\(version ${before.version}\\)`, 'm'));
    assert.match(down.stdout, /^\+ +down: true$/m);
    const weight = JSON.parse(ok(await cli(on('peer', 'update', 'dry', '127.0.0.1:19301', '--weight', '9', '--dry-run', '--json'))).stdout) as { dry_run: boolean; changed: boolean; after: { cluster: Record<string, { servers: { weight: number }[] }> } };
    assert.deepEqual([weight.dry_run, weight.changed, weight.after.cluster['1']!.servers[0]!.weight], [true, true, 9]);
    const same = ok(await cli(on('update', 'dry', '-f', file('dry-same.yaml', 'cluster:\n  - servers:\n      - { host: 127.0.0.1, port: 19301 }\n      - { host: 127.0.0.1, port: 19302 }\n'), '--dry-run')));
    assert.equal(same.stdout.trim(), 'dry: no change');
    const created = ok(await cli(on('update', 'fresh', '-f', file('fresh.yaml', 'cluster:\n  - servers: [ { host: 127.0.0.1, port: 19303 } ]\n'), '--dry-run')));
    assert.match(created.stdout, /^--- fresh \(absent\)/m);
    const gone = ok(await cli(on('delete', 'dry', '--dry-run')));
    assert.match(gone.stdout, /^\+\+\+ dry \(deleted\)/m);
    // The same checks as the real write: an unknown peer is exit 3, an invalid result exit 2.
    assert.equal((await cli(on('peer', 'down', 'dry', '127.0.0.1:1', '--dry-run'))).code, 3);
    assert.equal((await cli(on('peer', 'update', 'dry', '127.0.0.1:19301', '--weight', '0', '--dry-run'))).code, 2);
    // Nothing was written.
    const after = JSON.parse(ok(await cli(on('get', 'dry', '--json'))).stdout) as { version: number };
    assert.equal(after.version, before.version);
    assert.equal((await cli(on('get', 'fresh'))).code, 3);
  });

  it('admin calls carry --token', async () => {
    const server = ['--server', guarded.grpcAddress];
    const denied = await cli(['delete', 'api', ...server]);
    assert.equal(denied.code, 4, 'exit 4: refused');
    assert.match(denied.stderr, /^error: UNAUTHENTICATED: /m);
    const wrong = await cli(['delete', 'api', ...server, '--token', 'not-the-token']);
    assert.match(wrong.stderr, /^error: UNAUTHENTICATED: /m);
    ok(await cli(['status', ...server])); // discovery needs no token
    assert.match(ok(await cli(['delete', 'api', ...server, '--token', 'secret-token-123456'])).stdout, /^deleted api: version \d+$/m);
  });

  it('an unreachable server gets a plain message', async () => {
    const r = await cli(['status', '--server', '127.0.0.1:1', '--timeout', '3000']);
    assert.equal(r.code, 5, 'exit 5: unreachable');
    assert.match(r.stderr, /^error: cannot reach checkups at 127\.0\.0\.1:1 within 3000 ms \(is it running\? --server, --timeout\)/m);
  });

  it('TLS: --ca verifies the server', async () => {
    const cert = join(dir, 'tls-cert.pem');
    const key = join(dir, 'tls-key.pem');
    // openssl is installed by .ci/run; without it this test fails rather than proving nothing.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
    const tls = await startCheckups({ configFile, grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir, 'data-tls'), adminToken: '', healthChecks: false, tls: { certFile: cert, keyFile: key }, logger: pino({ level: 'silent' }) });
    try {
      assert.match(ok(await cli(['list', '--server', tls.grpcAddress, '--ca', cert])).stdout, /^api /m);
      const plain = await cli(['list', '--server', tls.grpcAddress, '--timeout', '3000']);
      assert.equal(plain.code, 5, plain.stderr);
      assert.match(plain.stderr, /^error: cannot reach checkups/m);
    } finally {
      await tls.stop(0);
    }
  });

  it('serve: logs its addresses, answers, exits 0 on SIGTERM', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile, '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--data-dir', join(dir, 'data-serve')], {
      cwd: ROOT,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      const serving = await new Promise<{ grpc: string; http: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`serve did not log 'checkups serving' within ${CHILD_TIMEOUT_MS} ms: ${stderr}`)), CHILD_TIMEOUT_MS);
        createInterface({ input: child.stdout }).on('line', (line) => {
          const entry = JSON.parse(line) as { msg?: string; grpc?: string; http?: string };
          if (entry.msg === 'checkups serving') {
            clearTimeout(timer);
            resolve({ grpc: entry.grpc!, http: entry.http! });
          }
        });
        void exited.then(([code]) => reject(new Error(`serve exited ${code}: ${stderr}`)));
      });
      const status = JSON.parse(ok(await cli(['status', '--json', '--server', serving.grpc])).stdout) as { upstreams: { skey: string }[] };
      assert.deepEqual(status.upstreams.map((u) => u.skey), ['api', 'sessions']);
      const t0 = Date.now();
      child.kill('SIGTERM');
      const [code, signal] = await Promise.race([exited, new Promise<never>((_, reject) => setTimeout(() => reject(new Error('serve did not exit within 10 s of SIGTERM')), 10_000).unref())]);
      assert.deepEqual([code, signal], [0, null], stderr);
      assert.ok(Date.now() - t0 < 10_000);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });

  it('serve: a bad config exits 1 and names every error', async () => {
    const bad = file('bad-config.yaml', 'upstreams:\n  api:\n    typ: htp\n    cluster:\n      - servers:\n          - { host: 127.0.0.1, port: 0 }\n');
    const r = await cli(['serve', '--config', bad, '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--data-dir', join(dir, 'data-bad')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad-config\.yaml: 2 errors, nothing loaded:/);
    assert.match(r.stderr, /^ {2}upstreams\.api\.typ: /m);
    assert.match(r.stderr, /^ {2}upstreams\.api\.cluster\[0\]\.servers\[0\]\.port: /m);
    assert.doesNotMatch(r.stderr, /\n\s+at /); // no stack
  });
});
