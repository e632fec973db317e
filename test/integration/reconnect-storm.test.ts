/**
 * Reconnect storms and connection age, over real connections:
 *
 * - new Watch and xDS streams are admitted at a bounded rate (server.stream_admission); 80 SDK
 *   clients started at once against 10 per second (burst 10): those beyond the burst are held
 *   for their turn (5 s of them), the rest refused UNAVAILABLE with a pushback the SDK honours
 *   (each comes back about once), and all become current; SelectPeer stays responsive
 *   meanwhile; the time until every client is current is printed. Raw ADS streams beyond the
 *   line get UNAVAILABLE with a message that says what to do and the pushback trailer; held
 *   ones get their first response when their turn comes.
 * - server.max_connection_age: grpc-js sends GOAWAY after the age (±10%) and closes after the
 *   grace; an SDK client reconnects, resumes with what it holds (nothing resent) and stays
 *   current.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckupsClient } from '../../src/client/index.ts';
import type { Checkups } from '../../src/main.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { call, clients } from '../support/grpc-clients.ts';
import { adsCall, NODE, xdsClient, type SotwResponse } from '../support/xds-harness.ts';
import { waitFor } from '../support/xds-backends.ts';
import { startTestServer } from '../support/test-server.ts';
import { checkupsProto } from '../../src/wire/proto.ts';

const UPSTREAMS = 'upstreams:\n  api:\n    cluster:\n      - servers: [ { host: 10.0.0.1, port: 80 }, { host: 10.0.0.2, port: 80 } ]\n';

async function metric(httpAddress: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${httpAddress}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? (\\d+)`, 'gm'))].reduce((a, m) => a + Number(m[1]), 0);
}

describe('reconnect storm: bounded admission of new streams', () => {
  let dir: string;
  let server: Checkups;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkups-storm-'));
    await writeFile(join(dir, 'checkups.yaml'), `server:\n  stream_admission: { rate: 10, burst: 10 }\n${UPSTREAMS}`);
    server = await startTestServer(dir);
  });
  after(async () => {
    await server?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('80 SDK clients at once: held, then refused beyond the line, come back when told, all current; SelectPeer stays responsive', async () => {
    const refusedBefore = await metric(server.httpAddress, 'checkups_streams_refused_total');
    const heldBefore = await metric(server.httpAddress, 'checkups_streams_held_total');
    const c = clients(server.grpcAddress);
    const t0 = performance.now();
    const fleet = Array.from({ length: 80 }, () => new CheckupsClient({ servers: server.grpcAddress, token: '' }));
    try {
      const selectLatencies: number[] = [];
      let storming = true;
      const selecting = (async () => {
        while (storming) {
          const t = performance.now();
          await call(c.discovery, c.discovery.SelectPeer, { skey: 'api' });
          selectLatencies.push(performance.now() - t);
          await new Promise((r) => setTimeout(r, 20));
        }
      })();
      await Promise.all(fleet.map((f) => f.ready(30_000)));
      const allCurrentMs = performance.now() - t0;
      storming = false;
      await selecting;
      const refused = (await metric(server.httpAddress, 'checkups_streams_refused_total')) - refusedBefore;
      const held = (await metric(server.httpAddress, 'checkups_streams_held_total')) - heldBefore;
      selectLatencies.sort((a, b) => a - b);
      const p99 = selectLatencies[Math.floor(selectLatencies.length * 0.99)] ?? 0;
      console.log(`reconnect storm: 80 clients at 10 streams/s (burst 10): all current after ${allCurrentMs.toFixed(0)} ms, ${held} streams held, ${refused} refused, SelectPeer p99 ${p99.toFixed(1)} ms over ${selectLatencies.length} calls`);
      // 10 start at once, 50 are held (5 s at 10/s), 20 are refused and held when they come back.
      assert.ok(held >= 60 && held <= 70, `${held} held`);
      // Told when to come back, each refused client comes back about once (blind backoff took 3-4 tries each).
      assert.ok(refused >= 15 && refused <= 30, `${refused} refusals`);
      // 80 streams at 10/s after a burst of 10 need about 7 s; backoff adds a little.
      assert.ok(allCurrentMs >= 5000, `admitted faster than the rate allows: ${allCurrentMs.toFixed(0)} ms`);
      assert.ok(p99 < 100, `SelectPeer p99 ${p99.toFixed(1)} ms`);
      // Every client holds the current state: a write reaches all of them.
      const { version } = await call(c.admin, c.admin.UpdatePeer, { skey: 'api', host: '10.0.0.2', port: 80, weight: 5 });
      await Promise.all(fleet.map((f) => f.synced(Number(version), 10_000)));
    } finally {
      await Promise.all(fleet.map((f) => f.close()));
      c.close();
    }
  });

  it('ADS streams beyond the line are refused UNAVAILABLE, saying what to do and when; held ones are answered at their turn', async () => {
    const xds = xdsClient(server.grpcAddress);
    const statuses: grpc.StatusObject[] = [];
    let answered = 0;
    const streams = Array.from({ length: 80 }, (_, i) => {
      const s = adsCall(xds);
      s.once('data', () => answered++);
      s.on('error', () => undefined);
      s.on('status', (st: grpc.StatusObject) => statuses.push(st));
      s.write({ node: { ...NODE, id: `storm-${i}` }, type_url: ENDPOINT, resource_names: ['api'] });
      return s;
    });
    try {
      await waitFor(() => statuses.some((s) => s.code === grpc.status.UNAVAILABLE), 'a refused ADS stream', 10_000);
      const refused = statuses.find((s) => s.code === grpc.status.UNAVAILABLE)!;
      assert.match(refused.details, /too many new streams: checkups admits 10 per second .*holds 5 s of them; retry in \d+ ms \(grpc-retry-pushback-ms\), or after a backoff with jitter/);
      assert.match(String(refused.metadata.get('grpc-retry-pushback-ms')[0]), /^\d+$/);
      // Held streams (their requests came before their turn) are answered as their turns come.
      const early = answered;
      await waitFor(() => answered >= early + 5, 'held ADS streams to get their first response', 10_000);
    } finally {
      for (const s of streams) s.cancel();
      xds.close();
    }
  });
});

describe('max_connection_age: clients reconnect and resume', () => {
  let dir: string;
  let server: Checkups;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkups-age-'));
    await writeFile(join(dir, 'checkups.yaml'), `server:\n  max_connection_age: 1\n  max_connection_age_grace: 0.5\n${UPSTREAMS}`);
    server = await startTestServer(dir);
  });
  after(async () => {
    await server?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('the SDK reconnects after each age, resends nothing it holds, and stays current', async () => {
    const sdk = new CheckupsClient({ servers: server.grpcAddress, token: '' });
    const c = clients(server.grpcAddress);
    let connects = 0;
    let changes = 0;
    sdk.on('connect', () => connects++);
    sdk.on('change', () => changes++);
    try {
      await sdk.ready();
      const changesAtStart = changes;
      // Three ages (1 s ±10% + 0.5 s grace each) pass.
      await waitFor(() => connects >= 3, 'the SDK to reconnect after its connection aged', 15_000);
      assert.equal(changes, changesAtStart, 'a resumed Watch resends nothing the client holds');
      const { version } = await call(c.admin, c.admin.UpdatePeer, { skey: 'api', host: '10.0.0.1', port: 80, weight: 3 });
      await sdk.synced(Number(version), 5000);
      assert.equal(sdk.upstream('api')!.clusters[0]!.peers.find((p) => p.host === '10.0.0.1')!.weight, 3);
    } finally {
      await sdk.close();
      c.close();
    }
  });
});

describe('streams per connection', () => {
  let dir: string;
  let server: Checkups;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkups-per-conn-'));
    await writeFile(join(dir, 'checkups.yaml'), `server:\n  stream_admission: { rate: 1000, burst: 1000, per_connection: 3 }\n${UPSTREAMS}`);
    server = await startTestServer(dir);
  });
  after(async () => {
    await server?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('one connection gets 3 Watch streams and RESOURCE_EXHAUSTED beyond; another connection is served; a closed stream frees its place', async () => {
    const proto = checkupsProto();
    // Each its own connection (grpc-js would otherwise share one between the two clients).
    const greedy = new proto.DiscoveryService(server.grpcAddress, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const other = new proto.DiscoveryService(server.grpcAddress, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const refused0 = await metric(server.httpAddress, 'checkups_streams_refused_total\\{kind="watch",reason="per_connection"\\}');
    const open = (client: typeof greedy) => {
      const s = client.Watch({ skeys: ['api'], knownVersions: {} });
      const outcome = new Promise<'synced' | number>((resolve) => {
        s.on('data', (m: { syncComplete?: boolean }) => m.syncComplete && resolve('synced'));
        s.on('error', (e: grpc.ServiceError) => resolve(e.code));
      });
      return { s, outcome };
    };
    try {
      const first = [open(greedy), open(greedy), open(greedy)];
      assert.deepEqual(await Promise.all(first.map((x) => x.outcome)), ['synced', 'synced', 'synced']);
      const over = [open(greedy), open(greedy)];
      assert.deepEqual(await Promise.all(over.map((x) => x.outcome)), [grpc.status.RESOURCE_EXHAUSTED, grpc.status.RESOURCE_EXHAUSTED]);
      assert.equal(await metric(server.httpAddress, 'checkups_streams_refused_total\\{kind="watch",reason="per_connection"\\}'), refused0 + 2);
      assert.equal(await open(other).outcome, 'synced', 'another connection is served');
      first[0]!.s.cancel();
      await waitFor(async () => (await open(greedy).outcome) === 'synced', 'a place freed on the greedy connection', 5000);
    } finally {
      greedy.close();
      other.close();
    }
  });
});
