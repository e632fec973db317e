/**
 * Roles on real sockets (docs/security.md): beyond loopback, with tokens configured, every
 * DiscoveryService call, xDS stream and HTTP read route needs a token; the read token reads,
 * the feedback token also reports outcomes, the admin token does everything. No or an unknown
 * token: UNAUTHENTICATED; a known token without the right: PERMISSION_DENIED. Refusals are
 * `auth` events, bounded in number; no token shows up in events or logs. The SDK and the CLI
 * send the token. On loopback the default leaves reads open; `discovery_auth` overrides both ways.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { CheckupsClient } from '../../src/client/index.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { startCheckups, type Checkups } from '../../src/main.ts';
import { REFUSAL_EVENTS_BURST } from '../../src/server/grpc/auth.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { until } from '../support/async.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { bearer, call, clients, grpcError, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';
import { NODE, sotwStream, xdsClient } from '../support/xds-harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ADMIN = 'roles-admin-token-0123456789abcdef';
const FEED = 'roles-feedback-token-0123456789abc';
const READ = 'roles-read-token-0123456789abcdef';
const MYSQL_PASS = 'roles-mysql-Secret-4711';

const CONFIG = `
upstreams:
  api:
    cluster:
      - servers:
          - { host: 127.0.0.1, port: 9001, max_fails: 5 }
          - { host: 127.0.0.1, port: 9002, max_fails: 5 }
  db:
    typ: mysql
    user: app
    pass: ${MYSQL_PASS}
    enable: false
    cluster: [ { servers: [ { host: 127.0.0.1, port: 3306 } ] } ]
`;

function firstWatch(c: Clients, metadata: grpc.Metadata): Promise<WatchResponse__Output> {
  return new Promise((resolve, reject) => {
    const stream = c.discovery.Watch({}, metadata);
    stream.on('data', (m: WatchResponse__Output) => {
      resolve(m);
      stream.cancel();
    });
    stream.on('error', (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) reject(err);
    });
  });
}

const basic = (token: string) => `Basic ${Buffer.from(`someone:${token}`).toString('base64')}`;

/** A metric sample's value (0 when absent). */
function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  const { CHECKUPS_ADMIN_TOKEN: _a, CHECKUPS_TOKEN: _t, CHECKUPS_SERVER: _s, ...clean } = process.env;
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: ROOT, timeout: 60_000, env: { ...clean, ...env } }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr });
    });
  });
}

function logSink(lines: string[]): pino.Logger {
  return pino(
    { level: 'debug' },
    new Writable({
      write(chunk, _enc, cb) {
        lines.push(String(chunk));
        cb();
      },
    }),
  );
}

describe('roles beyond loopback (discovery_auth auto, tokens configured)', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  let grpcAddr: string;
  let httpBase: string;
  const logs: string[] = [];

  before(async () => {
    delete process.env['CHECKUPS_TOKEN'];
    dir = mkdtempSync(join(tmpdir(), 'checkups-roles-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    // Listening on every address is what makes `auto` require tokens; the test connects over loopback.
    server = await startTestServer(dir, { grpcListen: '0.0.0.0:0', httpListen: '0.0.0.0:0', adminToken: ADMIN, feedbackToken: FEED, readToken: READ, logger: logSink(logs) });
    grpcAddr = `127.0.0.1:${server.grpc.port}`;
    httpBase = `http://127.0.0.1:${server.http.port}`;
    c = clients(grpcAddr);
  });

  after(async () => {
    c?.close();
    await server?.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('every DiscoveryService call without a token, or with an unknown one, is UNAUTHENTICATED and says what to send', async () => {
    const calls: Array<[string, (md: grpc.Metadata) => Promise<unknown>]> = [
      ['GetStatus', (md) => call(c.discovery, c.discovery.GetStatus, {}, md)],
      ['SelectPeer', (md) => call(c.discovery, c.discovery.SelectPeer, { skey: 'api' }, md)],
      ['GetUpsTimeout', (md) => call(c.discovery, c.discovery.GetUpsTimeout, { skey: 'api' }, md)],
      ['Feedback', (md) => call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 9001, failed: true }, md)],
      ['FeedbackBatch', (md) => call(c.discovery, c.discovery.FeedbackBatch, { outcomes: [{ skey: 'api', host: '127.0.0.1', port: 9001, failed: true }] }, md)],
      ['Watch', (md) => firstWatch(c, md)],
    ];
    for (const [name, invoke] of calls) {
      const right = name.startsWith('Feedback') ? 'the feedback or admin token' : 'the read, feedback or admin token';
      await assert.rejects(invoke(new grpc.Metadata()), grpcError(grpc.status.UNAUTHENTICATED, new RegExp(`^${name} needs metadata 'authorization: Bearer <token>' with ${right} of this server`)), name);
      await assert.rejects(invoke(bearer('not-a-token-of-this-server')), grpcError(grpc.status.UNAUTHENTICATED, new RegExp(`^${name}: token rejected \\(it is none of this server's tokens\\); ${name} needs ${right}`)), name);
    }
    const st = await call(c.discovery, c.discovery.GetStatus, {}, bearer(ADMIN));
    assert.equal(st.upstreams.find((u) => u.skey === 'api')!.clusters[0]!.peers[0]!.passiveFailedCount, 0, 'the refused feedback changed nothing');
  });

  it('the read token reads; Feedback and admin calls are PERMISSION_DENIED, naming the tokens that would do', async () => {
    const md = () => bearer(READ);
    assert.ok((await call(c.discovery, c.discovery.GetStatus, {}, md())).upstreams.length === 2);
    assert.equal((await call(c.discovery, c.discovery.SelectPeer, { skey: 'api' }, md())).peer?.port !== undefined, true);
    assert.equal(Number((await call(c.discovery, c.discovery.GetUpsTimeout, { skey: 'api' }, md())).connectMs), 5000);
    const w = await firstWatch(c, md());
    assert.deepEqual(w.upstreams.map((u) => u.skey).sort(), ['api', 'db']);
    assert.ok(!JSON.stringify(w).includes(MYSQL_PASS));
    await assert.rejects(
      call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 9001, failed: true }, md()),
      grpcError(grpc.status.PERMISSION_DENIED, /^Feedback: the read token may not call it; it needs the feedback or admin token$/),
    );
    await assert.rejects(call(c.discovery, c.discovery.FeedbackBatch, { outcomes: [] }, md()), grpcError(grpc.status.PERMISSION_DENIED, /FeedbackBatch: the read token may not call it/));
    await assert.rejects(call(c.admin, c.admin.ListUpstreams, {}, md()), grpcError(grpc.status.PERMISSION_DENIED, /^ListUpstreams: the read token may not call it; it needs the admin token$/));
  });

  it('the feedback token reads and reports; the admin token does everything', async () => {
    await call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 9001, failed: true }, bearer(FEED));
    const batch = await call(c.discovery, c.discovery.FeedbackBatch, { outcomes: [{ skey: 'api', host: '127.0.0.1', port: 9001, failed: false }] }, bearer(FEED));
    assert.equal(batch.applied, 1);
    await call(c.discovery, c.discovery.GetStatus, {}, bearer(FEED));
    await assert.rejects(call(c.admin, c.admin.SetPeerDown, { skey: 'api', host: '127.0.0.1', port: 9001 }, bearer(FEED)), grpcError(grpc.status.PERMISSION_DENIED, /the feedback token may not call it; it needs the admin token/));
    await call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 9001, failed: true }, bearer(ADMIN));
    const st = await call(c.discovery, c.discovery.GetStatus, {}, bearer(ADMIN));
    assert.equal(st.upstreams.find((u) => u.skey === 'api')!.clusters[0]!.peers[0]!.passiveFailedCount, 2);
    assert.ok((await call(c.admin, c.admin.ListUpstreams, {}, bearer(ADMIN))).upstreams.length === 2);
  });

  it('xDS needs the read right: an ADS stream without a token ends UNAUTHENTICATED; with it in the stream metadata (Envoy initial_metadata) it is served', async () => {
    const client = xdsClient(grpcAddr);
    try {
      const refused = sotwStream(client);
      refused.send({ node: NODE, type_url: ENDPOINT, resource_names: ['api'] });
      const status = await refused.status;
      assert.equal(status.code, grpc.status.UNAUTHENTICATED);
      assert.match(status.details, /StreamAggregatedResources needs metadata 'authorization: Bearer <token>' with the read, feedback or admin token/);
      const served = sotwStream(client, 'StreamAggregatedResources', bearer(READ));
      served.send({ node: NODE, type_url: ENDPOINT, resource_names: ['api'] });
      const r = await served.next();
      assert.equal(r.resources.length, 1);
      served.close();
    } finally {
      client.close();
    }
  });

  it('HTTP read routes need a token (Bearer, or Basic with the token as password); /healthz, /readyz and /metrics stay open', async () => {
    for (const route of ['/', '/status', '/api/status', '/events']) {
      const res = await fetch(`${httpBase}${route}`);
      assert.equal(res.status, 401, route);
      assert.deepEqual(res.headers.get('www-authenticate'), 'Basic realm="checkups", charset="UTF-8", Bearer realm="checkups"', route);
      assert.match(await res.text(), /needs 'Authorization: Bearer <token>' \(or HTTP Basic with the token as password\)/);
      const wrong = await fetch(`${httpBase}${route}`, { headers: { authorization: 'Bearer not-a-token-of-this-server' } });
      assert.equal(wrong.status, 401, route);
      await wrong.body?.cancel();
      for (const authorization of [`Bearer ${READ}`, basic(READ), `Bearer ${FEED}`, basic(ADMIN)]) {
        const ctl = new AbortController();
        const ok = await fetch(`${httpBase}${route}`, { headers: { authorization }, signal: ctl.signal });
        assert.equal(ok.status, 200, `${route} with ${authorization.split(' ')[0]}`);
        ctl.abort(); // /events never ends by itself
      }
    }
    const status = await (await fetch(`${httpBase}/status`, { headers: { authorization: `Bearer ${READ}` } })).text();
    assert.ok(status.includes('cls:api') && !status.includes(MYSQL_PASS));
    for (const route of ['/healthz', '/readyz', '/metrics', '/ui/app.js']) assert.equal((await fetch(`${httpBase}${route}`)).status, 200, route);
  });

  it('refusals are auth events naming the method, the reason and the caller; no token appears in events or logs', async () => {
    const auth = server.events.since().filter((e) => e.kind === 'auth');
    const denied = auth.find((e) => e.details['method'] === '/checkups.v1.DiscoveryService/Feedback' && (e.details['actor'] as { name: string }).name === 'read-token')!;
    assert.equal(denied.details['reason'], 'read token lacks the feedback right');
    assert.match((denied.details['actor'] as { address: string }).address, /127\.0\.0\.1:\d+$/);
    assert.ok(auth.some((e) => e.details['method'] === '/checkups.v1.DiscoveryService/Watch' && e.details['reason'] === 'no bearer token'));
    assert.ok(auth.some((e) => e.details['method'] === '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources'));
    // (The first REFUSAL_EVENTS_BURST refusals are events, later ones mostly only counted: see below.)
    assert.ok(auth.some((e) => e.details['method'] === 'GET /' && e.details['reason'] === 'token rejected'));
    const metrics = await (await fetch(`${httpBase}/metrics`)).text();
    assert.ok(sample(metrics, 'checkups_auth_refusals_total{port="grpc",code="unauthenticated"}') >= 13);
    assert.ok(sample(metrics, 'checkups_auth_refusals_total{port="grpc",code="permission_denied"}') >= 4);
    assert.ok(sample(metrics, 'checkups_auth_refusals_total{port="http",code="unauthenticated"}') >= 8);
    const everything = JSON.stringify(server.events.since()) + logs.join('');
    for (const token of [ADMIN, FEED, READ, MYSQL_PASS]) assert.ok(!everything.includes(token), `${token.slice(0, 12)}… leaked`);
  });

  it('the SDK sends its token (option or CHECKUPS_TOKEN); without one it is refused', async () => {
    const refused = new CheckupsClient({ servers: grpcAddr });
    try {
      await assert.rejects(refused.selectPeer('api'), (err: unknown) => err instanceof CheckupsError && err.code === 'UNAUTHENTICATED');
    } finally {
      await refused.close();
    }
    const sdk = new CheckupsClient({ servers: grpcAddr, token: FEED, feedback: { flushMs: 1 } });
    process.env['CHECKUPS_TOKEN'] = READ;
    const fromEnv = new CheckupsClient({ servers: grpcAddr });
    delete process.env['CHECKUPS_TOKEN'];
    try {
      await sdk.ready();
      await fromEnv.ready();
      assert.equal(fromEnv.pick('api').host, '127.0.0.1');
      const before = (await call(c.discovery, c.discovery.GetStatus, {}, bearer(ADMIN))).upstreams.find((u) => u.skey === 'api')!.clusters[0]!.peers[1]!.passiveFailedCount;
      sdk.feedback('api', '127.0.0.1', 9002, true);
      // Sent means applied: the queue drops a batch only once the server answered it.
      await until(() => sdk.status().feedbackQueued === 0, 'the SDK to send its feedback');
      const after = (await call(c.discovery, c.discovery.GetStatus, {}, bearer(ADMIN))).upstreams.find((u) => u.skey === 'api')!.clusters[0]!.peers[1]!.passiveFailedCount;
      assert.equal(after, before + 1, 'the SDK feedback (feedback token) was applied');
    } finally {
      await sdk.close();
      await fromEnv.close();
    }
  });

  it('the CLI sends --token or CHECKUPS_TOKEN on DiscoveryService calls too', async () => {
    const without = await cli(['status', '--server', grpcAddr]);
    assert.equal(without.code, 4, without.stderr); // refused
    assert.match(without.stderr, /UNAUTHENTICATED: GetStatus needs metadata 'authorization: Bearer <token>'[^\n]*\n {2}\(give the token with --token, or in CHECKUPS_ADMIN_TOKEN or CHECKUPS_TOKEN\)/);
    const withEnv = await cli(['status', '--server', grpcAddr, '--json'], { CHECKUPS_TOKEN: READ });
    assert.equal(withEnv.code, 0, withEnv.stderr);
    assert.ok(withEnv.stdout.includes('"api"'));
    const denied = await cli(['list', '--server', grpcAddr, '--token', READ]);
    assert.equal(denied.code, 4, denied.stderr);
    assert.match(denied.stderr, /PERMISSION_DENIED: ListUpstreams: the read token may not call it; it needs the admin token\n {2}\(this token lacks the right/);
  });
});

describe('refusal events are bounded', () => {
  it(`at most ${REFUSAL_EVENTS_BURST} at once, then a few per second; the next one says how many were only counted`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'checkups-roles-flood-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    const clock = new FakeClock();
    const server = await startTestServer(dir, { discoveryAuth: 'required', readToken: READ, clock });
    const c = clients(server.grpcAddress);
    try {
      for (let i = 0; i < 100; i++) await assert.rejects(call(c.discovery, c.discovery.GetStatus, {}), grpcError(grpc.status.UNAUTHENTICATED));
      assert.equal(server.events.since().filter((e) => e.kind === 'auth').length, REFUSAL_EVENTS_BURST);
      clock.advance(500);
      await assert.rejects(call(c.discovery, c.discovery.GetStatus, {}, bearer('not-a-token-of-this-server')), grpcError(grpc.status.UNAUTHENTICATED));
      const last = server.events.since().filter((e) => e.kind === 'auth').at(-1)!;
      assert.equal(last.details['unreported'], 100 - REFUSAL_EVENTS_BURST);
      assert.match(last.message, /token rejected \(and 80 refusals since the previous event, not recorded one by one\)$/);
    } finally {
      c.close();
      await server.stop(100);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('discovery_auth defaults and modes', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-roles-modes-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('on loopback (auto) reads and feedback need no token even with tokens configured; the admin API still does', async () => {
    const server = await startTestServer(dir, { adminToken: ADMIN, readToken: READ, feedbackToken: FEED });
    const c = clients(server.grpcAddress);
    try {
      await call(c.discovery, c.discovery.GetStatus, {});
      await call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 9002, failed: false });
      await firstWatch(c, new grpc.Metadata());
      assert.equal((await fetch(`http://${server.httpAddress}/api/status`)).status, 200);
      await assert.rejects(call(c.admin, c.admin.ListUpstreams, {}), grpcError(grpc.status.UNAUTHENTICATED, /^ListUpstreams needs metadata 'authorization: Bearer <token>' with the admin token/));
      await assert.rejects(call(c.admin, c.admin.ListUpstreams, {}, bearer(READ)), grpcError(grpc.status.PERMISSION_DENIED));
    } finally {
      c.close();
      await server.stop(100);
    }
  });

  it('required on loopback needs a token; off beyond loopback serves anyone and says so in the log', async () => {
    const required = await startTestServer(dir, { discoveryAuth: 'required', readToken: READ });
    const c = clients(required.grpcAddress);
    try {
      await assert.rejects(call(c.discovery, c.discovery.GetStatus, {}), grpcError(grpc.status.UNAUTHENTICATED));
      await call(c.discovery, c.discovery.GetStatus, {}, bearer(READ));
      assert.equal((await fetch(`http://${required.httpAddress}/status`)).status, 401);
    } finally {
      c.close();
      await required.stop(100);
    }
    const logs: string[] = [];
    const off = await startTestServer(dir, { grpcListen: '0.0.0.0:0', httpListen: '0.0.0.0:0', discoveryAuth: 'off', adminToken: ADMIN, readToken: READ, logger: logSink(logs) });
    const o = clients(`127.0.0.1:${off.grpc.port}`);
    try {
      await call(o.discovery, o.discovery.GetStatus, {});
      assert.equal((await fetch(`http://127.0.0.1:${off.http.port}/api/status`)).status, 200);
      await assert.rejects(call(o.admin, o.admin.ListUpstreams, {}), grpcError(grpc.status.UNAUTHENTICATED), 'the admin API keeps its token');
      const warnings = logs.map((l) => JSON.parse(l) as { msg: string; level: number }).filter((l) => l.level === 40).map((l) => l.msg);
      assert.ok(warnings.includes('DiscoveryService and xDS open to anyone who reaches 0.0.0.0: server.discovery_auth is off (docs/security.md)'), warnings.join('\n'));
      assert.ok(warnings.some((m) => m.startsWith('the HTTP status (/, /status, /api/status, /events) open to anyone who reaches 0.0.0.0')));
    } finally {
      o.close();
      await off.stop(100);
    }
  });

  it('discovery_auth and tokens come from the file or the environment; required without a token, or one token for two roles, stops the start', async () => {
    const start = (config: string) => {
      writeFileSync(join(dir, 'from-file.yaml'), config);
      return startCheckups({ configFile: join(dir, 'from-file.yaml'), grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', dataDir: join(dir, 'data-file'), healthChecks: false, adminToken: '', logger: pino({ level: 'silent' }) });
    };
    const saved = { read: process.env['CHECKUPS_READ_TOKEN'], feedback: process.env['CHECKUPS_FEEDBACK_TOKEN'] };
    delete process.env['CHECKUPS_READ_TOKEN'];
    process.env['CHECKUPS_FEEDBACK_TOKEN'] = FEED;
    try {
      const server = await start(`server: { discovery_auth: required, read_token: ${READ} }\n${CONFIG}`);
      const c = clients(server.grpcAddress);
      try {
        await assert.rejects(call(c.discovery, c.discovery.GetStatus, {}), grpcError(grpc.status.UNAUTHENTICATED));
        await call(c.discovery, c.discovery.GetStatus, {}, bearer(READ));
        await call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 9002, failed: false }, bearer(FEED));
      } finally {
        c.close();
        await server.stop(100);
      }
      delete process.env['CHECKUPS_FEEDBACK_TOKEN'];
      await assert.rejects(start(`server: { discovery_auth: required }\n${CONFIG}`), /discovery_auth: required needs a token to require: set read_token, feedback_token or admin_token/);
      await assert.rejects(start(`server: { discovery_auth: sometimes }\n${CONFIG}`), /server\.discovery_auth: must be auto, required or off/);
      process.env['CHECKUPS_FEEDBACK_TOKEN'] = READ;
      await assert.rejects(start(`server: { read_token: ${READ} }\n${CONFIG}`), /feedback token: is the same as the read token; each role needs its own token/);
    } finally {
      for (const [k, v] of [['CHECKUPS_READ_TOKEN', saved.read], ['CHECKUPS_FEEDBACK_TOKEN', saved.feedback]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });
});
