/**
 * The SotW ADS protocol on raw grpc-js streams, item by item from docs/envoy.md.
 * Every response is checked by the harness too: unique non-empty nonce, version set, every Any
 * of the response's type, no name twice.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTER as C, ENDPOINT as E, HTTP_CONNECTION_MANAGER, LISTENER as L, ROUTE as R } from '../../src/server/xds/type-urls.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { metricValue } from '../support/metrics.ts';
import { waitFor } from '../support/xds-backends.ts';
import { ack, deltaStream, health, NODE, nameOf, sotwStream, startXdsServer, xdsClient, type SotwResponse, type XdsHarness } from '../support/xds-harness.ts';

const names = (r: SotwResponse) => r.resources.map(nameOf).sort();
const ups = (skey: string, port: number, extra = {}) => upstream(skey, [cluster(1, [server(`127.0.0.1:${port}`)])], extra);

describe('xDS SotW ADS protocol (docs/envoy.md)', () => {
  let h: XdsHarness;
  let client: grpc.Client;
  let port = 20_000;
  /** Toggles the health of the upstream's first server (ok <-> err): a CLA-only change. */
  const flip = (skey: string) => {
    const entry = h.registry.upstream(skey)!;
    const id = `127.0.0.1:${entry.spec.clusters[0]!.servers[0]!.port}`;
    h.registry.setHealth(skey, id, health(entry.health(id)?.status === 'err' ? 'ok' : 'err'));
  };
  const open = () => sotwStream(client);

  before(async () => {
    h = await startXdsServer();
    h.registry.put(ups('a', 10_001));
    h.registry.put(ups('b', 10_002));
    client = xdsClient(h.address);
  });

  after(async () => {
    client.close();
    await h.close();
  });

  it('1: handshake answers exactly the requested Listener, typed, versioned, with a nonce', async () => {
    const s = open();
    s.send({ node: NODE, type_url: L, resource_names: ['a'] });
    const r = await s.next();
    assert.equal(r.type_url, L);
    assert.deepEqual(names(r), ['a']);
    const hcm = (r.resources[0]!['api_listener'] as { api_listener: { '@type': string; rds: { route_config_name: string } } }).api_listener;
    assert.equal(hcm['@type'], HTTP_CONNECTION_MANAGER);
    assert.equal(hcm.rds.route_config_name, 'a');
    s.close();
  });

  it('2: an ADS request without type_url ends the stream with INVALID_ARGUMENT', async () => {
    const s = open();
    s.send({ node: NODE, resource_names: ['a'] });
    assert.equal((await s.status).code, grpc.status.INVALID_ARGUMENT);
  });

  it('3: an ACK is quiet', async () => {
    const s = open();
    s.send({ node: NODE, type_url: C, resource_names: ['a'] });
    s.send(ack(await s.next(), ['a']));
    await s.none(1000, 'answer to an ACK');
    s.close();
  });

  it('4: a NACK (error_detail) is recorded and never answered; later changes flow; a NACK with the new version is a NACK', async () => {
    const node = { ...NODE, id: 'nack-node' };
    const nacksBefore = h.xds.stats().nacks;
    const s = open();
    s.send({ node, type_url: E, resource_names: ['a'] });
    const r1 = await s.next();
    s.send({ type_url: E, version_info: '', response_nonce: r1.nonce, resource_names: ['a'], error_detail: { code: 3, message: 'bad CLA' } });
    await s.none(2000, 'resend after a NACK');
    assert.equal(h.xds.stats().nacks, nacksBefore + 1);
    const t = h.xds.nodeStatus().find((n) => n.nodeId === 'nack-node')!.types.get(E)!;
    assert.equal(t.nacked, true);
    assert.deepEqual([t.lastNack?.version, t.lastNack?.message], [r1.version_info, 'bad CLA']);
    assert.ok(h.logs.some((l) => l.level === 'warn' && (l.obj as { nodeId?: string }).nodeId === 'nack-node'), 'NACK logged with the node id');
    flip('a');
    const r2 = await s.next();
    assert.notEqual(r2.version_info, r1.version_info);
    // gRPC A46: a partly accepted response is NACKed with the new version.
    s.send({ type_url: E, version_info: r2.version_info, response_nonce: r2.nonce, resource_names: ['a'], error_detail: { code: 14, message: 'one bad' } });
    await s.none(500, 'resend after a NACK');
    assert.equal(h.xds.stats().nacks, nacksBefore + 2);
    s.close();
  });

  it('5: a request with a stale nonce is ignored', async () => {
    const s = open();
    s.send({ node: NODE, type_url: E, resource_names: ['a'] });
    const r1 = await s.next();
    s.send(ack(r1, ['a']));
    flip('a');
    const r2 = await s.next();
    // Sent before r2 arrived, so it answers r1: stale (its names come again with the ACK of r2).
    s.send({ type_url: E, version_info: r1.version_info, response_nonce: r1.nonce, resource_names: ['a', 'b'] });
    await s.none(500, 'answer to a stale request');
    s.send(ack(r2, ['a', 'b']));
    assert.deepEqual(names(await s.next()), ['b']);
    s.close();
  });

  it('6: versions are per type: a health change sends only EDS', async () => {
    const s = open();
    for (const t of [L, R, C, E]) {
      s.send({ node: NODE, type_url: t, resource_names: ['a'] });
      s.send(ack(await s.next(), ['a']));
    }
    const cache = h.xds.cache();
    const before = ([L, R, C] as const).map((t) => cache.version(t));
    flip('a');
    assert.equal((await s.next()).type_url, E);
    await s.none(300, 'non-EDS response');
    assert.deepEqual(([L, R, C] as const).map((t) => cache.version(t)), before);
    s.close();
  });

  it('7: LDS/CDS carry the full subscribed set; EDS only what changed', async () => {
    const s = open();
    s.send({ node: NODE, type_url: C, resource_names: ['a', 'b'] });
    s.send(ack(await s.next(), ['a', 'b']));
    s.send({ type_url: E, resource_names: ['a', 'b'] });
    s.send(ack(await s.next(), ['a', 'b']));
    h.registry.put(ups('a', 10_001, { mode: 'hash' }));
    const cds = await s.next();
    assert.equal(cds.type_url, C);
    assert.deepEqual(names(cds), ['a', 'b'], 'a changed, b comes along');
    s.send(ack(cds, ['a', 'b']));
    h.registry.put(ups('a', 10_001));
    flip('b');
    const [first, second] = [await s.next(), await s.next()];
    assert.deepEqual([first.type_url, names(first)], [C, ['a', 'b']]);
    assert.deepEqual([second.type_url, names(second)], [E, ['b']], 'EDS carries only what changed');
    s.close();
  });

  it('8: a name added at an unchanged version is answered', async () => {
    const s = open();
    s.send({ node: NODE, type_url: E, resource_names: ['a'] });
    const r1 = await s.next();
    s.send(ack(r1, ['a']));
    s.send(ack(r1, ['a', 'b']));
    const r2 = await s.next();
    assert.deepEqual(names(r2), ['b']);
    assert.equal(r2.version_info, r1.version_info);
    s.close();
  });

  it('9: unsubscribe then resubscribe at the same version resends', async () => {
    const s = open();
    s.send({ node: NODE, type_url: E, resource_names: ['a'] });
    const r1 = await s.next();
    s.send(ack(r1, ['a']));
    s.send(ack(r1, []));
    await s.none(200);
    s.send(ack(r1, ['a']));
    assert.deepEqual(names(await s.next()), ['a']);
    s.close();
  });

  it('10: a name that does not exist yet is pushed when it appears, without a new request', async () => {
    const s = open();
    s.send({ node: NODE, type_url: E, resource_names: ['ghost'] });
    await s.none(300);
    h.registry.put(ups('ghost', 10_003));
    assert.deepEqual(names(await s.next()), ['ghost']);
    h.registry.delete('ghost');
    s.close();
  });

  it('11: CDS wildcard: [] first = all, [*, a] still all, [a] only a, [] again = nothing', async () => {
    h.xds.cache().settle(); // earlier tests' changes are in the cache (rebuilds are otherwise coalesced)
    const s = open();
    s.send({ node: NODE, type_url: C, resource_names: [] });
    const r1 = await s.next();
    assert.deepEqual(names(r1), h.registry.skeys().sort());
    s.send(ack(r1, ['*', 'a']));
    await s.none(200);
    h.registry.put(ups('c', 10_004));
    const r2 = await s.next();
    assert.ok(names(r2).includes('c') && names(r2).includes('b'), 'wildcard + a sees new clusters');
    s.send(ack(r2, ['a']));
    h.registry.put(ups('c', 10_005, { mode: 'hash' }));
    await s.none(300, 'push of a cluster no longer subscribed');
    h.registry.put(ups('a', 10_001, { mode: 'hash' }));
    const r3 = await s.next();
    assert.deepEqual(names(r3), ['a']);
    s.send(ack(r3, []));
    h.registry.put(ups('a', 10_001));
    await s.none(300, 'push after [] (no longer wildcard)');
    h.registry.delete('c');
    s.close();
  });

  it('11b: leaving the wildcard forgets the clusters no longer named: naming one again resends it at an unchanged version', async () => {
    h.xds.cache().settle();
    const s = open();
    s.send({ node: NODE, type_url: C, resource_names: [] });
    const r1 = await s.next();
    assert.ok(names(r1).includes('a') && names(r1).includes('b'));
    s.send(ack(r1, ['a']));
    await s.none(200, 'answer to [a]: the client holds a at this version already');
    s.send(ack(r1, ['a', 'b']));
    const r2 = await s.next();
    assert.deepEqual(names(r2), ['a', 'b']);
    assert.equal(r2.version_info, r1.version_info);
    s.close();
  });

  it('12: a new stream resuming with an old version and no nonce gets the current resources', async () => {
    const s1 = open();
    s1.send({ node: NODE, type_url: E, resource_names: ['a'] });
    const r1 = await s1.next();
    s1.close();
    const s2 = open();
    s2.send({ node: NODE, type_url: E, version_info: r1.version_info, resource_names: ['a'] });
    assert.deepEqual(names(await s2.next()), ['a']);
    s2.close();
  });

  it('13: the node of the first request holds for the whole stream', async () => {
    const s = open();
    s.send({ node: { ...NODE, id: 'first-only' }, type_url: L, resource_names: ['a'] });
    await s.next();
    s.send({ type_url: E, resource_names: ['a'] });
    const r = await s.next();
    s.send(ack(r, ['a']));
    await waitFor(() => h.xds.nodeStatus().find((n) => n.nodeId === 'first-only')?.types.get(E)?.ackedVersion === r.version_info, 'ACK attributed to the node');
    s.close();
  });

  it('14: ADS order: CDS -> EDS -> LDS -> RDS on add; LDS before CDS on removal; make-before-break in one batch', async () => {
    const s = open();
    for (const t of [L, R, C, E]) s.send({ node: NODE, type_url: t, resource_names: ['new'] });
    await s.none(200);
    h.registry.put(ups('new', 10_006));
    const added = [await s.next(), await s.next(), await s.next(), await s.next()];
    assert.deepEqual(added.map((r) => r.type_url), [C, E, L, R]);
    for (const r of added) s.send(ack(r, ['new']));
    h.registry.delete('new');
    const removed = [await s.next(), await s.next()];
    assert.deepEqual(removed.map((r) => [r.type_url, r.resources.length]), [[L, 0], [C, 0]]);
    s.close();
    // Wildcard stream, one coalesced batch deleting x and adding y.
    const w = open();
    h.registry.put(ups('x', 10_007));
    h.xds.cache().settle(); // x exists before the stream subscribes (rebuilds are otherwise coalesced)
    w.send({ node: NODE, type_url: C, resource_names: [] });
    w.send(ack(await w.next(), []));
    w.send({ type_url: L, resource_names: [] });
    w.send(ack(await w.next(), []));
    h.registry.delete('x');
    h.registry.put(ups('y', 10_008));
    // Updates first (x kept from its tombstone); the removals wait for the ACKs (one response in
    // flight per type), Listener before Cluster whatever order the ACKs come in.
    const updates = [await w.next(), await w.next()];
    await w.none(300, 'a removal before the updates are ACKed');
    w.send(ack(updates[0]!, []));
    await w.none(300, 'the Cluster removal before the Listener removal');
    w.send(ack(updates[1]!, []));
    const batch = [...updates, await w.next(), await w.next()];
    assert.deepEqual(batch.map((r) => [r.type_url, names(r).includes('x'), names(r).includes('y')]), [
      [C, true, true],
      [L, true, true],
      [L, false, true],
      [C, false, true],
    ]);
    h.registry.delete('y');
    w.close();
  });

  it('15: EDS names are the requested cluster_name', async () => {
    const s = open();
    s.send({ node: NODE, type_url: E, resource_names: ['b'] });
    const r = await s.next();
    assert.deepEqual(r.resources.map((x) => x.cluster_name), ['b']);
    s.close();
  });

  it('16: cancelled streams leave no watches behind; shutdown ends streams cleanly', async () => {
    const streams = [open(), open(), open()];
    for (const s of streams) s.send({ node: NODE, type_url: E, resource_names: ['a', 'b', 'ghost'] });
    for (const s of streams) await s.next();
    assert.ok(h.xds.stats().watches >= 9);
    for (const s of streams) s.close();
    await waitFor(() => h.xds.stats().streams === 0 && h.xds.stats().watches === 0, 'no streams and no watches left');
    const other = await startXdsServer();
    const c2 = xdsClient(other.address);
    const s = sotwStream(c2);
    s.send({ node: NODE, type_url: L, resource_names: [] });
    await s.next();
    await other.close();
    assert.equal((await s.status).code, grpc.status.OK);
    c2.close();
  });

  it('17: EDS on demand: a CLA nobody subscribes to is not built on changes; the first subscriber gets the current one, later changes are pushed', async () => {
    const healthOf = (r: SotwResponse) => (r.resources[0]!['endpoints'] as Array<{ lb_endpoints: Array<{ health_status: string }> }>)[0]!.lb_endpoints[0]!.health_status;
    h.registry.put(ups('od', 10_017));
    h.xds.cache().settle();
    const encodes = h.xds.stats().encodes;
    flip('od');
    h.xds.cache().settle();
    assert.equal(h.xds.stats().encodes, encodes, 'no stream asks for od over EDS: nothing built');
    const s = open();
    s.send({ node: NODE, type_url: E, resource_names: ['od'] });
    const r = await s.next();
    assert.deepEqual(names(r), ['od']);
    assert.equal(healthOf(r), 'UNHEALTHY', 'the current state');
    assert.equal(h.xds.stats().encodes - encodes, 1, 'built once, when asked');
    s.send(ack(r, ['od']));
    flip('od');
    const pushed = await s.next();
    assert.equal(healthOf(pushed), 'HEALTHY');
    assert.ok(Number(pushed.version_info) > Number(r.version_info));
    s.close();
    await waitFor(() => h.xds.stats().watches === 0, 'the stream gone');
    const after = h.xds.stats().encodes;
    flip('od');
    h.xds.cache().settle();
    assert.equal(h.xds.stats().encodes, after, 'its last subscriber gone: nothing built again');
    h.registry.delete('od');
  });
  it('18: a stream naming more than 50,000 resources (none of them real) is closed with RESOURCE_EXHAUSTED, counted and logged; the others are served and nothing is left behind', async () => {
    const closed0 = await metricValue('checkups_xds_streams_closed_total', { reason: 'too_many_names' });
    const watches0 = h.xds.stats().watches;
    const greedy = deltaStream(client);
    greedy.send({ node: { ...NODE, id: 'greedy' }, type_url: E, resource_names_subscribe: ['a'] });
    await greedy.next();
    for (let k = 0; k < 6; k++) greedy.send({ type_url: E, resource_names_subscribe: Array.from({ length: 10_000 }, (_, i) => `nope-${k}-${i}`) });
    const st = await greedy.status;
    assert.equal(st.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.match(st.details, /more than 50000 resource names/);
    assert.equal(await metricValue('checkups_xds_streams_closed_total', { reason: 'too_many_names' }), closed0 + 1);
    await waitFor(() => h.xds.stats().watches === watches0, 'its watches gone');
    // Everyone else is served as before.
    const s = open();
    s.send({ node: NODE, type_url: E, resource_names: ['a'] });
    const r = await s.next();
    assert.deepEqual(r.resources.map(nameOf), ['a']);
    s.close();
  });
});
