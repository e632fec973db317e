/**
 * The general (TCP) and http probes against real loopback servers: live, refused, blackhole,
 * status classification, timeouts, raw query parsing, body matching, and HTTPS with SNI/verify.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import type { HttpOptions } from '../../src/core/model.ts';
import { BODY_MATCH_LIMIT, parseQuery } from '../../src/health/probes/http.ts';
import { ProbeDeadline } from '../../src/health/probes/deadline.ts';
import { PROBES, runProbe } from '../../src/health/probes/index.ts';
import { blackhole, ctx, freePort, listen, spec } from '../support/net.ts';

const TIMEOUT_MS = 300;
const GET = 'GET /status HTTP/1.1\r\nHost: localhost\r\n\r\n';
const STATUSES = { '200': true, '404': true, '502': false };

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
  servername?: string | false | null;
}

/** A loopback HTTP backend that records every request it gets. */
async function backend(respond: (req: IncomingMessage, res: ServerResponse) => void) {
  const seen: Seen[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      respond(req, res);
    });
  });
  const port = await listen(server);
  return { server, port, seen };
}

function http(port: number, opts: HttpOptions, timeoutMs = TIMEOUT_MS) {
  return runProbe({ host: '127.0.0.1', port }, spec('http', { http: opts }), ctx(timeoutMs));
}

describe('general probe (TCP connect)', () => {
  let live: Server;
  let livePort: number;
  let hole: Awaited<ReturnType<typeof blackhole>>;

  before(async () => {
    live = createServer();
    livePort = await listen(live);
    hole = await blackhole();
  });
  after(async () => {
    live.closeAllConnections();
    live.close();
    await hole.close();
  });

  it('is the registered probe for typ general', () => {
    assert.equal(Object.keys(PROBES).sort().join(','), 'general,grpc,http,mysql,redis');
  });

  it('is ok against a listening server', async () => {
    assert.deepEqual(await runProbe({ host: '127.0.0.1', port: livePort }, spec('general'), ctx(TIMEOUT_MS)), { status: 'ok', msg: null });
  });

  it('is err "connection refused" against a closed port', async () => {
    const port = await freePort();
    assert.deepEqual(await runProbe({ host: '127.0.0.1', port }, spec('general'), ctx(TIMEOUT_MS)), { status: 'err', msg: 'connection refused' });
  });

  it('is ok against a blackhole: accepting the connection is the whole check, nothing is sent', async () => {
    assert.deepEqual(await runProbe({ host: '127.0.0.1', port: hole.port }, spec('general'), ctx(TIMEOUT_MS)), { status: 'ok', msg: null });
    assert.equal(hole.bytesReceived(), 0);
  });

  it('is err "timeout" when the deadline has already passed', async () => {
    const c = new ProbeDeadline(TIMEOUT_MS);
    c.expire();
    assert.deepEqual(await runProbe({ host: '127.0.0.1', port: livePort }, spec('general'), c), { status: 'err', msg: 'timeout' });
  });
});

describe('http probe', () => {
  const backends: { server: Server }[] = [];
  let ok200: Awaited<ReturnType<typeof backend>>;
  let nf404: Awaited<ReturnType<typeof backend>>;
  let bad502: Awaited<ReturnType<typeof backend>>;
  let slow: Awaited<ReturnType<typeof backend>>;
  let hole: Awaited<ReturnType<typeof blackhole>>;
  const timers = new Set<NodeJS.Timeout>();

  before(async () => {
    ok200 = await backend((_req, res) => res.end('{"status": "up", "checks": 3}'));
    nf404 = await backend((_req, res) => res.writeHead(404).end('not found'));
    bad502 = await backend((_req, res) => res.writeHead(502).end('bad gateway'));
    slow = await backend((_req, res) => {
      const t = setTimeout(() => res.end('late'), TIMEOUT_MS * 5);
      timers.add(t);
      res.on('close', () => clearTimeout(t));
    });
    backends.push(ok200, nf404, bad502, slow);
    hole = await blackhole();
  });
  after(async () => {
    for (const t of timers) clearTimeout(t);
    for (const b of backends) {
      b.server.closeAllConnections();
      b.server.close();
    }
    await hole.close();
  });

  it('classifies by statuses: 200 and 404 listed true are ok, 502 listed false is "bad status code"', async () => {
    assert.deepEqual(await http(ok200.port, { query: GET, statuses: STATUSES }), { status: 'ok', msg: null });
    assert.deepEqual(await http(nf404.port, { query: GET, statuses: STATUSES }), { status: 'ok', msg: null });
    assert.deepEqual(await http(bad502.port, { query: GET, statuses: STATUSES }), { status: 'err', msg: 'bad status code' });
    assert.equal(bad502.seen.length, 1, 'the 502 backend got the request');
  });

  it('a status code missing from statuses is ok; without statuses every code is ok, 502 included', async () => {
    assert.deepEqual(await http(bad502.port, { query: GET, statuses: { '200': true } }), { status: 'ok', msg: null });
    assert.deepEqual(await http(bad502.port, { query: GET }), { status: 'ok', msg: null });
  });

  it('is err "timeout" when the status line comes after the deadline, and gives up at the deadline', async () => {
    const t0 = performance.now();
    assert.deepEqual(await http(slow.port, { query: GET, statuses: STATUSES }), { status: 'err', msg: 'timeout' });
    const took = performance.now() - t0;
    assert.ok(took >= TIMEOUT_MS - 20 && took < TIMEOUT_MS + 250, `took ${took} ms`);
  });

  it('is err "connection refused" against a closed port', async () => {
    assert.deepEqual(await http(await freePort(), { query: GET }), { status: 'err', msg: 'connection refused' });
  });

  it('is err "timeout" against a blackhole that accepts and never answers', async () => {
    assert.deepEqual(await http(hole.port, { query: GET }), { status: 'err', msg: 'timeout' });
    assert.ok(hole.bytesReceived() > 0, 'the request was written');
  });

  it('without a query is a TCP connect only: ok against a blackhole, nothing sent', async () => {
    const before = hole.bytesReceived();
    assert.deepEqual(await http(hole.port, { statuses: STATUSES }), { status: 'ok', msg: null });
    assert.equal(hole.bytesReceived(), before);
  });

  it('sends the query as written: method, target, headers and body', async () => {
    const query = 'POST /submit?x=1 HTTP/1.1\r\nHost: probe.local\r\nX-Probe: yes\r\nContent-Type: text/plain\r\n\r\nhello=world';
    ok200.seen.length = 0;
    assert.deepEqual(await http(ok200.port, { query }), { status: 'ok', msg: null });
    assert.equal(ok200.seen.length, 1);
    const got = ok200.seen[0]!;
    assert.equal(got.method, 'POST');
    assert.equal(got.url, '/submit?x=1');
    assert.equal(got.headers.host, 'probe.local');
    assert.equal(got.headers['x-probe'], 'yes');
    assert.equal(got.headers['content-type'], 'text/plain');
    assert.equal(got.body, 'hello=world');
    assert.equal(got.headers['content-length'], '11');
  });

  it('drops framing headers of the query (undici rejects or recomputes them) and always closes', async () => {
    const query = 'PUT /x HTTP/1.0\nHost: a.test\nConnection: keep-alive\nKeep-Alive: 5\nContent-Length: 999\n\nabc';
    ok200.seen.length = 0;
    assert.deepEqual(await http(ok200.port, { query }), { status: 'ok', msg: null });
    const got = ok200.seen[0]!;
    assert.equal(got.method, 'PUT');
    assert.equal(got.body, 'abc');
    assert.equal(got.headers['content-length'], '3');
    assert.equal(got.headers.connection, 'close');
    assert.equal(got.headers['keep-alive'], undefined);
  });

  it('parses the request line with or without a version, and rejects a malformed one', () => {
    assert.deepEqual(parseQuery('HEAD /h\r\n\r\n'), { method: 'HEAD', path: '/h', headers: [] });
    assert.throws(() => parseQuery('get / HTTP/1.1\r\n\r\n'), /invalid request line/);
    assert.throws(() => parseQuery('GET / HTTP/1.1\r\nno colon here\r\n\r\n'), /invalid header line/);
  });

  it('records a malformed query as err instead of throwing', async () => {
    const r = await http(ok200.port, { query: 'GET / HTTP/1.1\r\nbroken\r\n\r\n' });
    assert.equal(r.status, 'err');
    assert.match(r.msg!, /invalid header line/);
  });

  it('bodyMatch: ok when the body matches, err naming the pattern when it does not', async () => {
    assert.deepEqual(await http(ok200.port, { query: GET, bodyMatch: '"status":\\s*"up"' }), { status: 'ok', msg: null });
    assert.deepEqual(await http(ok200.port, { query: GET, bodyMatch: '"status":\\s*"down"' }), {
      status: 'err',
      msg: 'body does not match /"status":\\s*"down"/',
    });
  });

  it('bodyMatch looks at the first 64 KiB only', async () => {
    const big = await backend((_req, res) => res.end('A'.repeat(BODY_MATCH_LIMIT) + 'MARKER' + 'B'.repeat(1 << 20)));
    backends.push(big);
    assert.deepEqual(await http(big.port, { query: GET, bodyMatch: '^A+' }), { status: 'ok', msg: null });
    assert.deepEqual(await http(big.port, { query: GET, bodyMatch: 'MARKER' }), { status: 'err', msg: 'body does not match /MARKER/' });
  });

  it('bodyMatch runs in linear time: ^(a+)+$ on 64 KiB of a\'s does not block the event loop', async () => {
    const evil = await backend((_req, res) => res.end('a'.repeat(BODY_MATCH_LIMIT - 1) + 'b'));
    backends.push(evil);
    // The longest gap between timer ticks while the probe runs: a backtracking engine holds the
    // loop for seconds here (2^n paths), RE2 semantics for one linear pass.
    let worst = 0;
    let last = performance.now();
    const tick = setInterval(() => {
      const now = performance.now();
      worst = Math.max(worst, now - last);
      last = now;
    }, 5);
    const res = await http(evil.port, { query: GET, bodyMatch: '^(a+)+$' }, 5000);
    clearInterval(tick);
    assert.deepEqual(res, { status: 'err', msg: 'body does not match /^(a+)+$/' });
    assert.ok(worst < 1500, `event loop blocked for ${Math.round(worst)} ms`);
  });

  it('checks the status before the body', async () => {
    assert.deepEqual(await http(bad502.port, { query: GET, statuses: STATUSES, bodyMatch: 'bad' }), { status: 'err', msg: 'bad status code' });
  });
});

describe('http probe over TLS', () => {
  let dir: string;
  let server: ReturnType<typeof createHttpsServer>;
  let port: number;
  const seen: Seen[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-tls-'));
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    // prettier-ignore
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=probe.test', '-addext', 'subjectAltName=DNS:probe.test'], { stdio: 'ignore' });
    server = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
      const servername = (req.socket as TLSSocket).servername;
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: '', servername });
      res.end('secure');
    });
    port = await listen(server);
  });
  after(async () => {
    server.closeAllConnections();
    server.close();
    await once(server, 'close');
    rmSync(dir, { recursive: true, force: true });
  });

  const https = (opts: Omit<HttpOptions, 'https'>) => http(port, { https: true, ...opts }, 1000);

  it('is ok against a self-signed certificate with verify: false', async () => {
    assert.deepEqual(await https({ query: GET, verify: false, bodyMatch: '^secure$' }), { status: 'ok', msg: null });
  });

  it('is err with the certificate error when verify is on (the default)', async () => {
    for (const verify of [true, undefined]) {
      const r = await https({ query: GET, ...(verify !== undefined ? { verify } : {}) });
      assert.equal(r.status, 'err');
      assert.match(r.msg!, /self[- ]signed certificate/);
    }
  });

  it('sends sni when set, else the Host header, and no SNI for an IP literal', async () => {
    seen.length = 0;
    await https({ query: 'GET / HTTP/1.1\r\nHost: host.example\r\n\r\n', sni: 'sni.example', verify: false });
    await https({ query: 'GET / HTTP/1.1\r\nHost: host.example:8443\r\n\r\n', verify: false });
    await https({ query: `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`, verify: false });
    await https({ query: 'GET / HTTP/1.1\r\n\r\n', verify: false });
    assert.deepEqual(
      seen.map((s) => [s.headers.host, s.servername]),
      [
        ['host.example', 'sni.example'],
        ['host.example:8443', 'host.example'],
        [`127.0.0.1:${port}`, false],
        [`127.0.0.1:${port}`, false],
      ],
    );
  });
});
