/**
 * The size rule of xDS responses (response-size.ts) on real resources from a fake-clock cache:
 * parts assembled with the budgets stay under the limit with the longest nonce a stream can
 * give them, are as full as the limit allows, and decode as the responses they are; an item
 * larger than the limit goes alone; oversized responses are counted every time and logged once
 * per version.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import { XdsResourceCache, type CachedResource } from '../../src/server/xds/cache.ts';
import { envoyCodec } from '../../src/server/xds/proto.ts';
import { fitCount, MAX_NONCE_CHARS, MIN_XDS_RESPONSE_BYTES, ResponseSizeLimit } from '../../src/server/xds/response-size.ts';
import { CLUSTER, ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { deltaResponse, removedNameBytes, sotwResponse } from '../../src/server/xds/wire.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { metricValue } from '../support/metrics.ts';
import { GLOBAL } from '../support/xds-harness.ts';

const LIMIT = 8 * 1024;
/** The longest nonce a stream makes: `b<flush>.<i>`, both at 2^53 - 1. */
const LONGEST_NONCE = `b${Number.MAX_SAFE_INTEGER}.${Number.MAX_SAFE_INTEGER}`;

/** `count` upstreams of `servers` servers each, built into a cache on a fake clock. */
function resources(count: number, servers: number) {
  const registry = new UpstreamRegistry(GLOBAL, { initialRevision: 1_000_000 });
  const cache = new XdsResourceCache(registry, envoyCodec(), { clock: new FakeClock(), resolveHost: async () => [], dnsRefreshMs: 30_000 });
  registry.subscribe(() => cache.settle());
  for (let u = 0; u < count; u++) {
    registry.put(upstream(`u${u}`, [cluster(1, Array.from({ length: servers }, (_, i) => server(`10.${u}.${i >> 8}.${i & 255}:8080`)))]));
  }
  // CLAs are built for the names some stream subscribes to: subscribe to all, as a stream would.
  for (const name of cache.names(CLUSTER)) cache.setWanted(ENDPOINT, name, true);
  const clas = [...cache.names(ENDPOINT)].map((n) => cache.get(ENDPOINT, n)!);
  return { cache, clas };
}

function decoder(method: 'StreamAggregatedResources' | 'DeltaAggregatedResources') {
  const ads = envoyCodec().packageDefinition['envoy.service.discovery.v3.AggregatedDiscoveryService'] as unknown as Record<string, { responseDeserialize(b: Buffer): unknown }>;
  return (bytes: Buffer) => ads[method]!.responseDeserialize(bytes);
}

function quietLimit(maxBytes = LIMIT) {
  const warnings: Array<{ detail: Record<string, unknown>; msg: string }> = [];
  return { size: new ResponseSizeLimit(maxBytes, (detail, msg) => void warnings.push({ detail: detail as Record<string, unknown>, msg })), warnings };
}

describe('xDS response size', () => {
  it('fitCount: leading items within the budget, at least one', () => {
    assert.equal(fitCount([], 10), 0);
    assert.equal(fitCount([3, 3, 3], 10), 3);
    assert.equal(fitCount([3, 3, 4], 10), 3, 'exactly the budget fits');
    assert.equal(fitCount([3, 3, 5], 10), 2);
    assert.equal(fitCount([11, 1], 10), 1, 'an item over the budget goes alone');
    assert.equal(fitCount([1, 11, 1], 10), 1, 'and never joins others');
  });

  it('the nonce reserve covers the longest nonce a stream makes', () => {
    assert.equal(LONGEST_NONCE.length, MAX_NONCE_CHARS);
  });

  it('SotW: parts of changed ClusterLoadAssignments stay under the limit, are as full as it allows, and carry each resource once', () => {
    const { cache, clas } = resources(40, 30);
    const { size, warnings } = quietLimit();
    const version = cache.version(ENDPOINT);
    const total = clas.reduce((n, r) => n + r.sotwEntry.length, 0);
    assert.ok(total > 4 * LIMIT, `the resources (${total} bytes) need several parts`);
    const decode = decoder('StreamAggregatedResources');
    const seen: string[] = [];
    let rest: CachedResource[] = clas;
    let parts = 0;
    while (rest.length > 0) {
      const budget = size.sotwBudget(version, ENDPOINT);
      const n = fitCount(
        rest.map((r) => r.sotwEntry.length),
        budget,
      );
      const bytes = sotwResponse(version, ENDPOINT, LONGEST_NONCE, rest.slice(0, n).map((r) => r.sotwEntry));
      assert.ok(bytes.length <= LIMIT, `part ${parts}: ${bytes.length} bytes`);
      if (n < rest.length) {
        const oneMore = sotwResponse(version, ENDPOINT, LONGEST_NONCE, rest.slice(0, n + 1).map((r) => r.sotwEntry));
        assert.ok(oneMore.length > LIMIT, 'the next resource would not have fit');
      }
      const decoded = decode(bytes) as { version_info: string; resources: Array<{ cluster_name: string }>; nonce: string };
      assert.equal(decoded.version_info, version);
      assert.equal(decoded.nonce, LONGEST_NONCE);
      seen.push(...decoded.resources.map((r) => r.cluster_name));
      rest = rest.slice(n);
      parts++;
    }
    assert.ok(parts >= 5, `${parts} parts`);
    assert.deepEqual(seen, clas.map((r) => r.name));
    assert.deepEqual(warnings, []);
  });

  it('delta: resources then removed names, under the limit in every part', () => {
    const { cache, clas } = resources(20, 30);
    const { size } = quietLimit();
    const version = cache.version(ENDPOINT);
    const removed = Array.from({ length: 60 }, (_, i) => `gone-${i}-${'x'.repeat(200)}`);
    const items = [...clas.map((r) => ({ bytes: cache.deltaEntry(r).length, res: r as CachedResource | undefined, name: r.name })), ...removed.map((name) => ({ bytes: removedNameBytes(name), res: undefined, name }))];
    const decode = decoder('DeltaAggregatedResources');
    const got: string[] = [];
    const gotRemoved: string[] = [];
    let rest = items;
    while (rest.length > 0) {
      const n = fitCount(
        rest.map((i) => i.bytes),
        size.deltaBudget(version, ENDPOINT),
      );
      const part = rest.slice(0, n);
      const entries = part.flatMap((i) => (i.res !== undefined ? [cache.deltaEntry(i.res)] : []));
      const names = part.flatMap((i) => (i.res === undefined ? [i.name] : []));
      const bytes = deltaResponse(version, ENDPOINT, LONGEST_NONCE, entries, names);
      assert.ok(bytes.length <= LIMIT, `${bytes.length} bytes`);
      const decoded = decode(bytes) as { resources: Array<{ name: string }>; removed_resources: string[] };
      got.push(...decoded.resources.map((r) => r.name));
      gotRemoved.push(...decoded.removed_resources);
      rest = rest.slice(n);
    }
    assert.deepEqual(got, clas.map((r) => r.name));
    assert.deepEqual(gotRemoved, removed);
  });

  it('a full-state response or a resource over the limit is counted each time and logged once per version', async () => {
    const { size, warnings } = quietLimit();
    const before = await metricValue('checkups_xds_oversized_responses_total', { type: 'cluster', reason: 'full_state' });
    size.fullStateOversized(CLUSTER, '7', 9000, 120);
    size.fullStateOversized(CLUSTER, '7', 9000, 120); // a second stream, same response
    size.fullStateOversized(CLUSTER, '8', 9100, 121);
    assert.equal(size.oversized, 3);
    assert.equal((await metricValue('checkups_xds_oversized_responses_total', { type: 'cluster', reason: 'full_state' })) - before, 3);
    assert.deepEqual(
      warnings.map((w) => w.detail['version']),
      ['7', '8'],
    );
    assert.match(warnings[0]!.msg, /CDS.*cannot be split.*fewer names per stream.*delta xDS.*client's receive limit/);
    assert.deepEqual(warnings[0]!.detail, { type: 'CDS', version: '7', bytes: 9000, resources: 120, limit: LIMIT });

    size.resourceOversized(ENDPOINT, 'big', '9', 10_000);
    size.resourceOversized(ENDPOINT, 'big', '9', 10_000);
    assert.equal(warnings.length, 3);
    assert.equal(warnings[2]!.detail['name'], 'big');
    assert.match(warnings[2]!.msg, /one EDS resource alone.*went out alone/);
    assert.equal(size.oversized, 5);
  });

  it('refuses a limit that cannot hold a response', () => {
    for (const bad of [0, -1, 1.5, MIN_XDS_RESPONSE_BYTES - 1, Number.NaN]) {
      assert.throws(() => quietLimit(bad), /xDS max response bytes must be an integer of at least 1024/);
    }
    assert.equal(quietLimit(MIN_XDS_RESPONSE_BYTES).size.maxBytes, MIN_XDS_RESPONSE_BYTES);
  });
});
