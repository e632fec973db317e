/**
 * Delta xDS (DeltaAggregatedResources), the per-type SotW and delta services, and encode-once
 * fan-out, on raw grpc-js streams (docs/envoy.md).
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTER as C, ENDPOINT as E } from '../../src/server/xds/type-urls.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { waitFor } from '../support/xds-backends.ts';
import { ack, deltaStream, health, NODE, nameOf, sotwStream, startXdsServer, xdsClient, type DeltaResponse, type XdsHarness } from '../support/xds-harness.ts';

const ups = (skey: string, port: number, extra = {}) => upstream(skey, [cluster(1, [server(`127.0.0.1:${port}`)])], extra);
const got = (r: DeltaResponse) => r.resources.map((x) => x.name).sort();
const dack = (r: DeltaResponse) => ({ type_url: r.type_url, response_nonce: r.nonce });

describe('delta xDS and per-type services', () => {
  let h: XdsHarness;
  let client: grpc.Client;
  const flip = (skey: string, status: 'ok' | 'err') => {
    const id = `127.0.0.1:${h.registry.upstream(skey)!.spec.clusters[0]!.servers[0]!.port}`;
    h.registry.setHealth(skey, id, health(status));
  };

  before(async () => {
    h = await startXdsServer();
    h.registry.put(ups('a', 11_001));
    h.registry.put(ups('b', 11_002));
    client = xdsClient(h.address);
  });

  after(async () => {
    client.close();
    await h.close();
  });

  it('answers names with resources and missing names with removed_resources; ACK quiet; pushes on appear and on delete', async () => {
    const s = deltaStream(client);
    s.send({ node: NODE, type_url: E, resource_names_subscribe: ['a', 'ghost'] });
    const r1 = await s.next();
    assert.deepEqual(got(r1), ['a']);
    assert.deepEqual(r1.removed_resources, ['ghost']);
    s.send(dack(r1));
    await s.none(500, 'answer to an ACK');
    h.registry.put(ups('ghost', 11_003));
    const r2 = await s.next();
    assert.deepEqual([got(r2), r2.removed_resources], [['ghost'], []]);
    s.send(dack(r2));
    h.registry.delete('ghost');
    const r3 = await s.next();
    assert.deepEqual([got(r3), r3.removed_resources], [[], ['ghost']]);
    s.close();
  });

  it('a reconnect with initial_resource_versions gets only what differs', async () => {
    const s1 = deltaStream(client);
    s1.send({ node: NODE, type_url: E, resource_names_subscribe: ['a', 'b'] });
    const held = Object.fromEntries((await s1.next()).resources.map((x) => [x.name, x.version]));
    s1.close();
    flip('b', 'err');
    const s2 = deltaStream(client);
    s2.send({ node: NODE, type_url: E, resource_names_subscribe: ['a', 'b'], initial_resource_versions: held });
    const r = await s2.next();
    assert.deepEqual(got(r), ['b']);
    assert.notEqual(r.resources[0]!.version, held['b']);
    s2.close();
    flip('b', 'ok');
  });

  it('wildcard (go-control-plane TestDeltaWildcardSubscriptions)', async () => {
    const s = deltaStream(client);
    s.send({ node: NODE, type_url: C }); // legacy wildcard: first request subscribes nothing
    const r1 = await s.next();
    assert.deepEqual(got(r1), ['a', 'b']);
    s.send({ ...dack(r1), resource_names_subscribe: ['a'] }); // wildcard + a; a held name subscribed is resent (§1.8)
    const ra = await s.next();
    assert.deepEqual(got(ra), ['a']);
    s.send({ ...dack(ra), resource_names_unsubscribe: ['*'] }); // only a now
    await s.none(300);
    h.registry.put(ups('b', 11_002, { mode: 'hash' }));
    await s.none(300, 'push of b after leaving the wildcard');
    s.send({ type_url: C, resource_names_subscribe: ['*', 'ghost'] });
    const r2 = await s.next();
    assert.deepEqual([got(r2), r2.removed_resources], [['b'], ['ghost']]);
    s.send({ ...dack(r2), resource_names_unsubscribe: ['a', 'ghost'] }); // a still wildcard-matched: resent
    const r3 = await s.next();
    assert.deepEqual([got(r3), r3.removed_resources], [['a'], []]);
    h.registry.put(ups('b', 11_002));
    s.close();
  });

  it('a NACK is recorded and not answered', async () => {
    const nacks = h.xds.stats().nacks;
    const s = deltaStream(client);
    s.send({ node: { ...NODE, id: 'delta-nack' }, type_url: E, resource_names_subscribe: ['a'] });
    const r = await s.next();
    s.send({ ...dack(r), error_detail: { code: 3, message: 'nope' } });
    await s.none(1000, 'answer to a NACK');
    assert.equal(h.xds.stats().nacks, nacks + 1);
    assert.equal(h.xds.nodeStatus().find((n) => n.nodeId === 'delta-nack')!.types.get(E)!.lastNack!.message, 'nope');
    s.close();
  });

  it('an ADS delta request without type_url is INVALID_ARGUMENT', async () => {
    const s = deltaStream(client);
    s.send({ node: NODE, resource_names_subscribe: ['a'] });
    assert.equal((await s.status).code, grpc.status.INVALID_ARGUMENT);
  });

  it('per-type services: StreamEndpoints, StreamClusters (wildcard), DeltaClusters; a foreign type_url is refused', async () => {
    const eds = xdsClient(h.address, 'endpoint.EndpointDiscoveryService');
    const s = sotwStream(eds, 'StreamEndpoints');
    s.send({ node: NODE, resource_names: ['a'] });
    const r = await s.next();
    assert.deepEqual([r.type_url, r.resources.map(nameOf)], [E, ['a']]);
    s.send(ack(r, ['a']));
    flip('a', 'err');
    assert.deepEqual((await s.next()).resources.map(nameOf), ['a']);
    flip('a', 'ok');
    s.close();
    const bad = sotwStream(eds, 'StreamEndpoints');
    bad.send({ node: NODE, type_url: C, resource_names: [] });
    assert.equal((await bad.status).code, grpc.status.INVALID_ARGUMENT);
    eds.close();

    const cds = xdsClient(h.address, 'cluster.ClusterDiscoveryService');
    const w = sotwStream(cds, 'StreamClusters');
    w.send({ node: NODE });
    assert.deepEqual((await w.next()).resources.map(nameOf).sort(), ['a', 'b']);
    w.close();
    const d = deltaStream(cds, 'DeltaClusters');
    d.send({ node: NODE, resource_names_subscribe: ['b'] });
    const dr = await d.next();
    assert.deepEqual([dr.type_url, got(dr)], [C, ['b']]);
    d.close();
    cds.close();
  });

  it('encode once: a health change reaches 100 SotW and delta streams with one encode', async () => {
    const streams = Array.from({ length: 50 }, () => sotwStream(client));
    const deltas = Array.from({ length: 50 }, () => deltaStream(client));
    for (const s of streams) s.send({ node: NODE, type_url: E, resource_names: ['a'] });
    for (const s of deltas) s.send({ node: NODE, type_url: E, resource_names_subscribe: ['a'] });
    for (const s of streams) s.send(ack(await s.next(), ['a']));
    for (const s of deltas) s.send(dack(await s.next()));
    const before = h.xds.stats().encodes;
    flip('a', 'err');
    const after = await Promise.all([...streams.map((s) => s.next()), ...deltas.map((s) => s.next())]);
    assert.equal(after.length, 100);
    assert.equal(h.xds.stats().encodes - before, 1, 'one CLA encode for 100 streams');
    flip('a', 'ok');
    for (const s of [...streams, ...deltas]) s.close();
    await waitFor(() => h.xds.stats().streams === 0, `streams closed (${JSON.stringify(h.xds.stats())})`);
  });
});
