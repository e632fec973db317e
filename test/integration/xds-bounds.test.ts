/**
 * What an xDS client can make the server hold or write is bounded: NACK details are clipped
 * (GetStatus stays small for every default client), unknown type URLs are not tracked or logged
 * one by one, warnings per stream stop after a few, with counters for the rest.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { MAX_NACK_MESSAGE_CHARS, MAX_TYPES_PER_STREAM, MAX_WARNINGS_PER_STREAM } from '../../src/server/xds/status.ts';
import { ENDPOINT as E } from '../../src/server/xds/type-urls.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { GLOBAL, NODE, sotwStream, startXdsServer, xdsClient, type XdsHarness } from '../support/xds-harness.ts';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import { waitFor } from '../support/xds-backends.ts';

describe('xDS bounds', () => {
  let h: XdsHarness;
  let client: grpc.Client;

  before(async () => {
    const registry = new UpstreamRegistry(GLOBAL, { initialRevision: Date.now() * 1000 });
    registry.put(upstream('a', [cluster(1, [server('127.0.0.1:10001')])]));
    h = await startXdsServer({ registry });
    client = xdsClient(h.address);
  });
  after(async () => {
    client.close();
    await h.close();
  });

  it('256 KB NACK messages are clipped in status and logs, and logged at most a few times per stream', async () => {
    const s = sotwStream(client);
    const node = { ...NODE, id: 'big-nack' };
    s.send({ node, type_url: E, resource_names: ['a'] });
    let r = await s.next();
    const huge = 'x'.repeat(256 * 1024);
    const logsBefore = h.logs.length;
    for (let i = 0; i < MAX_WARNINGS_PER_STREAM + 5; i++) {
      const nacks = h.xds.stats().nacks;
      s.send({ type_url: E, version_info: '', response_nonce: r.nonce, resource_names: ['a'], error_detail: { code: 3, message: huge } });
      // Only a NACK of the latest response counts: wait for it before making a newer one.
      await waitFor(() => h.xds.stats().nacks > nacks, 'the NACK', 60_000);
      // A new version to NACK again: flip the peer's health.
      h.registry.setHealth('a', '127.0.0.1:10001', { status: i % 2 === 0 ? 'err' : 'ok', failNum: 0, lastModified: Date.now(), msg: null });
      r = await s.next();
    }
    await waitFor(() => h.xds.stats().nacks >= MAX_WARNINGS_PER_STREAM + 5, `NACKs counted (${JSON.stringify(h.xds.stats())})`, 60_000);
    const t = h.xds.nodeStatus().find((n) => n.nodeId === 'big-nack')!.types.get(E)!;
    assert.ok(t.lastNack!.message.length <= MAX_NACK_MESSAGE_CHARS + 40, `stored ${t.lastNack!.message.length} chars`);
    const logged = h.logs.slice(logsBefore);
    assert.ok(logged.length <= MAX_WARNINGS_PER_STREAM + 1, `${logged.length} log lines for one stream`);
    assert.ok(logged.every((l) => JSON.stringify(l.obj).length < 4096), 'a log line echoes the whole NACK');
    assert.ok(h.xds.stats().suppressedWarnings >= 4);
    s.close();
  });

  it('2,000 unknown type URLs on one stream: a few tracked, the rest counted, no warning per URL', async () => {
    const s = sotwStream(client);
    const node = { ...NODE, id: 'type-spray' };
    const logsBefore = h.logs.length;
    const ignoredBefore = h.xds.stats().ignoredTypes;
    s.send({ node, type_url: E, resource_names: ['a'] });
    await s.next();
    for (let i = 0; i < 2_000; i++) s.send({ type_url: `type.googleapis.com/evil.T${i}`, resource_names: ['x'] });
    await waitFor(() => h.xds.stats().ignoredTypes - ignoredBefore >= 2_000 - MAX_TYPES_PER_STREAM, `unknown types counted (${JSON.stringify(h.xds.stats())})`, 60_000);
    const types = h.xds.nodeStatus().find((n) => n.nodeId === 'type-spray')!.types;
    assert.ok(types.size <= MAX_TYPES_PER_STREAM, `${types.size} types kept for one node`);
    assert.ok(h.logs.length - logsBefore <= MAX_WARNINGS_PER_STREAM + 1);
    s.close();
  });
});
