/**
 * The mapping of docs/envoy.md, resource by resource: trees per upstream and named cluster,
 * dense priorities, first occurrence wins, one locality per server, health states, hash
 * policies per mode — and each kind, encoded, accepted by grpc-js-xds 1.14.1's own decoders.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ClusterResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/cluster-resource-type.js';
import { EndpointResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/endpoint-resource-type.js';
import { ListenerResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/listener-resource-type.js';
import { RouteConfigurationResourceType } from '@grpc/grpc-js-xds/build/src/xds-resource-type/route-config-resource-type.js';
import type { PeerHealth } from '../../src/core/model.ts';
import type { UpstreamSpec } from '../../src/core/model.ts';
import { envoyCodec } from '../../src/server/xds/proto.ts';
import { clusterType } from '../../src/server/xds/resources/cluster.ts';
import { buildLoadAssignment, endpointType, fitWeights } from '../../src/server/xds/resources/endpoint.ts';
import { RESOURCE_KINDS } from '../../src/server/xds/resources/index.ts';
import { listenerType } from '../../src/server/xds/resources/listener.ts';
import { hashPolicies, routeType } from '../../src/server/xds/resources/route.ts';
import { treesOf } from '../../src/server/xds/resources/tree.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { unpackAny } from '../support/xds-harness.ts';

function view(spec: UpstreamSpec, health: Record<string, PeerHealth['status']> = {}, heartbeat = true, passiveErr: readonly string[] = []) {
  return {
    spec,
    version: 1,
    heartbeat,
    health: (id: string) => (health[id] === undefined ? undefined : { status: health[id]!, failNum: 0, lastModified: 0, msg: null }),
    passive: (id: string) => (passiveErr.includes(id) ? { failedCount: 2, untilWall: Date.now() + 10_000 } : undefined),
  };
}
const noDns = { addresses: () => undefined };

describe('xDS resources', () => {
  before(async () => {
    // Registers grpc-js-xds' HTTP filters and LB policies, which its Listener/Cluster decoders consult.
    (await import('@grpc/grpc-js-xds')).register();
  });

  it('one tree per upstream and one per named cluster (K~NAME), clusters in SelectPeer order', () => {
    const spec = upstream('api', [cluster(1, [server('10.0.0.1:80')]), cluster(2, [server('10.0.0.2:80')]), cluster('dc1', [server('10.0.0.3:80')])]);
    assert.deepEqual(
      treesOf(spec).map((t) => [t.name, t.clusters.map((c) => c.key)]),
      [
        ['api', [1, 2, 'dc1']],
        ['api~dc1', ['dc1']],
      ],
    );
  });

  it('levels become dense priorities; empty levels and repeated servers are skipped; one locality per server', () => {
    const spec = upstream('api', [
      cluster(1, [server('10.0.0.1:80', { weight: 3 }), server('10.0.0.2:80')]),
      cluster(3, []),
      cluster(5, [server('10.0.0.1:80')]), // only a repeat: the level vanishes
      cluster(7, [server('10.0.0.9:80')]),
    ]);
    const cla = buildLoadAssignment(treesOf(spec)[0]!, { view: view(spec), ...noDns })!;
    assert.deepEqual(
      cla.endpoints.map((l) => [l.priority, l.locality.zone, l.locality.sub_zone, l.load_balancing_weight.value, l.lb_endpoints.map((e) => e.load_balancing_weight.value)]),
      [
        [0, 'level-1', '10.0.0.1:80', 3, [1]],
        [0, 'level-1', '10.0.0.2:80', 1, [1]],
        [1, 'level-7', '10.0.0.9:80', 1, [1]],
      ],
    );
  });

  it('health: down -> DRAINING, err -> UNHEALTHY, ok/unstable -> HEALTHY, unchecked or heartbeat off -> UNKNOWN', () => {
    const servers = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80', '10.0.0.4:80', '10.0.0.5:80'];
    const spec = upstream('api', [cluster(1, servers.map((s, i) => server(s, { down: i === 0 })))]);
    const states = { '10.0.0.1:80': 'ok', '10.0.0.2:80': 'err', '10.0.0.3:80': 'ok', '10.0.0.4:80': 'unstable' } as const;
    const statuses = (heartbeat: boolean) => buildLoadAssignment(treesOf(spec)[0]!, { view: view(spec, states, heartbeat), ...noDns })!.endpoints.map((l) => l.lb_endpoints[0]!.health_status);
    assert.deepEqual(statuses(true), ['DRAINING', 'UNHEALTHY', 'HEALTHY', 'HEALTHY', 'UNKNOWN']);
    assert.deepEqual(statuses(false), ['DRAINING', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN', 'UNKNOWN']);
  });

  it('a published passive exclusion is UNHEALTHY, heartbeat on or off; down stays DRAINING', () => {
    const servers = ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.3:80'];
    const spec = upstream('api', [cluster(1, servers.map((s, i) => server(s, { down: i === 0 })))]);
    const passiveErr = ['10.0.0.1:80', '10.0.0.3:80'];
    const statuses = (heartbeat: boolean) =>
      buildLoadAssignment(treesOf(spec)[0]!, { view: view(spec, { '10.0.0.3:80': 'ok' }, heartbeat, passiveErr), ...noDns })!.endpoints.map((l) => l.lb_endpoints[0]!.health_status);
    assert.deepEqual(statuses(true), ['DRAINING', 'UNKNOWN', 'UNHEALTHY']);
    assert.deepEqual(statuses(false), ['DRAINING', 'UNKNOWN', 'UNHEALTHY']);
  });

  it('host names become IP literals of their locality; the CLA waits for the first resolution', () => {
    const spec = upstream('api', [cluster(1, [server('db.test:5432'), server('10.0.0.7:5432')])]);
    const tree = treesOf(spec)[0]!;
    assert.equal(buildLoadAssignment(tree, { view: view(spec), addresses: () => undefined }), undefined);
    const cla = buildLoadAssignment(tree, { view: view(spec), addresses: () => ['10.0.0.7', '10.0.0.8'] })!;
    assert.deepEqual(
      cla.endpoints.map((l) => [l.locality.sub_zone, l.lb_endpoints.map((e) => e.endpoint.address.socket_address.address)]),
      [['db.test:5432', ['10.0.0.7', '10.0.0.8']]], // 10.0.0.7:5432 already served by db.test
    );
  });

  it('an upstream without servers has an empty CLA and still a Cluster', () => {
    const spec = upstream('empty', [cluster(1, [])]);
    const tree = treesOf(spec)[0]!;
    assert.deepEqual(buildLoadAssignment(tree, { view: view(spec), ...noDns })!.endpoints, []);
    assert.equal(clusterType.build(tree).name, 'empty');
  });

  it('fitWeights keeps small sums, scales big ones under 2^32', () => {
    assert.deepEqual(fitWeights([1, 3, 0]), [1, 3, 1]);
    const big = fitWeights(Array.from({ length: 10_000 }, () => 1_000_000));
    assert.ok(big.reduce((a, b) => a + b, 0) <= 0xffffffff && big.every((w) => w === big[0]));
    // The original's full range: 65,535 servers at 2^31-1, plus light ones, still fit and keep ratios.
    const huge = [...Array.from({ length: 65_533 }, () => 2 ** 31 - 1), 3_200_000, 1];
    const fitted = fitWeights(huge);
    assert.ok(fitted.reduce((a, b) => a + b, 0) <= 0xffffffff);
    assert.equal(fitted.at(-1), 1);
    assert.ok(fitted[0]! > 1 && fitted.every((w) => Number.isInteger(w) && w >= 1));
    const two = fitWeights([2 ** 31 - 1, 2 ** 31 - 1, 2 ** 30]);
    assert.ok(two.reduce((a, b) => a + b, 0) <= 0xffffffff);
    assert.ok(Math.abs(two[0]! / two[2]! - 2) < 1e-6, 'ratios kept');
  });

  it('hash modes: ring hash cluster and route hash policies; wrr: round robin, none', () => {
    assert.deepEqual(hashPolicies('wrr'), []);
    assert.deepEqual(
      hashPolicies('hash').map((p) => Object.keys(p)[0]),
      ['header', 'header', 'filter_state'],
    );
    assert.deepEqual(
      hashPolicies('ip_hash').map((p) => Object.keys(p)[0]),
      ['connection_properties', 'filter_state'],
    );
    const tree = treesOf(upstream('h', [cluster(1, [server('10.0.0.1:80')])], { mode: 'hash' }))[0]!;
    assert.equal(clusterType.build(tree).lb_policy, 'RING_HASH');
    assert.equal(routeType.build(tree).virtual_hosts[0]!.routes[0]!.route.hash_policy[0]!.terminal, true);
  });

  it('push order is CDS, EDS, LDS, RDS', () => {
    assert.deepEqual(
      RESOURCE_KINDS.map((k) => k.typeUrl),
      [clusterType.typeUrl, endpointType.typeUrl, listenerType.typeUrl, routeType.typeUrl],
    );
  });

  it('slow_start: the Cluster carries round_robin_lb_config.slow_start_config; grpc-js-xds accepts it; hash modes and slow_start 0 carry none', () => {
    const codec = envoyCodec();
    const context = { server: { serverUri: 'x', channelCreds: [], serverFeatures: [] }, bootstrap: { certificateProviders: {} } } as never;
    const ads = codec.packageDefinition['envoy.service.discovery.v3.AggregatedDiscoveryService'] as unknown as Record<string, { responseDeserialize(b: Buffer): { resources: Array<Record<string, unknown>> } }>;
    // Decoded back with Envoy's own protos: protobufjs would drop a misnamed field silently.
    const roundTrip = (slowStart: UpstreamSpec['slowStart'], mode: UpstreamSpec['mode'] = 'wrr') => {
      const spec = upstream('api', [cluster(1, [server('10.0.0.1:80'), server('10.0.0.2:80')])], { slowStart, mode });
      const encoded = codec.encodeAny(clusterType.typeUrl, clusterType.build(treesOf(spec)[0]!));
      const decoded = ClusterResourceType.get().decode(context, unpackAny(encoded.any));
      assert.equal(decoded.error, undefined, String(decoded.error));
      const cds = ads['StreamAggregatedResources']!.responseDeserialize(encoded.sotwEntry).resources[0]!;
      return { cds, lb: JSON.stringify((decoded.value as { lbPolicyConfig: unknown }).lbPolicyConfig) };
    };
    const { cds, lb } = roundTrip({ windowMs: 30_500, aggression: 2, minWeightPercent: 25 });
    assert.deepEqual(cds['round_robin_lb_config'], {
      slow_start_config: {
        slow_start_window: { seconds: '30', nanos: 500_000_000 },
        aggression: { default_value: 2, runtime_key: 'checkups.api.slow_start_aggression' },
        min_weight_percent: { value: 25 },
      },
    });
    assert.match(lb, /round_robin/, 'grpc-js-xds: still round robin (it ignores slow start)');
    // Envoy's default aggression (1.0) is left out, as Envoy's own configs do.
    assert.deepEqual(roundTrip({ windowMs: 10_000, aggression: 1, minWeightPercent: 10 }).cds['round_robin_lb_config'], {
      slow_start_config: { slow_start_window: { seconds: '10', nanos: 0 }, aggression: null, min_weight_percent: { value: 10 } },
    });
    assert.equal(roundTrip({ windowMs: 0, aggression: 1, minWeightPercent: 10 }).cds['round_robin_lb_config'], undefined);
    assert.equal(roundTrip({ windowMs: 10_000, aggression: 1, minWeightPercent: 10 }, 'hash').cds['round_robin_lb_config'], undefined);
  });

  for (const mode of ['wrr', 'hash', 'url_hash', 'ip_hash', 'header_hash'] as const) {
    it(`grpc-js-xds accepts every kind (mode ${mode}), and the fields survive the round trip`, () => {
      const codec = envoyCodec();
      const spec = upstream('api', [cluster(1, [server('10.0.0.1:80', { weight: 2 })]), cluster('dc1', [server('10.0.0.2:80')])], { mode });
      const decoders = [ClusterResourceType.get(), EndpointResourceType.get(), ListenerResourceType.get(), RouteConfigurationResourceType.get()];
      const context = { server: { serverUri: 'x', channelCreds: [], serverFeatures: [] }, bootstrap: { certificateProviders: {} } } as never;
      for (const tree of treesOf(spec)) {
        RESOURCE_KINDS.forEach((kind, i) => {
          const message = kind.build(tree, { view: view(spec), ...noDns })!;
          const { any } = codec.encodeAny(kind.typeUrl, message);
          const decoded = decoders[i]!.decode(context, unpackAny(any));
          assert.equal(decoded.error, undefined, `${kind.typeUrl}: ${decoded.error}`);
          assert.equal(decoded.name, tree.name);
        });
      }
      const cds = ClusterResourceType.get().decode(context, unpackAny(codec.encodeAny(clusterType.typeUrl, clusterType.build(treesOf(spec)[0]!)).any));
      const lb = JSON.stringify((cds.value as { lbPolicyConfig: unknown }).lbPolicyConfig);
      assert.match(lb, mode === 'wrr' ? /round_robin/ : /ring_hash/);
    });
  }
});
