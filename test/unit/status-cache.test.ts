/**
 * GetStatus keeps what it encoded between calls (issue 15: a GetStatus every 5 ms during a mass
 * failure, each one encoding an upstream of 10,000 peers and every xDS node again): an upstream's
 * entry while its spec, version, peer records and this process's failure counts stay, and each
 * xDS node's entry while its revision stays. These tests check the other half: every change shows
 * on the next call. And XdsStatus keeps at most MAX_IDLE_NODES nodes without streams, evicting
 * the least recently closed, without a scan of every node per close.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { SelectionEngine } from '../../src/balance/selection-engine.ts';
import { PEER_TOUCH_LOG_SIZE, UpstreamRegistry } from '../../src/core/registry.ts';
import type { GetStatusResponse__Output } from '../../src/generated/checkups/v1/GetStatusResponse.ts';
import { statusPage, statusPageBytes, XdsNodeEntries, type DiscoveryDeps, type StatusEncoder, type StatusEncoders } from '../../src/server/grpc/discovery.ts';
import { MAX_IDLE_NODES, XdsStatus } from '../../src/server/xds/status.ts';
import { packageDefinition } from '../../src/wire/proto.ts';
import { UpstreamStatusEncoder } from '../../src/wire/upstream-encoding.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { GLOBAL, health } from '../support/xds-harness.ts';

const method = (packageDefinition()['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition)['GetStatus']!;
const encodeStatus = method.responseSerialize as StatusEncoder;
const decode = (b: Buffer) => method.responseDeserialize(b) as GetStatusResponse__Output;
const E = 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment';

const ids = Array.from({ length: 50 }, (_, i) => `10.7.0.${i}:80`);

function setup() {
  const clock = new FakeClock();
  const registry = new UpstreamRegistry(GLOBAL, { clock });
  registry.put(upstream('big', [cluster(1, ids.map((id) => server(id, { maxFails: 3, failTimeoutMs: 60_000 })))]));
  registry.put(upstream('small', [cluster(1, [server('10.6.0.1:80')])]));
  const engine = new SelectionEngine(registry, clock, { onPassiveVerdict: (skey, id, v) => registry.setPassive(skey, id, v) });
  const xds = new XdsStatus(() => clock.wallNow(), { info: () => undefined, warn: () => undefined });
  /** The xDS status as GetStatus reads it, counting the walks of its node list. */
  const walks = { n: 0 };
  const xdsNodes = {
    get revision() {
      return xds.revision;
    },
    liveNodes: () => (walks.n++, xds.liveNodes()),
  };
  const deps = { registry, engine, clock, startedAt: 0, version: 'test', checker: undefined, encodeStatus, xdsNodes } as unknown as Omit<DiscoveryDeps, 'watch'>;
  const kept: StatusEncoders = { upstreams: new UpstreamStatusEncoder(), xdsNodes: new XdsNodeEntries(encodeStatus) };
  const page = () => decode(statusPageBytes(statusPage(deps, { pageSize: 0, pageToken: '' }, kept)));
  const peer = (res: GetStatusResponse__Output, hostPort: string) =>
    res.upstreams.find((u) => u.skey === 'big')!.clusters[0]!.peers.find((p) => `${p.server!.host}:${p.server!.port}` === hostPort)!;
  return { registry, engine, xds, kept, page, peer, walks };
}

describe('GetStatus caches', () => {
  it("an upstream's entry is reused while nothing changed, and every change shows on the next call", () => {
    const { registry, engine, kept, page, peer } = setup();
    page();
    const encodes = kept.upstreams.entryEncodes;
    assert.equal(encodes, 2, 'both upstreams, once');
    page();
    assert.equal(kept.upstreams.entryEncodes, encodes, 'nothing changed: nothing put together again');

    // A health record with a new count and message keeps the version (registry.setHealth).
    registry.setHealth('big', ids[3]!, { ...health('err'), failNum: 1, msg: 'first' });
    const version = registry.upstream('big')!.version;
    let res = page();
    assert.equal(peer(res, ids[3]!).health!.msg, 'first');
    registry.setHealth('big', ids[3]!, { ...health('err'), failNum: 2, msg: 'second' });
    assert.equal(registry.upstream('big')!.version, version, 'the second record kept the version');
    res = page();
    assert.equal(peer(res, ids[3]!).health!.msg, 'second');
    assert.equal(peer(res, ids[3]!).health!.failNum, 2);

    // This process's own failure count, below max_fails: no verdict, no new version.
    const before = registry.upstream('big')!.version;
    engine.feedback('big', '10.7.0.5', 80, true);
    assert.equal(registry.upstream('big')!.version, before);
    res = page();
    assert.equal(peer(res, ids[5]!).passiveFailedCount, 1);
    engine.feedback('big', '10.7.0.5', 80, true);
    assert.equal(peer(page(), ids[5]!).passiveFailedCount, 2);

    // The third failure excludes the peer: a published verdict.
    engine.feedback('big', '10.7.0.5', 80, true);
    res = page();
    assert.equal(peer(res, ids[5]!).passiveStatus, 'PASSIVE_STATUS_ERR');
    assert.equal(peer(res, ids[5]!).passiveFailedCount, 3);

    // A new spec (heartbeat off: every peer reads unchecked).
    registry.put(upstream('big', [cluster(1, ids.map((id) => server(id, { maxFails: 3, failTimeoutMs: 60_000 })))], { enable: false }));
    res = page();
    assert.equal(res.upstreams.find((u) => u.skey === 'big')!.heartbeat, false);
    assert.equal(peer(res, ids[3]!).health!.status, 'HEALTH_STATUS_UNCHECKED');

    // Deleted and created again: another entry object, nothing of the old one.
    registry.delete('big');
    assert.equal(page().upstreams.some((u) => u.skey === 'big'), false);
    registry.put(upstream('big', [cluster(1, [server(ids[0]!)])]));
    assert.deepEqual(page().upstreams.find((u) => u.skey === 'big')!.clusters[0]!.peers.map((p) => p.server!.host), ['10.7.0.0']);

    const settled = kept.upstreams.entryEncodes;
    page();
    assert.equal(kept.upstreams.entryEncodes, settled, 'and reused again once nothing changes');
  });

  it("an upstream's entry looks again only at the peers written since, and says what one put together afresh says", () => {
    const { registry, engine, kept, page } = setup();
    const deps = { registry, engine, clock: new FakeClock(), startedAt: 0, version: 'test', checker: undefined, encodeStatus } as unknown as Omit<DiscoveryDeps, 'watch'>;
    /** The same page from encoders that kept nothing (every peer encoded afresh). */
    const afresh = () => statusPageBytes(statusPage(deps, { pageSize: 0, pageToken: '' }, { upstreams: new UpstreamStatusEncoder(), xdsNodes: new XdsNodeEntries(encodeStatus) }));
    const same = () => assert.deepEqual(statusPageBytes(statusPage(deps, { pageSize: 0, pageToken: '' }, kept)), afresh());
    page();
    assert.equal(kept.upstreams.peerReads, ids.length + 1, 'the first call reads every peer');
    const steps: Array<[string, () => void, number]> = [
      ['a health record that keeps the version', () => registry.setHealth('big', ids[3]!, { ...health('ok'), failNum: 1, msg: 'slow' }), 1],
      ['a status change', () => registry.setHealth('big', ids[4]!, health('err')), 1],
      ['a failure count of this process', () => engine.feedback('big', '10.7.0.6', 80, true), 1],
      ['three failures: the count, then the verdict', () => [0, 1, 2].forEach(() => engine.feedback('big', '10.7.0.7', 80, true)), 4],
      ['two peers at once', () => (registry.setHealth('big', ids[8]!, health('err')), registry.setHealth('big', ids[9]!, health('err'))), 2],
    ];
    for (const [what, change, reads] of steps) {
      const before = kept.upstreams.peerReads;
      change();
      same();
      assert.equal(kept.upstreams.peerReads - before, reads, `${what}: only the peers named are read again`);
    }
    // More writes than the log holds between two calls: every peer is read again, and right.
    for (let k = 0; k < PEER_TOUCH_LOG_SIZE + 1; k++) registry.setHealth('big', ids[k % ids.length]!, { ...health('ok'), failNum: k % 3 });
    let before = kept.upstreams.peerReads;
    same();
    assert.equal(kept.upstreams.peerReads - before, ids.length, 'past the log: every peer');
    // A new spec: every peer of it.
    registry.put(upstream('big', [cluster(1, ids.slice(0, 10).map((id) => server(id, { maxFails: 3 })))]));
    before = kept.upstreams.peerReads;
    same();
    assert.equal(kept.upstreams.peerReads - before, 10);
  });

  it("an xDS node's entry is reused while its revision stays, every change shows, and connected nodes come first", () => {
    const { xds, kept, page, walks } = setup();
    const nodeA = xds.streamOpened('a', 'envoy');
    const nodeB = xds.streamOpened('b', 'grpc-js');
    xds.recordSent(nodeA, E, '1');
    let res = page();
    assert.deepEqual(res.xdsNodes.map((n) => [n.nodeId, n.streams]), [['a', 1], ['b', 1]]);
    const encodes = kept.xdsNodes.encodes;
    const walked = walks.n;
    page();
    assert.equal(kept.xdsNodes.encodes, encodes, 'nothing changed: nothing encoded');
    assert.equal(walks.n, walked, 'nothing changed: the nodes are not even listed again');

    xds.recordAck(nodeA, E, '1');
    res = page();
    assert.equal(res.xdsNodes[0]!.types[0]!.ackedVersion, '1');
    assert.equal(kept.xdsNodes.encodes, encodes + 1, 'only the node that changed');
    assert.equal(walks.n, walked + 1, 'listed again once');

    xds.recordSent(nodeB, E, '2');
    xds.recordNack(nodeB, E, '2', 3, 'bad endpoint');
    res = page();
    const b = res.xdsNodes.find((n) => n.nodeId === 'b')!;
    assert.equal(b.types[0]!.nacked, true);
    assert.match(b.types[0]!.lastNack, /bad endpoint/);

    xds.streamClosed('a');
    res = page();
    assert.deepEqual(res.xdsNodes.map((n) => [n.nodeId, n.streams]), [['b', 1], ['a', 0]], 'connected nodes first');
    xds.streamOpened('a', 'envoy/2');
    res = page();
    // Closing moved `a` after `b` (least recently closed first); opening again leaves it there.
    assert.deepEqual(res.xdsNodes.map((n) => [n.nodeId, n.streams, n.userAgent]), [['b', 1, 'grpc-js'], ['a', 1, 'envoy/2']]);
    assert.deepEqual(
      xds.nodes().map((n) => n.nodeId),
      res.xdsNodes.map((n) => n.nodeId),
      'the same order as nodes()',
    );
  });
});

describe('XdsStatus idle nodes', () => {
  it('keeps the most recently closed MAX_IDLE_NODES nodes without streams, and every connected one', () => {
    const status = new XdsStatus(() => 0);
    const total = MAX_IDLE_NODES * 3;
    for (let i = 0; i < total; i++) status.streamOpened(`n${i}`, '');
    // Two streams for n0: one close leaves it connected.
    status.streamOpened('n0', '');
    for (let i = 0; i < total; i++) status.streamClosed(`n${i}`);
    let nodes = status.nodes();
    assert.equal(nodes.filter((n) => n.streams === 0).length, MAX_IDLE_NODES);
    assert.deepEqual(
      nodes.map((n) => n.nodeId),
      ['n0', ...Array.from({ length: MAX_IDLE_NODES }, (_, k) => `n${total - MAX_IDLE_NODES + k}`)],
      'n0 still connected; the idle ones most recently closed, in order of closing',
    );
    // A node that comes back leaves the idle ones; when it goes again, it is the newest idle.
    const back = `n${total - MAX_IDLE_NODES}`;
    status.streamOpened(back, '');
    status.streamOpened('fresh', '');
    status.streamClosed('fresh');
    status.streamClosed(back);
    nodes = status.nodes();
    assert.equal(nodes.filter((n) => n.streams === 0).length, MAX_IDLE_NODES);
    assert.deepEqual(nodes.slice(-2).map((n) => n.nodeId), ['fresh', back]);
    assert.equal(nodes.some((n) => n.nodeId === `n${total - MAX_IDLE_NODES + 1}`), false, 'the oldest idle one went');
    // A node known only from a record (no stream yet) is idle too, and evicted in its turn.
    status.recordSent(status.node('recorded'), E, '1');
    status.streamOpened('x', '');
    status.streamClosed('x');
    nodes = status.nodes();
    assert.equal(nodes.filter((n) => n.streams === 0).length, MAX_IDLE_NODES);
    assert.ok(nodes.some((n) => n.nodeId === 'recorded'));
  });

  it('a storm of closes costs no scan of the nodes: 20,000 streams of distinct nodes opened and closed twice in well under a second', () => {
    const status = new XdsStatus(() => 0);
    const n = 20_000;
    const t = performance.now();
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < n; i++) status.streamOpened(`node-${i}`, 'ua');
      for (let i = 0; i < n; i++) status.streamClosed(`node-${i}`);
    }
    const ms = performance.now() - t;
    assert.equal(status.nodes().length, MAX_IDLE_NODES);
    // The scan per close made this about 2 * 20,000 * 19,000 element visits (seconds).
    assert.ok(ms < 1000, `${ms.toFixed(0)} ms`);
  });
});
