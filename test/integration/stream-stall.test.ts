/**
 * Stalled subscribers (docs/churn.md): a Watch and an xDS client that stop reading hold nothing
 * back for the others, keep only "what is dirty" on the server, and are closed once blocked for
 * `server.stream_stall_timeout` (counted, logged; gRPC clients see RESOURCE_EXHAUSTED).
 *
 * A real server on loopback with the injected clock: changes go out when the test advances it,
 * and the stall limit is checked to the millisecond. The stalled xDS client is raw HTTP/2 with
 * a zero stream window (nothing it is sent can pass); the stalled Watch client is grpc-js with
 * a small window, paused.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http2 from 'node:http2';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import type { Checkups } from '../../src/main.ts';
import { streamStalls } from '../../src/observability/metrics.ts';
import { envoyCodec } from '../../src/server/xds/proto.ts';
import { ENDPOINT as E } from '../../src/server/xds/type-urls.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { clients, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';
import { waitFor } from '../support/xds-backends.ts';
import { ack, NODE, sotwStream, xdsClient, type RawStream, type SotwResponse } from '../support/xds-harness.ts';

const STALL_S = 5;
const BIG = 3000; // servers: a Watch snapshot of 'big' is far over a 64 KiB window
const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';

const stallCount = async (kind: string) => (await streamStalls.get()).values.find((v) => v.labels['kind'] === kind)?.value ?? 0;

/** gRPC length-prefixed message. */
const frame = (b: Buffer) => Buffer.concat([Buffer.from([0, b.length >>> 24, (b.length >>> 16) & 0xff, (b.length >>> 8) & 0xff, b.length & 0xff]), b]);

describe('stalled streams', () => {
  let dir: string;
  let server: Checkups;
  const clock = new FakeClock();
  const logs: Array<{ msg: string; kind?: string; peer?: string; stalledMs?: number }> = [];
  /** Every coalescing window (cache, xDS hub, Watch) passes. */
  const tick = () => clock.advance(50);
  const flip = (skey: string, id: string) => {
    const status = server.registry.upstream(skey)!.health(id)?.status === 'err' ? 'ok' : 'err';
    server.registry.setHealth(skey, id, { status, failNum: status === 'ok' ? 0 : 1, lastModified: clock.wallNow(), msg: null });
    tick();
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-stall-'));
    const big = Array.from({ length: BIG }, (_, i) => `{ host: 10.1.${i >> 8}.${i & 255}, port: 8080 }`).join(', ');
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `server: { stream_stall_timeout: ${STALL_S} }\nupstreams:\n  a: { cluster: [ { servers: [ { host: 127.0.0.1, port: 7001 } ] } ] }\n  big: { cluster: [ { servers: [ ${big} ] } ] }\n`,
    );
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        for (const line of chunk.toString().split('\n')) if (line.includes('stalled')) logs.push(JSON.parse(line) as (typeof logs)[number]);
        cb();
      },
    });
    server = await startTestServer(dir, { clock, logger: pino({ level: 'warn' }, sink) });
    server.grpc.xds.start();
    tick();
  });

  after(async () => {
    await server.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('two stalled clients delay no one, hold no queue, and are closed after server.stream_stall_timeout', async () => {
    const stalls0 = { xds: await stallCount('xds'), watch: await stallCount('watch') };

    // Stalled xDS client: raw HTTP/2, stream window 0, asks for the EDS of 'big' and never reads.
    const session = http2.connect(`http://${server.grpcAddress}`, { settings: { initialWindowSize: 0 } });
    session.on('error', () => {});
    const raw = session.request({ ':method': 'POST', ':path': ADS, 'content-type': 'application/grpc', te: 'trailers' });
    const serialize = (envoyCodec().packageDefinition['envoy.service.discovery.v3.AggregatedDiscoveryService'] as unknown as Record<string, { requestSerialize(v: object): Buffer }>)[
      'StreamAggregatedResources'
    ]!.requestSerialize;
    raw.write(frame(serialize({ node: { ...NODE, id: 'stalled-raw' }, type_url: E, resource_names: ['big', 'a'] })));
    const rawClosed = new Promise<number>((resolve) => raw.on('close', () => resolve(raw.rstCode ?? -1)));
    raw.on('error', () => {});
    await waitFor(() => server.grpc.xds.stats().busyStreams === 1, 'the raw xDS stream backed up by its first response');
    const xdsStalledAt = clock.now();
    tick(); // the Watch stream below stalls later than this one

    // Stalled Watch client: grpc-js, small window, paused after its first message.
    const slowClients: Clients = clients(server.grpcAddress, { 'grpc-node.flow_control_window': 65_535 });
    const slow = slowClients.discovery.Watch({ skeys: ['big', 'a'] });
    let slowMessages = 0;
    slow.on('data', () => {
      slowMessages++;
      slow.pause();
    });
    const slowStatus = new Promise<grpc.StatusObject>((resolve) => slow.on('status', resolve));
    slow.on('error', () => {});

    // Healthy clients: grpc-js Watch, and an ADS stream that ACKs.
    const c = clients(server.grpcAddress);
    const fast = c.discovery.Watch({ skeys: ['big', 'a'] });
    const fastSeen = new Map<string, number>();
    fast.on('data', (m: WatchResponse__Output) => {
      for (const u of m.upstreams) fastSeen.set(u.skey, u.version);
    });
    fast.on('error', () => {});
    const adsClient = xdsClient(server.grpcAddress);
    const ads: RawStream<SotwResponse> = sotwStream(adsClient);
    ads.send({ node: { ...NODE, id: 'healthy' }, type_url: E, resource_names: ['big', 'a'] });
    ads.send(ack(await ads.next(5000), ['big', 'a']));

    await waitFor(() => fastSeen.has('big') && slowMessages >= 1, 'both Watch streams synced');
    // Changes to 'big' until the paused Watch stream has a message it does not take.
    for (let i = 0; server.grpc.watch.stats().busyStreams === 0; i++) {
      assert.ok(i < 50, 'the paused Watch stream never backed up');
      flip('big', `10.1.0.${i % 200}:8080`);
      await waitFor(() => fastSeen.get('big') === server.registry.upstream('big')!.version, 'the flip at the fast reader');
      const r = await ads.next(2000);
      assert.deepEqual(r.resources.map((x) => x.cluster_name), ['big']);
      ads.send(ack(r, ['big', 'a']));
    }
    const watchStalledBy = clock.now();

    // Flips reach the healthy streams at once; the stalled ones keep only what is dirty.
    const messagesBefore = server.grpc.watch.stats().messages;
    for (let i = 0; i < 20; i++) {
      flip('a', '127.0.0.1:7001');
      const want = server.registry.upstream('a')!.version;
      await waitFor(() => fastSeen.get('a') === want, 'the Watch flip at the fast reader', 2000);
      const r = await ads.next(2000);
      assert.deepEqual(r.resources.map((x) => x.cluster_name), ['a']);
      ads.send(ack(r, ['big', 'a']));
    }
    assert.equal(server.grpc.watch.stats().messages - messagesBefore, 20, 'one message per flip, to the fast reader only');
    assert.deepEqual([server.grpc.watch.stats().pendingUpstreams, server.grpc.xds.stats().pendingTypes], [1, 1], 'each stalled stream holds one dirty entry');
    assert.deepEqual([server.grpc.watch.stats().streams, server.grpc.xds.stats().streams], [2, 2]);

    // The limit, to the millisecond on the injected clock (healthy streams idle: no write unfinished).
    await waitFor(() => server.grpc.watch.stats().busyStreams === 1 && server.grpc.xds.stats().busyStreams === 1, 'only the stalled streams busy');
    const limit = STALL_S * 1000;
    assert.ok(clock.now() < xdsStalledAt + limit - 1, 'the test ran within the limit');
    clock.advance(xdsStalledAt + limit - 1 - clock.now());
    assert.deepEqual([server.grpc.watch.stats().streams, server.grpc.xds.stats().streams], [2, 2], 'nothing closed before the limit');
    clock.advance(1);
    assert.deepEqual([server.grpc.watch.stats().streams, server.grpc.xds.stats().streams], [2, 1], 'the xDS stream closed at the limit, the Watch one (stalled later) not yet');
    clock.advance(watchStalledBy + limit - clock.now());
    assert.deepEqual([server.grpc.watch.stats().streams, server.grpc.xds.stats().streams], [1, 1]);

    assert.equal(await rawClosed, http2.constants.NGHTTP2_ENHANCE_YOUR_CALM);
    const status = await slowStatus;
    assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED, `paused Watch client: ${status.details}`);
    assert.equal(await stallCount('xds'), stalls0.xds + 1);
    assert.equal(await stallCount('watch'), stalls0.watch + 1);
    assert.deepEqual(
      logs.map((l) => l.kind),
      ['xds', 'watch'],
    );
    assert.ok(logs.every((l) => /stream stalled/.test(l.msg) && typeof l.peer === 'string' && l.stalledMs! >= STALL_S * 1000));
    assert.deepEqual([server.grpc.watch.stats().pendingUpstreams, server.grpc.xds.stats().pendingTypes], [0, 0], 'nothing kept for closed streams');

    // The healthy streams are still served.
    flip('a', '127.0.0.1:7001');
    const want = server.registry.upstream('a')!.version;
    await waitFor(() => fastSeen.get('a') === want, 'the fast reader after the closes', 2000);
    assert.deepEqual((await ads.next(2000)).resources.map((x) => x.cluster_name), ['a']);

    fast.cancel();
    ads.close();
    adsClient.close();
    c.close();
    slowClients.close();
    session.destroy();
  });
});
