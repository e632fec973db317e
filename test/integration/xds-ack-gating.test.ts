/**
 * ACK gating (docs/envoy.md, docs/churn.md): one unacknowledged response per type and stream.
 * Changes meanwhile are held as "this type is dirty", never as queued responses, and go out
 * once, at their newest version, when the client answers the latest nonce (ACK or NACK).
 * Raw grpc-js ADS streams; what the server sent is read from its per-node status, so "nothing
 * was sent" needs no waiting.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CLUSTER as C, ENDPOINT as E } from '../../src/server/xds/type-urls.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { waitFor } from '../support/xds-backends.ts';
import { ack, deltaStream, health, NODE, nameOf, sotwStream, startXdsServer, xdsClient, type XdsHarness } from '../support/xds-harness.ts';

const FLIPS = 41;

describe('xDS ACK gating', () => {
  let h: XdsHarness;
  let client: grpc.Client;
  const flip = (skey: string) => {
    const entry = h.registry.upstream(skey)!;
    const id = `127.0.0.1:${entry.spec.clusters[0]!.servers[0]!.port}`;
    h.registry.setHealth(skey, id, health(entry.health(id)?.status === 'err' ? 'ok' : 'err'));
  };
  const sent = (nodeId: string, typeUrl: string) => h.xds.nodeStatus().find((n) => n.nodeId === nodeId)?.types.get(typeUrl)?.sentVersion;

  before(async () => {
    h = await startXdsServer();
    h.registry.put(upstream('a', [cluster(1, [server('127.0.0.1:12001')])]));
    h.registry.put(upstream('b', [cluster(1, [server('127.0.0.1:12002')])]));
    client = xdsClient(h.address);
  });

  after(async () => {
    client.close();
    await h.close();
  });

  it('a client that never ACKs gets one response per type; an ACKing one on the same server gets every change', async () => {
    const mute = sotwStream(client);
    mute.send({ node: { ...NODE, id: 'mute' }, type_url: E, resource_names: ['a'] });
    const e1 = await mute.next();
    mute.send({ type_url: C, resource_names: ['a'] });
    const c1 = await mute.next();
    const live = sotwStream(client);
    live.send({ node: { ...NODE, id: 'live' }, type_url: E, resource_names: ['a'] });
    let last = await live.next();
    live.send(ack(last, ['a']));
    const stats0 = h.xds.stats();
    for (let i = 0; i < FLIPS; i++) {
      flip('a');
      last = await live.next();
      live.send(ack(last, ['a']));
    }
    // The live stream got every flip; the mute one nothing more, and it holds one dirty type, no bytes.
    assert.equal(sent('mute', E), e1.version_info);
    assert.equal(mute.received.length, 2);
    const stats1 = h.xds.stats();
    assert.equal(stats1.responses - stats0.responses, FLIPS, 'one response per flip, all to the live stream');
    // Held by its unacknowledged response (counted here), or, on a loaded machine, by a write
    // whose callback had not come back yet (back-pressure, not counted here): either way nothing
    // more was sent to it (above).
    assert.ok(stats1.ackHeld - stats0.ackHeld >= 1, 'the gate held the mute stream back');
    assert.deepEqual([stats1.pendingTypes, stats1.busyStreams], [1, 0]);

    // A spec change makes CDS dirty too: still nothing, two dirty types.
    h.registry.put(upstream('a', [cluster(1, [server('127.0.0.1:12001')])], { mode: 'hash' }));
    await waitFor(() => h.xds.stats().pendingTypes === 2, 'CDS held as well');
    assert.equal(sent('mute', C), c1.version_info);

    // A NACK opens the gate as an ACK does: the CDS change goes out, EDS stays held (its own gate).
    mute.send({ type_url: C, version_info: c1.version_info, response_nonce: c1.nonce, resource_names: ['a'], error_detail: { code: 3, message: 'no' } });
    const c2 = await mute.next();
    assert.deepEqual([c2.type_url, c2.resources.map(nameOf), c2.resources[0]!['lb_policy']], [C, ['a'], 'RING_HASH']);
    assert.equal(sent('mute', E), e1.version_info);

    // The ACK of the first EDS response: exactly one more, the newest state, whatever happened in between.
    mute.send(ack(e1, ['a']));
    const e2 = await mute.next();
    assert.equal(e2.type_url, E);
    assert.equal(e2.version_info, h.xds.cache().version(E));
    assert.deepEqual(e2.resources, last.resources, 'the same CLA as the live stream last got');
    mute.send(ack(c2, ['a']));
    mute.send(ack(e2, ['a']));
    await mute.none(300, 'a second response for the held changes');
    assert.equal(h.xds.stats().pendingTypes, 0);
    for (const s of [mute, live]) s.close();
    h.registry.put(upstream('a', [cluster(1, [server('127.0.0.1:12001')])]));
  });

  it('an answer to a subscription change waits for the ACK of the type, and carries the changes held meanwhile', async () => {
    const s = sotwStream(client);
    s.send({ node: { ...NODE, id: 'subs' }, type_url: E, resource_names: ['a'] });
    const r1 = await s.next();
    flip('a');
    // No nonce yet (the client has not handled r1): a new request, not an ACK.
    s.send({ type_url: E, resource_names: ['a', 'b'] });
    await waitFor(() => h.xds.stats().pendingTypes === 1 && h.xds.cache().pendingRebuilds === 0, 'the flip and the new name held');
    assert.equal(sent('subs', E), r1.version_info);
    s.send(ack(r1, ['a', 'b']));
    const r2 = await s.next();
    assert.deepEqual(r2.resources.map(nameOf).sort(), ['a', 'b']);
    assert.equal(r2.version_info, h.xds.cache().version(E));
    s.close();
    flip('a');
  });

  it('delta: one response in flight per type; the ACK releases the newest state of everything held', async () => {
    const d = deltaStream(client);
    d.send({ node: { ...NODE, id: 'delta-mute' }, type_url: E, resource_names_subscribe: ['a'] });
    const r1 = await d.next();
    const held0 = h.xds.stats().ackHeld;
    for (let i = 0; i < 10; i++) {
      flip('a');
      h.xds.cache().settle();
    }
    d.send({ type_url: E, resource_names_subscribe: ['b', 'ghost'] }); // no nonce: a subscription change, not an ACK
    await waitFor(() => h.xds.stats().ackHeld > held0 && h.xds.stats().pendingTypes === 1, 'the delta stream held');
    assert.equal(sent('delta-mute', E), r1.system_version_info);
    d.send({ type_url: E, response_nonce: r1.nonce });
    const r2 = await d.next();
    assert.deepEqual(r2.resources.map((x) => x.name).sort(), ['a', 'b']);
    assert.deepEqual(r2.removed_resources, ['ghost']);
    assert.equal(r2.resources.find((x) => x.name === 'a')!.version, h.xds.cache().get(E, 'a')!.version);
    d.send({ type_url: E, response_nonce: r2.nonce });
    await d.none(300, 'a second response');
    d.close();
  });
});
