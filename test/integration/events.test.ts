/**
 * The event and audit trail over real connections: admin changes with what changed, the new
 * version and who (token name, address), refused calls, health transitions (the first verdict
 * included), read back over AdminService.WatchEvents, `GET /events` (SSE) and `/api/status`;
 * no secret in any of it; a follower that never reads costs the server nothing and misses
 * events (told so) instead of growing its memory; everyone else keeps getting everything.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WatchEventsResponse__Output } from '../../src/generated/checkups/v1/WatchEventsResponse.ts';
import type { Checkups } from '../../src/main.ts';
import type { CheckupsEvent } from '../../src/observability/events.ts';
import { structToJson } from '../../src/wire/struct.ts';
import { bearer, call, clients, grpcError, type Clients } from '../support/grpc-clients.ts';
import { listen } from '../support/net.ts';
import { startTestServer } from '../support/test-server.ts';
import { waitFor } from '../support/xds-backends.ts';

const TOKEN = 'events-test-token-0123456789';
const DB_PASS = 'db-pass-that-must-not-leak';
const REDIS_PASS = 'redis-pass-that-must-not-leak';

/** Follows an SSE stream, parsing events into `events` as they arrive. */
class SseReader {
  readonly events: CheckupsEvent[] = [];
  private readonly ctl = new AbortController();
  readonly done: Promise<void>;

  constructor(url: string) {
    this.done = this.run(url).catch((err: unknown) => {
      if (!this.ctl.signal.aborted) throw err;
    });
  }

  private async run(url: string): Promise<void> {
    const res = await fetch(url, { signal: this.ctl.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let i: number;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const data = /^data: (.*)$/m.exec(frame)?.[1];
        if (data !== undefined && /^event: (health|admin|auth|config)$/m.test(frame)) this.events.push(JSON.parse(data) as CheckupsEvent);
      }
    }
  }

  async until(pred: (events: CheckupsEvent[]) => boolean, what: string, maxMs = 60_000): Promise<CheckupsEvent[]> {
    await waitFor(() => pred(this.events), what, maxMs);
    return this.events;
  }

  close(): void {
    this.ctl.abort();
  }
}

/** Reads an SSE stream until `until` holds. */
async function readSse(url: string, until: (events: CheckupsEvent[]) => boolean, maxMs = 10_000): Promise<CheckupsEvent[]> {
  const reader = new SseReader(url);
  try {
    return await reader.until(until, `SSE events from ${url}`, maxMs);
  } finally {
    reader.close();
  }
}

function watchEvents(c: Clients, req: object, metadata = bearer(TOKEN)): Promise<WatchEventsResponse__Output[]> {
  return new Promise((resolve, reject) => {
    const out: WatchEventsResponse__Output[] = [];
    const stream = c.admin.WatchEvents(req, metadata, { deadline: Date.now() + 10_000 });
    stream.on('data', (m: WatchEventsResponse__Output) => out.push(m));
    stream.on('error', reject);
    stream.on('end', () => resolve(out));
  });
}

describe('events and audit', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  let backend: Server;
  let backendPort: number;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-events-'));
    // Closed at accept, as the other tests' live backends: the probe's reset finds no socket.
    backend = createServer((s) => s.destroy());
    backendPort = await listen(backend);
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `global: { checkup_timer_interval: 0.2 }
server: { event_buffer: 500 }
upstreams:
  api: { typ: general, timeout: 1, protected: false, cluster: [ { servers: [ { host: 127.0.0.1, port: ${backendPort} } ] } ] }
  db: { typ: mysql, enable: false, user: root, pass: ${DB_PASS}, cluster: [ { servers: [ { host: 127.0.0.1, port: 3306 } ] } ] }
`,
    );
    server = await startTestServer(dir, { healthChecks: true, adminToken: TOKEN });
    c = clients(server.grpcAddress);
  });

  after(async () => {
    c?.close();
    await server?.stop(100);
    backend?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('records the first verdict, admin changes with who and what, refused calls; WatchEvents and SSE agree; no secret anywhere', async () => {
    const peer = `127.0.0.1:${backendPort}`;
    await waitFor(() => server.events.since().some((e) => e.kind === 'health' && e.peer === peer && e.details['from'] === 'unchecked' && e.details['to'] === 'ok'), 'the first verdict', 10_000);

    const v = (await call(c.admin, c.admin.UpdateUpstream, { skey: 'db', upstream: { fields: {} } as never }, bearer(TOKEN)).catch(() => undefined)) as { version: number } | undefined;
    assert.equal(v, undefined, 'an invalid write changes nothing');
    const doc = { typ: 'redis', redis_opts: { password: REDIS_PASS }, pass: DB_PASS, cluster: [{ servers: [{ host: '127.0.0.1', port: 6379, weight: 2 }] }] };
    const { jsonToStruct } = await import('../../src/wire/struct.ts');
    const res = await call(c.admin, c.admin.UpdateUpstream, { skey: 'db', upstream: jsonToStruct(doc) }, bearer(TOKEN));
    await call(c.admin, c.admin.SetPeerDown, { skey: 'api', host: '127.0.0.1', port: backendPort }, bearer(TOKEN));
    await assert.rejects(call(c.admin, c.admin.SetPeerUp, { skey: 'api', host: '127.0.0.1', port: backendPort }, bearer('wrong-token-wrong-token')), grpcError(grpc.status.UNAUTHENTICATED));

    const held = server.events.since();
    const update = held.find((e) => e.kind === 'admin' && e.skey === 'db')!;
    assert.equal(update.details['method'], 'UpdateUpstream');
    assert.equal(update.details['version'], Number(res.version));
    assert.equal((update.details['actor'] as { name: string }).name, 'admin-token');
    assert.match((update.details['actor'] as { address: string }).address, /^(ipv4:)?127\.0\.0\.1:\d+$/);
    const change = update.details['change'] as { servers_added: string[]; servers_removed: string[]; options_changed: string[] };
    assert.deepEqual(change.servers_added, ['1/127.0.0.1:6379']);
    assert.deepEqual(change.servers_removed, ['1/127.0.0.1:3306']);
    assert.ok(change.options_changed.includes('typ') && change.options_changed.includes('redis'), JSON.stringify(change));
    const down = held.find((e) => e.kind === 'health' && e.details['cause'] === 'admin')!;
    assert.equal(down.peer, peer);
    assert.equal(down.details['to'], 'down');
    const refused = held.find((e) => e.kind === 'auth')!;
    assert.equal(refused.details['method'], '/checkups.v1.AdminService/SetPeerUp');
    assert.equal(refused.details['reason'], 'token rejected');

    // The same trail over gRPC (authenticated) and SSE; the secrets and the token nowhere.
    await assert.rejects(watchEvents(c, { last: 10 }, new grpc.Metadata()), grpcError(grpc.status.UNAUTHENTICATED));
    const msgs = await watchEvents(c, { last: 1000 });
    const viaGrpc = msgs.flatMap((m) => m.events).map((e) => ({ seq: e.seq, kind: e.kind, message: e.message, details: structToJson(e.details) }));
    const viaSse = await readSse(`http://${server.httpAddress}/events?last=1000`, (es) => es.length >= viaGrpc.length);
    assert.ok(viaGrpc.length >= 5, `${viaGrpc.length} events`);
    assert.deepEqual(viaSse.map((e) => e.seq).slice(0, viaGrpc.length), viaGrpc.map((e) => e.seq));
    assert.deepEqual(viaSse.find((e) => e.seq === update.seq)!.details, viaGrpc.find((e) => e.seq === update.seq)!.details);
    const everything = JSON.stringify([viaGrpc, viaSse, await (await fetch(`http://${server.httpAddress}/api/status`)).json()]);
    for (const secret of [DB_PASS, REDIS_PASS, TOKEN]) assert.ok(!everything.includes(secret), `${secret} leaked`);

    // Kinds filter; an unknown kind is refused with a clear message.
    const onlyAuth = (await watchEvents(c, { last: 1000, kinds: ['auth'] })).flatMap((m) => m.events);
    assert.ok(onlyAuth.length >= 1 && onlyAuth.every((e) => e.kind === 'auth'));
    await assert.rejects(watchEvents(c, { kinds: ['nope'] }), grpcError(grpc.status.INVALID_ARGUMENT, /unknown event kind "nope"/));
  });

  it('a health flip reaches a follower live, over SSE and WatchEvents', async () => {
    const peer = `127.0.0.1:${backendPort}`;
    await call(c.admin, c.admin.SetPeerUp, { skey: 'api', host: '127.0.0.1', port: backendPort }, bearer(TOKEN));
    const follow = c.admin.WatchEvents({ follow: true, kinds: ['health'] }, bearer(TOKEN));
    const viaGrpc = new Promise<string>((resolve) =>
      follow.on('data', (m: WatchEventsResponse__Output) => {
        const e = m.events.find((x) => x.peer === peer && structToJson(x.details)['to'] === 'err');
        if (e !== undefined) resolve(e.message);
      }),
    );
    follow.on('error', () => undefined);
    const reader = new SseReader(`http://${server.httpAddress}/events?kinds=health`);
    // Both followers subscribed (gRPC and SSE) before the flip.
    await waitFor(() => server.events.followerCount >= 2, 'both followers to subscribe', 10_000);
    backend.close();
    assert.match(await viaGrpc, /ok -> err \(connection (refused|reset by peer)\)/);
    const sse = await reader.until((es) => es.some((e) => e.peer === peer && e.details['to'] === 'err'), 'the flip over SSE');
    reader.close();
    const flip = sse.find((e) => e.details['to'] === 'err')!;
    assert.equal(flip.details['cause'], 'active');
    assert.equal((flip.details['probe'] as { typ: string }).typ, 'general');
    follow.cancel();
    const status = (await (await fetch(`http://${server.httpAddress}/api/status`)).json()) as { upstreams: Array<{ skey: string; clusters: Array<{ peers: Array<{ id: string; state: string; lastProbeLatencyMs: number | null }> }> }>; lastEventSeq: number };
    const p = status.upstreams.find((u) => u.skey === 'api')!.clusters[0]!.peers[0]!;
    assert.equal(p.state, 'err');
    assert.equal(typeof p.lastProbeLatencyMs, 'number');
    assert.ok(status.lastEventSeq >= flip.seq);
  });

  it('a follower that never reads is skipped ahead, not buffered; others get everything; the server keeps serving', async () => {
    // A raw socket that asks for /events and then never reads a byte.
    const slow: Socket = connect(Number(server.httpAddress.split(':')[1]), '127.0.0.1');
    await new Promise<void>((resolve) => slow.once('connect', () => resolve()));
    slow.pause();
    slow.write(`GET /events HTTP/1.1\r\nhost: x\r\n\r\n`);
    await waitFor(() => server.events.followerCount >= 1, 'the slow follower', 5000);
    const fast = new SseReader(`http://${server.httpAddress}/events`);
    await waitFor(() => server.events.followerCount >= 2, 'the fast follower', 5000);
    const before = server.events.lastSeq;
    const filler = 'x'.repeat(8000);
    // 3,000 events of ~8 KB (24 MB), through the public recording API, far beyond socket
    // buffers; in batches the reading follower keeps up with (well within the 500-event ring).
    for (let n = 0; n < 3000; n++) {
      server.events.record({ kind: 'config', message: `burst ${n} ${filler}`, details: { n } });
      // Other events (probe verdicts of earlier tests' peers) may interleave: look for the burst's own.
      if (n % 100 === 99) await fast.until((es) => es.some((e) => e.seq > before && e.kind === 'config' && e.details['n'] === n), `the reading follower to get event ${n}`);
    }
    const got = fast.events.filter((e) => e.seq > before && e.kind === 'config' && e.message.startsWith('burst '));
    fast.close();
    assert.deepEqual(got.map((e) => e.details['n']), Array.from({ length: 3000 }, (_, i) => i));
    assert.equal((await fetch(`http://${server.httpAddress}/healthz`)).status, 200);
    await call(c.discovery, c.discovery.GetStatus, {});

    // Now read the slow socket: what the kernel held, then a `missed` marker, then the newest.
    slow.resume();
    let text = '';
    slow.on('data', (d: Buffer) => (text += d.toString()));
    await waitFor(() => /event: missed\ndata: (\d+)/.test(text) && text.includes(`"n":2999`), 'the slow follower to be told what it missed', 20_000);
    const missed = Number(/event: missed\ndata: (\d+)/.exec(text)![1]);
    assert.ok(missed > 0 && missed <= 3000, `missed ${missed}`);
    slow.destroy();
    const metrics = await (await fetch(`http://${server.httpAddress}/metrics`)).text();
    assert.ok(Number(/^checkups_events_dropped_total\{reason="follower_behind"\} (\d+)/m.exec(metrics)?.[1] ?? 0) >= missed);
    assert.ok(Number(/^checkups_events_dropped_total\{reason="ring_overwritten"\} (\d+)/m.exec(metrics)?.[1] ?? 0) > 0);
    await waitFor(() => server.events.followerCount === 0, 'followers to be released', 5000);
  });
});
