/**
 * xDS responses under `max response bytes` (docs/envoy.md "Message size"), with a small limit so
 * a few dozen ClusterLoadAssignments need several responses. The servers run with grpc-js'
 * own `grpc.max_send_message_length` at the limit and the raw clients with
 * `grpc.max_receive_message_length` at it, so a larger message would fail the stream rather
 * than pass unnoticed.
 *
 * - Raw ADS (grpc-js + the Envoy protos): SotW EDS and delta pushes arrive in parts, each only
 *   after the ACK of the previous one, every resource once; delta splits removed names too.
 * - What cannot be split: a SotW CDS set over the limit goes whole, counted, logged once per
 *   version; one CLA larger than the limit goes alone.
 * - A real client, @grpc/grpc-js-xds 1.14.1, resolving many targets on one ADS stream, follows a
 *   health change of all of them at once (one push, split) without the stream ever restarting.
 *   Its register() and bootstrap are process-global: it runs last in this file.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { peerId } from '../../src/core/model.ts';
import { CLUSTER as C, ENDPOINT as E } from '../../src/server/xds/type-urls.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { spread, startBackend, waitFor, who, type Backend } from '../support/xds-backends.ts';
import { ack, deltaStream, health, NODE, nameOf, sotwStream, startXdsServer, xdsClient, type DeltaResponse, type SotwResponse, type XdsHarness } from '../support/xds-harness.ts';

const LIMIT = 16 * 1024;
const limited = { maxResponseBytes: LIMIT, serverOptions: { 'grpc.max_send_message_length': LIMIT } };

/** `servers` servers of upstream number `u`, on addresses nothing listens on. */
const fillers = (u: number, servers: number, extra = {}) => Array.from({ length: servers }, (_, i) => server(`10.${u}.${i >> 8}.${i & 255}:8080`, extra));

/**
 * Bytes of the ClusterLoadAssignments named, as response entries. CLAs are built for names some
 * stream subscribes to: the names are marked wanted here first, as the streams below will.
 */
function claBytes(h: XdsHarness, names: readonly string[]): number {
  for (const name of names) h.xds.cache().setWanted(E, name, true);
  return names.reduce((n, name) => n + h.xds.cache().get(E, name)!.sotwEntry.length, 0);
}

describe('xDS responses split under the size limit (raw ADS)', () => {
  const N = 24;
  const names = Array.from({ length: N }, (_, u) => `u${u}`);
  let h: XdsHarness;
  let client: grpc.Client;

  before(async () => {
    h = await startXdsServer(limited);
    for (let u = 0; u < N; u++) h.registry.put(upstream(`u${u}`, [cluster(1, fillers(u, 60))]));
    h.xds.cache().settle();
    client = xdsClient(h.address, undefined, { 'grpc.max_receive_message_length': LIMIT });
  });

  after(async () => {
    client.close();
    await h.close();
  });

  /**
   * Reads and ACKs SotW parts until every name in `names` came at `version`; the parts.
   * `sentBefore`: the server's response count before the push.
   */
  async function sotwParts(s: ReturnType<typeof sotwStream>, expected: string | undefined, sentBefore: number): Promise<SotwResponse[]> {
    // Undefined: the version the first part carries (CLAs built on demand take a new one).
    let version = expected;
    const parts: SotwResponse[] = [];
    const got = new Set<string>();
    while (got.size < N) {
      const r = await s.next();
      assert.equal(r.type_url, E);
      version ??= r.version_info;
      assert.equal(r.version_info, version);
      for (const res of r.resources) {
        assert.ok(!got.has(nameOf(res)), `${nameOf(res)} sent twice`);
        got.add(nameOf(res));
      }
      parts.push(r);
      // The rest waits for this part's ACK: nothing sent beyond it, and EDS is still due.
      assert.equal(h.xds.stats().responses - sentBefore, parts.length, 'nothing more before the ACK');
      if (got.size < N) assert.equal(h.xds.stats().pendingTypes, 1);
      s.send(ack(r, names));
    }
    return parts;
  }

  it('SotW EDS: every CLA in parts under the limit, each part after the ACK of the previous', async () => {
    const stats0 = h.xds.stats();
    const s = sotwStream(client);
    // The CLAs are built on demand, for this subscription, and the answer is split at once.
    s.send({ node: NODE, type_url: E, resource_names: names });
    const parts = await sotwParts(s, undefined, stats0.responses);
    assert.equal(parts[0]!.version_info, h.xds.cache().version(E));
    const total = claBytes(h, names);
    assert.ok(total > 4 * LIMIT, `the CLAs (${total} bytes) need several responses`);
    assert.ok(parts.length >= Math.ceil(total / LIMIT), `${parts.length} parts for ${total} bytes`);
    await waitFor(() => h.xds.nodeStatus()[0]?.types.get(E)?.ackedVersion === parts.at(-1)!.version_info, 'the last part ACKed');
    const stats1 = h.xds.stats();
    assert.equal(stats1.responseParts - stats0.responseParts, parts.length - 1, 'all but the last carried part of the push');
    assert.equal(stats1.oversizedResponses, 0);
    assert.equal(stats1.pendingTypes, 0);
    console.log(`SotW: ${N} CLAs, ${total} bytes, in ${parts.length} parts under ${LIMIT}`);

    // A health change of every upstream at once: one push, split the same way.
    for (let u = 0; u < N; u++) h.registry.setHealth(`u${u}`, peerId(`10.${u}.0.0`, 8080), health('err'));
    h.xds.cache().settle();
    const again = await sotwParts(s, h.xds.cache().version(E), stats1.responses);
    assert.ok(again.length >= Math.ceil(claBytes(h, names) / LIMIT));
    for (const r of again) for (const cla of r.resources) assert.match(JSON.stringify(cla), /UNHEALTHY/);
    s.close();
  });

  it('delta: changed resources, then removed names, in parts under the limit, each after an ACK', async () => {
    // Names that do not exist are reported removed; long ones make that list need parts too.
    const missing = Array.from({ length: 40 }, (_, i) => `missing-${i}-${'m'.repeat(1000)}`);
    const d = deltaStream(client);
    d.send({ node: NODE, type_url: E, resource_names_subscribe: [...names, ...missing] });
    const got = new Set<string>();
    const removed = new Set<string>();
    let parts = 0;
    const sentBefore = h.xds.stats().responses;
    while (got.size < N || removed.size < missing.length) {
      const r: DeltaResponse = await d.next();
      parts++;
      assert.equal(r.type_url, E);
      for (const res of r.resources) {
        assert.ok(!got.has(res.name), `${res.name} sent twice`);
        got.add(res.name);
      }
      for (const name of r.removed_resources) {
        assert.ok(got.size === N, 'removed names after every resource');
        assert.ok(!removed.has(name), 'a removed name once');
        removed.add(name);
      }
      assert.equal(h.xds.stats().responses - sentBefore, parts, 'nothing more before the ACK');
      d.send({ type_url: E, response_nonce: r.nonce });
    }
    assert.deepEqual([...got].sort(), [...names].sort());
    assert.deepEqual([...removed].sort(), [...missing].sort());
    assert.ok(parts >= Math.ceil((claBytes(h, names) + 40 * 1000) / LIMIT), `${parts} parts`);
    console.log(`delta: ${N} CLAs and ${missing.length} removed names in ${parts} parts under ${LIMIT}`);
    await d.none(50);
    d.close();
  });
});

describe('xDS responses that cannot be split', () => {
  let h: XdsHarness;
  let client: grpc.Client;

  before(async () => {
    // No send limit here: these responses are over it by design, and the client takes them.
    h = await startXdsServer({ maxResponseBytes: LIMIT });
    for (let u = 0; u < 100; u++) h.registry.put(upstream(`c${u}`, [cluster(1, [server(`127.0.0.1:${20_000 + u}`)])]));
    h.registry.put(upstream('big', [cluster(1, fillers(1, 400))]));
    h.xds.cache().settle();
    client = xdsClient(h.address);
  });

  after(async () => {
    client.close();
    await h.close();
  });

  const warnings = (re: RegExp) => h.logs.filter((l) => l.level === 'warn' && re.test(l.msg));

  it('a SotW CDS set over the limit goes whole to every stream, counted each time, logged once per version', async () => {
    const streams = [sotwStream(client), sotwStream(client)];
    const answers = [];
    for (const [i, s] of streams.entries()) {
      s.send({ node: { ...NODE, id: `cds-${i}` }, type_url: C, resource_names: [] });
      answers.push(await s.next());
    }
    for (const r of answers) assert.equal(r.resources.length, 101, 'every cluster in one response');
    assert.equal(h.xds.stats().oversizedResponses, 2);
    const logged = warnings(/CDS response must carry every subscribed resource/);
    assert.equal(logged.length, 1);
    assert.match(logged[0]!.msg, /Subscribe fewer names per stream, use delta xDS.*raise the client's receive limit/);
    assert.equal((logged[0]!.obj as { limit: number }).limit, LIMIT);
    assert.ok((logged[0]!.obj as { bytes: number }).bytes > LIMIT);
    for (const s of streams) s.close();
  });

  it('a CLA larger than the limit goes alone; the CLA that fit goes in its own part first', async () => {
    const s = sotwStream(client);
    s.send({ node: { ...NODE, id: 'eds' }, type_url: E, resource_names: ['c0', 'big'] });
    const first = await s.next();
    assert.deepEqual(first.resources.map(nameOf), ['c0']);
    s.send(ack(first, ['c0', 'big']));
    const second = await s.next();
    assert.deepEqual(second.resources.map(nameOf), ['big']);
    s.send(ack(second, ['c0', 'big']));
    const logged = warnings(/one EDS resource alone is over server\.max_response_bytes/);
    assert.equal(logged.length, 1);
    assert.equal((logged[0]!.obj as { name: string }).name, 'big');
    await s.none(50);
    s.close();
  });
});

describe('grpc-js-xds 1.14.1 follows a split EDS push', () => {
  const N = 12;
  let h: XdsHarness;
  let a: Backend;
  let b: Backend;
  let streamsOpened = 0;
  const channels: grpc.Client[] = [];

  before(async () => {
    a = await startBackend('a');
    b = await startBackend('b');
    h = await startXdsServer({
      ...limited,
      authorize: (_call, start) => {
        streamsOpened++;
        start();
      },
    });
    // Each upstream: a and b, plus servers drained by the admin (DRAINING: gRPC leaves them out) for bulk.
    for (let u = 0; u < N; u++) h.registry.put(upstream(`g${u}`, [cluster(1, [server(a.address), server(b.address), ...fillers(u, 60, { down: true })])]));
    h.xds.cache().settle();
    process.env['GRPC_XDS_BOOTSTRAP_CONFIG'] = JSON.stringify({
      xds_servers: [{ server_uri: h.address, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'grpc-js-split', cluster: 'tests', locality: {} },
    });
    (await import('@grpc/grpc-js-xds')).register();
  });

  after(async () => {
    for (const c of channels) c.close();
    await h?.close();
    await a?.close();
    await b?.close();
    // grpc-js-xds 1.14.1 leaves ref'd 15-minute timers behind (see xds-grpc-js.test.ts).
    setTimeout(() => process.exit(), 1000).unref();
  });

  it('resolves every target on one stream, then follows a health change of all of them at once', async () => {
    const names = Array.from({ length: N }, (_, u) => `g${u}`);
    const total = claBytes(h, names);
    assert.ok(total > 3 * LIMIT, `the CLAs (${total} bytes) need several responses`);
    for (const name of names) channels.push(new grpc.Client(`xds:///${name}`, grpc.credentials.createInsecure()));
    await Promise.all(channels.map((c) => who(c, { timeoutMs: 15_000 })));
    for (const c of channels) await waitFor(async () => Object.keys(await spread(c, 4)).length === 2, 'both a and b in use', 5000);
    const stats0 = h.xds.stats();

    for (const name of names) h.registry.setHealth(name, peerId('127.0.0.1', b.port), health('err'));
    h.xds.cache().settle();
    const version = h.xds.cache().version(E);
    await waitFor(() => h.xds.nodeStatus().find((n) => n.nodeId === 'grpc-js-split')?.types.get(E)?.ackedVersion === version, 'the new CLAs ACKed', 10_000);
    for (const c of channels) await waitFor(async () => (await spread(c, 4))['b'] === undefined, 'b left out', 5000);

    const stats1 = h.xds.stats();
    const parts = stats1.responseParts - stats0.responseParts + 1;
    assert.ok(parts >= Math.ceil(total / LIMIT), `the push went in ${parts} parts`);
    assert.equal(stats1.responses - stats0.responses, parts, 'only the EDS parts were sent');
    assert.ok(stats1.requests - stats0.requests >= parts, 'each part answered');
    assert.deepEqual([stats1.nacks, stats1.oversizedResponses, streamsOpened], [0, 0, 1], 'no NACK, nothing over the limit, one stream all along');
    console.log(`grpc-js-xds: ${N} CLAs, ${total} bytes, pushed in ${parts} parts under ${LIMIT}`);
  });
});
