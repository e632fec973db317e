/**
 * Property: whatever the upstream (gaps between levels, empty levels, named clusters, a server
 * in several levels, host names resolving onto literal addresses, weights up to 2^31-1, every
 * health and admin state), the ClusterLoadAssignment obeys every client rule of docs/envoy.md — and grpc-js-xds 1.14.1's own EDS validation (its decoder, fed our encoded bytes)
 * accepts it.
 */
import fc from 'fast-check';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import { describe, it } from 'node:test';
// NOTE: an internal module of the pinned devDependency: the exact decoder its client runs.
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js';
import type { PeerHealth, ServerSpec } from '../../src/core/model.ts';
import { peerId } from '../../src/core/model.ts';
import type { ClusterLoadAssignment } from '../../src/server/xds/envoy-types.ts';
import { envoyCodec } from '../../src/server/xds/proto.ts';
import { buildLoadAssignment, canonicalIp, MAX_PRIORITY, MAX_PRIORITY_WEIGHT } from '../../src/server/xds/resources/endpoint.ts';
import { treesOf } from '../../src/server/xds/resources/tree.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { unpackAny } from '../support/xds-harness.ts';

/** Host names resolve onto addresses that literal servers use too, to force collisions. */
const DNS: Record<string, string[]> = {
  'one.test': ['10.0.0.1'],
  'two.test': ['10.0.0.2', 'fd00::2'],
  'both.test': ['10.0.0.1', '10.0.0.3'],
  'none.test': [],
};
/** `fd00:0::2` is `fd00::2` spelled differently: still one address. */
const HOSTS = ['10.0.0.1', '10.0.0.2', '10.0.0.3', 'fd00::2', 'fd00:0::2', '::1', ...Object.keys(DNS)];
const STATUSES = ['ok', 'err', 'unstable', 'unchecked', undefined] as const;

const serverArb = fc.record({
  host: fc.constantFrom(...HOSTS),
  port: fc.constantFrom(80, 81, 65535),
  weight: fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: 1_000_000 }), fc.integer({ min: 1, max: 2 ** 31 - 1 })),
  down: fc.boolean(),
  status: fc.constantFrom(...STATUSES),
});

const upstreamArb = fc.record({
  levels: fc.uniqueArray(fc.integer({ min: 1, max: 12 }), { maxLength: 6 }),
  named: fc.uniqueArray(fc.constantFrom('dc1', 'dc2', 'edge'), { maxLength: 2 }),
  servers: fc.array(fc.array(serverArb, { maxLength: 6 }), { minLength: 8, maxLength: 8 }),
  heartbeat: fc.boolean(),
  mode: fc.constantFrom('wrr', 'hash', 'ip_hash') as fc.Arbitrary<'wrr' | 'hash' | 'ip_hash'>,
});

/** Every rule a gRPC client (or Envoy's validation) enforces on a CLA; returns the violations. */
export function claViolations(cla: ClusterLoadAssignment): string[] {
  const errors: string[] = [];
  const priorities = new Set<number>();
  const localities = new Set<string>();
  const addresses = new Set<string>();
  const sums = new Map<number, number>();
  for (const [i, l] of cla.endpoints.entries()) {
    const at = `endpoints[${i}]`;
    priorities.add(l.priority);
    if (l.priority > MAX_PRIORITY) errors.push(`${at}: priority ${l.priority} > ${MAX_PRIORITY}`);
    if (l.locality === undefined) errors.push(`${at}: no locality`);
    const lkey = JSON.stringify([l.locality, l.priority]);
    if (localities.has(lkey)) errors.push(`${at}: duplicate (locality, priority)`);
    localities.add(lkey);
    if (!(l.load_balancing_weight?.value >= 1)) errors.push(`${at}: locality weight unset or 0`);
    sums.set(l.priority, (sums.get(l.priority) ?? 0) + l.load_balancing_weight.value);
    if (l.lb_endpoints.length === 0) errors.push(`${at}: locality without endpoints`);
    for (const e of l.lb_endpoints) {
      const sa = e.endpoint.address.socket_address;
      if (isIP(sa.address) === 0) errors.push(`${at}: ${sa.address} is not an IP literal`);
      if (!(sa.port_value >= 1 && sa.port_value <= 65535)) errors.push(`${at}: bad port ${sa.port_value}`);
      const key = peerId(canonicalIp(sa.address), sa.port_value);
      if (addresses.has(key)) errors.push(`${at}: duplicate address ${key}`);
      if (key !== peerId(sa.address, sa.port_value)) errors.push(`${at}: ${sa.address} not in canonical form`);
      addresses.add(key);
      if (!(e.load_balancing_weight.value >= 1)) errors.push(`${at}: endpoint weight must be > 0 (C-core)`);
    }
  }
  for (let p = 0; p < priorities.size; p++) if (!priorities.has(p)) errors.push(`priorities not dense from 0: ${[...priorities].sort()}`);
  for (const [p, sum] of sums) if (sum > MAX_PRIORITY_WEIGHT) errors.push(`priority ${p} weight sum ${sum} > 2^32-1`);
  return errors;
}

const health = (status: PeerHealth['status']): PeerHealth => ({ status, failNum: 0, lastModified: 0, msg: null });

describe('ClusterLoadAssignment property', () => {
  it('every generated CLA obeys the client rules, keeps every address once and is accepted by grpc-js-xds', () => {
    const codec = envoyCodec();
    fc.assert(
      fc.property(upstreamArb, (u) => {
        const keys = [...[...u.levels].sort((a, b) => a - b), ...u.named];
        const specs: Array<{ spec: ServerSpec; status: (typeof STATUSES)[number] }> = [];
        const clusters = keys.map((key, i) =>
          cluster(
            key,
            u.servers[i]!.map((s) => {
              const spec = server(`${s.host}:${s.port}`, { weight: s.weight, down: s.down }); // the builder splits at the last ':'
              specs.push({ spec, status: s.status });
              return spec;
            }),
          ),
        );
        const spec = upstream('prop', clusters, { mode: u.mode });
        const statuses = new Map(specs.map((s) => [peerId(s.spec.host, s.spec.port), s.status]));
        const view = {
          spec,
          version: 1,
          heartbeat: u.heartbeat,
          health: (id: string) => {
            const st = statuses.get(id);
            return st === undefined ? undefined : health(st);
          },
          passive: () => undefined,
        };
        for (const tree of treesOf(spec)) {
          const cla = buildLoadAssignment(tree, { view, addresses: (h) => DNS[h] })!;
          assert.deepEqual(claViolations(cla), [], JSON.stringify(cla));
          // Every address the tree's servers stand for is served exactly once.
          const expected = new Set<string>();
          for (const c of tree.clusters) for (const s of c.servers) for (const ip of isIP(s.host) ? [s.host] : DNS[s.host]!) expected.add(peerId(canonicalIp(ip), s.port));
          const served = cla.endpoints.flatMap((l) => l.lb_endpoints.map((e) => peerId(e.endpoint.address.socket_address.address, e.endpoint.address.socket_address.port_value)));
          assert.deepEqual(new Set(served), expected);
          // Health as documented: admin down first, then heartbeat (only when on).
          for (const l of cla.endpoints) {
            const s = tree.clusters.flatMap((c) => c.servers).find((x) => peerId(x.host, x.port) === l.locality.sub_zone)!;
            const st = u.heartbeat ? statuses.get(l.locality.sub_zone) : undefined;
            const want = s.down ? 'DRAINING' : st === 'ok' || st === 'unstable' ? 'HEALTHY' : st === 'err' ? 'UNHEALTHY' : 'UNKNOWN';
            for (const e of l.lb_endpoints) assert.equal(e.health_status, want);
          }
          const { any } = codec.encodeAny(ENDPOINT, cla);
          const decoded = EndpointResourceType.get().decode({} as never, unpackAny(any));
          assert.equal(decoded.error, undefined, decoded.error);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('weights that would overflow a priority are scaled down, each kept >= 1', () => {
    const many = Array.from({ length: 5000 }, (_, i) => server(`10.1.${i >> 8}.${i & 255}:80`, { weight: i === 0 ? 1 : 1_000_000 }));
    const spec = upstream('big', [cluster(1, many)]);
    const cla = buildLoadAssignment(treesOf(spec)[0]!, { view: { spec, version: 1, heartbeat: false, health: () => undefined, passive: () => undefined }, addresses: () => [] })!;
    assert.deepEqual(claViolations(cla), []);
    const weights = cla.endpoints.map((l) => l.load_balancing_weight.value);
    assert.equal(weights[0], 1);
    assert.ok(weights[1]! > 800_000, `heavy servers keep their relative weight (${weights[1]})`);
  });
});
