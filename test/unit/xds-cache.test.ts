/**
 * XdsResourceCache on a fake clock with an injected resolver: versions, encode-once, which
 * kinds each registry change rebuilds, DNS first resolution / refresh / failure, tombstones,
 * CLAs built on demand (only for names some stream subscribes to).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import { DEFAULT_XDS_COALESCE_MS, XdsResourceCache, type ResourceChange } from '../../src/server/xds/cache.ts';
import { envoyCodec } from '../../src/server/xds/proto.ts';
import { buildLoadAssignment } from '../../src/server/xds/resources/endpoint.ts';
import { treesOf } from '../../src/server/xds/resources/tree.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE } from '../../src/server/xds/type-urls.ts';
import { flush } from '../support/async.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { GLOBAL, health, unpackAny } from '../support/xds-harness.ts';

const REFRESH_MS = 30_000;

/** CLAs the tests below look at: subscribed, as a stream would (the hub calls setWanted). */
const SUBSCRIBED_CLAS = ['api', 'api~dc1', 'db', 'x', 'big'];

/**
 * `eager`: rebuild right after each change, to check what one rebuild produces (coalescing has
 * its own tests). `clas`: CLA names subscribed to from the start.
 */
function setup(dns: Record<string, string[] | Error> = {}, eager = true, clas = SUBSCRIBED_CLAS) {
  const clock = new FakeClock();
  const registry = new UpstreamRegistry(GLOBAL, { initialRevision: 1_000_000 });
  const lookups: string[] = [];
  const resolveHost = async (host: string) => {
    lookups.push(host);
    const a = dns[host];
    if (a instanceof Error) throw a;
    return a ?? [];
  };
  const cache = new XdsResourceCache(registry, envoyCodec(), { clock, resolveHost, dnsRefreshMs: REFRESH_MS });
  for (const name of clas) cache.setWanted(ENDPOINT, name, true);
  const changes: ResourceChange[][] = [];
  cache.subscribe((c) => changes.push([...c]));
  if (eager) registry.subscribe(() => cache.settle());
  return { clock, registry, cache, changes, dns, lookups };
}

const kinds = (batch: readonly ResourceChange[]) => batch.map((c) => `${c.typeUrl.split('.').at(-1)}:${c.name}${c.removed ? '-' : ''}`);
const api = (extra = {}) => upstream('api', [cluster(1, [server('10.0.0.1:80')]), cluster('dc1', [server('10.0.0.2:80')])], extra);

describe('xDS resource cache', () => {
  it('builds four kinds per tree, in push order, versioned above the registry revision', () => {
    const { registry, cache, changes } = setup();
    registry.put(api());
    assert.deepEqual(kinds(changes[0]!), ['Cluster:api', 'Cluster:api~dc1', 'ClusterLoadAssignment:api', 'ClusterLoadAssignment:api~dc1', 'Listener:api', 'Listener:api~dc1', 'RouteConfiguration:api', 'RouteConfiguration:api~dc1']);
    const v = Number(cache.get(CLUSTER, 'api')!.version);
    assert.ok(v >= registry.currentRevision);
    for (const t of [LISTENER, ROUTE, CLUSTER, ENDPOINT] as const) assert.equal(cache.version(t), String(v));
  });

  it('encodes once per change; an unchanged rebuild keeps versions and announces nothing', () => {
    const { registry, cache, changes } = setup();
    registry.put(api());
    const encodes = cache.encodes;
    const v = cache.get(LISTENER, 'api')!.version;
    registry.put(api()); // same spec again: rebuilt, byte-identical
    assert.equal(cache.encodes - encodes, 8);
    assert.equal(changes.length, 1);
    assert.equal(cache.get(LISTENER, 'api')!.version, v);
  });

  it('a health change rebuilds only the CLAs; other types keep their versions', () => {
    const { registry, cache, changes } = setup();
    registry.put(api());
    const before = [LISTENER, ROUTE, CLUSTER].map((t) => cache.version(t as typeof LISTENER));
    const encodes = cache.encodes;
    registry.setHealth('api', '10.0.0.1:80', health('err'));
    assert.equal(cache.encodes - encodes, 2, 'two CLAs (api, api~dc1), nothing else');
    assert.deepEqual(kinds(changes.at(-1)!), ['ClusterLoadAssignment:api']);
    assert.deepEqual([LISTENER, ROUTE, CLUSTER].map((t) => cache.version(t as typeof LISTENER)), before);
    assert.ok(Number(cache.version(ENDPOINT)) > Number(before[0]));
  });

  it('a mode change touches Cluster and Route only', () => {
    const { registry, changes } = setup();
    registry.put(api());
    registry.put(api({ mode: 'hash' }));
    assert.deepEqual(kinds(changes.at(-1)!), ['Cluster:api', 'Cluster:api~dc1', 'RouteConfiguration:api', 'RouteConfiguration:api~dc1']);
  });

  it('deletion removes every kind and keeps tombstones; a named cluster dropped from the spec goes too', () => {
    const { registry, cache, changes } = setup();
    registry.put(api());
    registry.put(upstream('api', [cluster(1, [server('10.0.0.1:80')])]));
    assert.deepEqual(kinds(changes.at(-1)!), ['ClusterLoadAssignment:api', 'Cluster:api~dc1-', 'ClusterLoadAssignment:api~dc1-', 'Listener:api~dc1-', 'RouteConfiguration:api~dc1-']);
    const v = cache.get(CLUSTER, 'api')!.version;
    registry.delete('api');
    assert.equal(cache.get(CLUSTER, 'api'), undefined);
    assert.equal(cache.tombstone(CLUSTER, 'api')!.version, v);
    assert.deepEqual([...cache.names(LISTENER)], []);
    registry.put(api());
    assert.equal(cache.tombstone(CLUSTER, 'api'), undefined);
  });

  it('a deleted upstream created again identically gets a new Listener and Cluster (grpc-js re-add bug)', () => {
    const { registry, cache } = setup();
    registry.put(api());
    const first = [LISTENER, CLUSTER, ENDPOINT].map((t) => cache.get(t as typeof LISTENER, 'api')!.any);
    registry.delete('api');
    registry.put(api());
    const again = [LISTENER, CLUSTER, ENDPOINT].map((t) => cache.get(t as typeof LISTENER, 'api')!.any);
    assert.deepEqual(again.map((b, i) => b.equals(first[i]!)), [false, false, true]);
    assert.ok(again[1]!.toString('latin1').includes('DEFAULT') || again[1]!.length > first[1]!.length, 'circuit breaker set');
  });

  it('DNS: the CLA waits for the first answer, follows refreshes, survives failed refreshes', async () => {
    const { registry, cache, changes, dns, clock, lookups } = setup({ 'db.test': ['10.0.0.5'] });
    registry.put(upstream('db', [cluster(1, [server('db.test:5432')])]));
    assert.equal(cache.get(ENDPOINT, 'db'), undefined, 'no CLA before the first resolution');
    assert.ok(cache.get(CLUSTER, 'db') !== undefined);
    await flush();
    cache.settle();
    assert.deepEqual(kinds(changes.at(-1)!), ['ClusterLoadAssignment:db']);
    const address = () => JSON.stringify(cache.get(ENDPOINT, 'db')!.any.toString('latin1').match(/10\.0\.0\.\d/g));
    assert.equal(address(), '["10.0.0.5"]');
    dns['db.test'] = ['10.0.0.6'];
    clock.advance(REFRESH_MS);
    await flush();
    cache.settle();
    assert.equal(address(), '["10.0.0.6"]');
    dns['db.test'] = new Error('SERVFAIL');
    clock.advance(REFRESH_MS);
    await flush();
    cache.settle();
    assert.equal(address(), '["10.0.0.6"]', 'last good addresses kept');
    assert.equal(lookups.length, 3);
    registry.delete('db');
    clock.advance(REFRESH_MS);
    await flush();
    cache.settle();
    clock.advance(REFRESH_MS);
    await flush();
    cache.settle();
    assert.equal(lookups.length, 3, 'names no longer used are not resolved again');
    cache.close();
  });

  it('a host name that never resolves leaves its server out (and the level, if alone)', async () => {
    const { registry, cache } = setup({ 'gone.test': new Error('NXDOMAIN') });
    registry.put(upstream('x', [cluster(1, [server('gone.test:80')]), cluster(2, [server('10.0.0.9:80')])]));
    await flush();
    cache.settle();
    const cla = unpackAny(cache.get(ENDPOINT, 'x')!.any).value.toString('latin1');
    assert.ok(cla.includes('10.0.0.9') && !cla.includes('level-1'));
    cache.close();
  });

  it('a registry change only marks the upstream dirty; one flush per window rebuilds it once', () => {
    const { registry, cache, changes, clock } = setup({}, false);
    const servers = Array.from({ length: 2000 }, (_, i) => server(`10.1.${i >> 8}.${i & 255}:80`));
    registry.put(upstream('big', [cluster(1, servers)]));
    cache.settle();
    const rebuilds = cache.rebuilds;
    const encodes = cache.encodes;
    const batches = changes.length;
    // 500 verdicts in one window: nothing is rebuilt or encoded inside the registry's event.
    for (let i = 0; i < 500; i++) registry.setHealth('big', `10.1.${i >> 8}.${i & 255}:80`, health('err'));
    assert.equal(cache.rebuilds, rebuilds, 'no rebuild inside the change event');
    assert.equal(cache.encodes, encodes);
    assert.equal(cache.pendingRebuilds, 1);
    clock.advance(DEFAULT_XDS_COALESCE_MS);
    assert.equal(cache.rebuilds - rebuilds, 1, 'one rebuild for 500 changes');
    assert.equal(cache.encodes - encodes, 1, 'one CLA encode');
    assert.equal(changes.length, batches + 1);
    assert.deepEqual(kinds(changes.at(-1)!), ['ClusterLoadAssignment:big']);
    const cla = unpackAny(cache.get(ENDPOINT, 'big')!.any).value;
    assert.ok(cla.length > 0);
    // The next window starts fresh: a later change is rebuilt in its own flush.
    registry.setHealth('big', '10.1.0.0:80', health('ok'));
    clock.advance(DEFAULT_XDS_COALESCE_MS - 1);
    assert.equal(cache.rebuilds - rebuilds, 1);
    clock.advance(1);
    assert.equal(cache.rebuilds - rebuilds, 2);
    cache.close();
  });

  it('a spec change and health changes in one window rebuild the upstream once, all kinds', () => {
    const { registry, cache, changes, clock } = setup({}, false);
    registry.put(api());
    cache.settle();
    const rebuilds = cache.rebuilds;
    registry.setHealth('api', '10.0.0.1:80', health('err'));
    registry.put(api({ mode: 'hash' }));
    registry.setHealth('api', '10.0.0.2:80', health('err'));
    clock.advance(DEFAULT_XDS_COALESCE_MS);
    assert.equal(cache.rebuilds - rebuilds, 1);
    assert.deepEqual(kinds(changes.at(-1)!), ['Cluster:api', 'Cluster:api~dc1', 'ClusterLoadAssignment:api', 'ClusterLoadAssignment:api~dc1', 'RouteConfiguration:api', 'RouteConfiguration:api~dc1']);
    cache.close();
  });
});

describe('xDS resource cache: CLAs on demand', () => {
  const bigServers = Array.from({ length: 2000 }, (_, i) => server(`10.1.${i >> 8}.${i & 255}:80`));
  const big = () => upstream('big', [cluster(1, bigServers), cluster('dc1', [server('10.2.0.1:80')])]);
  const fail = (registry: UpstreamRegistry, from: number, to: number, status: 'ok' | 'err' = 'err') => {
    for (let i = from; i < to; i++) registry.setHealth('big', `10.1.${i >> 8}.${i & 255}:80`, health(status));
  };
  /** The CLA `name` built from the registry's state now, and its endpoints marked UNHEALTHY. */
  const currentCla = (registry: UpstreamRegistry, name: string) => {
    const entry = registry.upstream('big')!;
    const cla = buildLoadAssignment(treesOf(entry.spec).find((t) => t.name === name)!, { view: entry, addresses: () => [] })!;
    return { any: envoyCodec().encodeAny(ENDPOINT, cla).any, unhealthy: cla.endpoints.flatMap((l) => l.lb_endpoints).filter((e) => e.health_status === 'UNHEALTHY').length };
  };
  /** Whether the cache holds the CLA of the current state; how many endpoints it has UNHEALTHY. */
  const unhealthy = (registry: UpstreamRegistry, cache: XdsResourceCache, name = 'big') => {
    const now = currentCla(registry, name);
    assert.ok(cache.get(ENDPOINT, name)!.any.equals(now.any), `the cached ${name} CLA is the current state`);
    return now.unhealthy;
  };

  it('a mass failure on an upstream nobody subscribes to builds and encodes no CLA; the first subscriber gets the current one, at a newer version', () => {
    const { registry, cache, changes, clock } = setup({}, false, []);
    registry.put(big());
    cache.settle();
    assert.equal(cache.get(ENDPOINT, 'big'), undefined, 'no CLA built for nobody');
    assert.ok(cache.get(CLUSTER, 'big') !== undefined, 'the Cluster is (CDS wildcard subscribers want every one)');
    const encodes = cache.encodes;
    const batches = changes.length;
    const clusterVersion = Number(cache.get(CLUSTER, 'big')!.version);
    for (let w = 0; w < 10; w++) {
      fail(registry, w * 100, (w + 1) * 100);
      clock.advance(DEFAULT_XDS_COALESCE_MS);
    }
    assert.equal(cache.encodes, encodes, 'ten windows of failures: nothing encoded');
    assert.equal(changes.length, batches, 'nothing announced');
    assert.equal(cache.get(ENDPOINT, 'big'), undefined);

    cache.setWanted(ENDPOINT, 'big', true);
    assert.equal(cache.encodes - encodes, 1, 'one CLA built, for the name asked, at once');
    assert.equal(cache.get(ENDPOINT, 'big~dc1'), undefined, 'not its sibling');
    const first = cache.get(ENDPOINT, 'big')!;
    assert.equal(unhealthy(registry, cache), 1000, 'the current state');
    assert.ok(Number(first.version) > clusterVersion && Number(first.version) >= registry.currentRevision, 'a version above every earlier one');
    assert.equal(cache.version(ENDPOINT), first.version);
    assert.equal(changes.length, batches, 'built for the one asking: announced to nobody');

    // Subscribed: a change is rebuilt and announced as before, at a newer version.
    fail(registry, 0, 1, 'ok');
    clock.advance(DEFAULT_XDS_COALESCE_MS);
    assert.deepEqual(kinds(changes.at(-1)!), ['ClusterLoadAssignment:big']);
    const second = cache.get(ENDPOINT, 'big')!;
    assert.ok(Number(second.version) > Number(first.version));
    assert.equal(unhealthy(registry, cache), 999);

    // The last subscriber gone: changes build nothing again.
    cache.setWanted(ENDPOINT, 'big', false);
    assert.equal(cache.get(ENDPOINT, 'big'), undefined);
    const quiet = cache.encodes;
    fail(registry, 0, 1, 'err');
    clock.advance(DEFAULT_XDS_COALESCE_MS);
    assert.equal(cache.encodes, quiet);
    // Wanted again: built now, at a version above the last one handed out.
    cache.setWanted(ENDPOINT, 'big', true);
    const third = cache.get(ENDPOINT, 'big')!;
    assert.ok(Number(third.version) > Number(second.version));
    assert.equal(unhealthy(registry, cache), 1000);
    cache.close();
  });

  it('a CLA wanted again unchanged keeps its version; one whose upstream went away is not kept', () => {
    const { registry, cache } = setup({}, true, []);
    registry.put(big());
    cache.setWanted(ENDPOINT, 'big~dc1', true);
    const v = cache.get(ENDPOINT, 'big~dc1')!.version;
    cache.setWanted(ENDPOINT, 'big~dc1', false);
    fail(registry, 0, 10); // changes `big`, not the dc1 cluster
    cache.setWanted(ENDPOINT, 'big~dc1', true);
    assert.equal(cache.get(ENDPOINT, 'big~dc1')!.version, v, 'byte-identical: same version (a resuming delta client is not sent it again)');
    cache.setWanted(ENDPOINT, 'big~dc1', false);
    registry.delete('big');
    registry.put(big());
    cache.setWanted(ENDPOINT, 'big~dc1', true);
    assert.ok(Number(cache.get(ENDPOINT, 'big~dc1')!.version) > Number(v), 'a deleted upstream does not bring back its old CLA versions');
  });

  it('a name subscribed before its upstream exists is built when the upstream appears, and announced', () => {
    const { registry, cache, changes } = setup({}, true, []);
    cache.setWanted(ENDPOINT, 'big', true);
    assert.equal(cache.get(ENDPOINT, 'big'), undefined);
    registry.put(big());
    assert.ok(kinds(changes.at(-1)!).includes('ClusterLoadAssignment:big'));
    assert.ok(!kinds(changes.at(-1)!).includes('ClusterLoadAssignment:big~dc1'), 'the unsubscribed sibling is not built');
  });
});

describe('slow start over xDS: ramped locality weights', () => {
  const SLOW = { windowMs: 10_000, aggression: 1, minWeightPercent: 10 };
  const two = () => upstream('api', [cluster(1, [server('10.0.0.1:80', { weight: 100 }), server('10.0.0.2:80', { weight: 100 })])], { slowStart: SLOW });

  it('a peer back from err gets its weight times the ramp factor as locality weight, then all of it', () => {
    const clock = new FakeClock();
    const registry = new UpstreamRegistry(GLOBAL, { initialRevision: 1_000_000, clock });
    registry.put(two());
    registry.setHealth('api', '10.0.0.2:80', health('err'));
    registry.setHealth('api', '10.0.0.2:80', health('ok'));
    const entry = registry.upstream('api')!;
    const tree = treesOf(entry.spec, () => 0)[0]!;
    const weightsAt = () => {
      let ramping = false;
      const cla = buildLoadAssignment(tree, { view: entry, addresses: () => [], now: () => entry.now(), ramping: () => (ramping = true) })!;
      return { weights: cla.endpoints.map((e) => e.load_balancing_weight!.value), ramping };
    };
    assert.deepEqual(weightsAt(), { weights: [100, 10], ramping: true }, 'the floor: 10% at once');
    clock.advance(5_000);
    assert.deepEqual(weightsAt(), { weights: [100, 50], ramping: true });
    clock.advance(5_000);
    assert.deepEqual(weightsAt(), { weights: [100, 100], ramping: false });
    // Hash modes do not ramp (as in SelectPeer).
    registry.put({ ...two(), mode: 'hash' });
    registry.setHealth('api', '10.0.0.2:80', health('err'));
    registry.setHealth('api', '10.0.0.2:80', health('ok'));
    const hashed = registry.upstream('api')!;
    const cla = buildLoadAssignment(treesOf(hashed.spec, () => 0)[0]!, { view: hashed, addresses: () => [], now: () => hashed.now() })!;
    assert.deepEqual(cla.endpoints.map((e) => e.load_balancing_weight!.value), [100, 100]);
  });

  it('the cache pushes the CLA again every 1/20 of the window while a peer ramps, and stops after', () => {
    const clock = new FakeClock();
    const registry = new UpstreamRegistry(GLOBAL, { initialRevision: 1_000_000, clock });
    const cache = new XdsResourceCache(registry, envoyCodec(), { clock, resolveHost: async () => [], dnsRefreshMs: REFRESH_MS });
    cache.setWanted(ENDPOINT, 'api', true);
    const changes: ResourceChange[][] = [];
    cache.subscribe((c) => changes.push([...c]));
    registry.put(two());
    cache.settle();
    registry.setHealth('api', '10.0.0.2:80', health('err'));
    clock.advance(DEFAULT_XDS_COALESCE_MS);
    registry.setHealth('api', '10.0.0.2:80', health('ok'));
    clock.advance(DEFAULT_XDS_COALESCE_MS);
    const start = changes.length;
    const versions = new Set<string>();
    for (let t = 0; t < 12_000; t += 100) {
      clock.advance(100);
      versions.add(cache.get(ENDPOINT, 'api')!.version);
    }
    const pushes = changes.slice(start).filter((b) => kinds(b).includes('ClusterLoadAssignment:api')).length;
    assert.ok(pushes >= 15 && pushes <= 21, `${pushes} CLA pushes over the window`);
    const settled = changes.length;
    clock.advance(60_000);
    assert.equal(changes.length, settled, 'nothing more once the ramp is over');
    cache.close();
  });

  it('a CLA first asked for while a peer ramps follows the ramp from then on', () => {
    const clock = new FakeClock();
    const registry = new UpstreamRegistry(GLOBAL, { initialRevision: 1_000_000, clock });
    const cache = new XdsResourceCache(registry, envoyCodec(), { clock, resolveHost: async () => [], dnsRefreshMs: REFRESH_MS });
    const changes: ResourceChange[][] = [];
    cache.subscribe((c) => changes.push([...c]));
    registry.put(two());
    registry.setHealth('api', '10.0.0.2:80', health('err'));
    registry.setHealth('api', '10.0.0.2:80', health('ok'));
    clock.advance(2_000); // ramping, and nobody asked: nothing built, nothing pushed
    assert.equal(cache.get(ENDPOINT, 'api'), undefined);
    cache.setWanted(ENDPOINT, 'api', true);
    const first = cache.get(ENDPOINT, 'api')!.version;
    clock.advance(8_000);
    const pushes = changes.filter((b) => kinds(b).includes('ClusterLoadAssignment:api')).length;
    assert.ok(pushes >= 12 && pushes <= 17, `${pushes} CLA pushes over the rest of the window`);
    assert.ok(Number(cache.get(ENDPOINT, 'api')!.version) > Number(first));
    cache.close();
  });
});
