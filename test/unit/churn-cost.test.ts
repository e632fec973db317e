/**
 * Changes cost what changed (issue: performance under churn): a health verdict is O(1) in the
 * registry and in the balancer's skip masks, counted in operations rather than timed; the Watch
 * hub encodes nothing inside the registry's event and once per window after it, and within that
 * encode only the peers that changed.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { PassiveHealth } from '../../src/balance/passive.ts';
import { SelectionEngine } from '../../src/balance/selection-engine.ts';
import { UpstreamBalancer, type UpstreamView } from '../../src/balance/upstream-balancer.ts';
import type { PeerHealth, PeerId } from '../../src/core/model.ts';
import { PEER_LOG_SIZE, UpstreamRegistry, type UpstreamEntry } from '../../src/core/registry.ts';
import { packageDefinition } from '../../src/wire/proto.ts';
import { WatchHub, type WatchCall, type WatchEncoder } from '../../src/server/grpc/watch.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { GLOBAL, health } from '../support/xds-harness.ts';

const N = 10_000;
const ids = Array.from({ length: N }, (_, i) => `10.9.${i >> 8}.${i & 255}:80`);
const big = () => upstream('big', [cluster(1, ids.map((id, i) => server(id, { weight: 1 + (i % 3) }))), cluster(2, [server(ids[0]!), server('10.8.0.1:80')])]);

/** The registry entry, counting every health() read. */
function counting(entry: UpstreamEntry): UpstreamView & { reads: number } {
  const view = {
    reads: 0,
    get spec() {
      return entry.spec;
    },
    get version() {
      return entry.version;
    },
    get heartbeat() {
      return entry.heartbeat;
    },
    health(id: PeerId): PeerHealth | undefined {
      view.reads++;
      return entry.health(id);
    },
    passive: (id: PeerId) => entry.passive(id),
    peerChangesSince: (v: number) => entry.peerChangesSince(v),
  };
  return view;
}

const skipped = (b: UpstreamBalancer) => b.clusters.map((c) => [...(c.mask?.skip ?? [])].flatMap((bit, i) => (bit !== 0 ? [i] : [])));

describe('changes cost what changed', () => {
  it('the registry logs health changes per upstream; a spec change or an overflow says "re-read all"', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(big());
    const entry = registry.upstream('big')!;
    const v0 = entry.version;
    assert.deepEqual(entry.peerChangesSince(v0), []);
    registry.setHealth('big', ids[5]!, health('err'));
    registry.setHealth('big', ids[5]!, health('err')); // same status: no change, no log entry
    registry.setHealth('big', ids[7]!, health('err'));
    assert.equal(registry.setHealth('big', '10.255.0.1:80', health('err')), false, 'not a member: ignored');
    assert.deepEqual(entry.peerChangesSince(v0), [ids[5], ids[7]]);
    const v1 = entry.version;
    for (let i = 0; i < PEER_LOG_SIZE; i++) registry.setHealth('big', ids[100 + i]!, health('err'));
    assert.equal(entry.peerChangesSince(v1)?.length, PEER_LOG_SIZE);
    assert.equal(entry.peerChangesSince(v0), undefined, 'older than the log reaches');
    registry.setHealth('big', ids[99]!, health('err'));
    assert.equal(entry.peerChangesSince(v1), undefined, 'one more change pushed v1 out of the log');
    registry.put(big());
    assert.equal(entry.peerChangesSince(v1), undefined, 'the spec changed since');
    assert.deepEqual(entry.peerChangesSince(entry.version), []);
  });

  it('one verdict at 10,000 servers reads O(1) peers to update the skip masks, and they match a full rebuild', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(big());
    const view = counting(registry.upstream('big')!);
    const passive = new PassiveHealth();
    const balancer = new UpstreamBalancer(view.spec);
    balancer.refresh(view, passive, 0);
    assert.equal(view.reads, N + 2, 'the first refresh reads every position');
    let seed = 7;
    for (let k = 0; k < 300; k++) {
      seed = (seed * 48271) % 2147483647;
      const id = ids[k % 3 === 0 ? 0 : seed % N]!; // ids[0] sits in both clusters
      const status = registry.upstream('big')!.health(id)?.status === 'err' ? 'ok' : 'err';
      registry.setHealth('big', id, health(status));
      view.reads = 0;
      balancer.refresh(view, passive, 0);
      assert.ok(view.reads <= 2, `verdict ${k}: ${view.reads} reads`);
    }
    const fresh = new UpstreamBalancer(view.spec);
    fresh.refresh(view, passive, 0);
    assert.deepEqual(skipped(balancer), skipped(fresh));
  });

  it('1,000 passive exclusions at 10,000 servers update the skip masks in O(changes), matching a full rebuild', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(big());
    const view = counting(registry.upstream('big')!);
    let isDownCalls = 0;
    // Counts the table's reads the way `counting` counts the registry's.
    class CountingPassive extends PassiveHealth {
      override isDown(id: PeerId, failTimeoutMs: number, now: number): boolean {
        isDownCalls++;
        return super.isDown(id, failTimeoutMs, now);
      }
    }
    const passive = new CountingPassive();
    const balancer = new UpstreamBalancer(view.spec);
    balancer.refresh(view, passive, 0);
    const servers = view.spec.clusters[0]!.servers;
    const peers = ids;
    for (let k = 0; k < 1000; k++) {
      assert.equal(passive.record({ ...servers[k * 7]!, maxFails: 1, failTimeoutMs: 60_000 }, true, 1, peers), true);
      isDownCalls = 0;
      balancer.refresh(view, passive, 1);
      assert.ok(isDownCalls <= 2, `exclusion ${k}: ${isDownCalls} passive reads`);
    }
    const fresh = new UpstreamBalancer(view.spec);
    fresh.refresh(view, passive, 1);
    assert.deepEqual(skipped(balancer), skipped(fresh));
    assert.equal(skipped(balancer)[0]!.length, 1000);
    // Older than the table's change log: one full rebuild, still exact.
    const stale = new UpstreamBalancer(view.spec);
    stale.refresh(view, new PassiveHealth(), 1);
    stale.refresh(view, passive, 1);
    assert.deepEqual(skipped(stale), skipped(fresh));
  });

  it('feedback finds the peer without a scan, the last match in cluster order', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(upstream('u', [cluster(1, [server('10.0.0.1:80', { maxFails: 1 }), server('10.0.0.2:80', { maxFails: 1 })]), cluster(2, [server('10.0.0.1:80', { maxFails: 3 })])]));
    const engine = new SelectionEngine(registry, new FakeClock());
    engine.feedback('u', '10.0.0.1', 80, true);
    // maxFails 3 (the level-2 entry) applies: one failure does not mark it err.
    assert.deepEqual({ ...engine.passive('u', '10.0.0.1:80') }, { status: 'ok', failedCount: 1, windowStart: 1_000_000 });
    assert.throws(() => engine.feedback('u', '10.0.0.3', 80, true), /unknown peer/);
  });

  it('Watch: verdicts only mark the upstream; one encode and one message per stream per window', () => {
    const method = (packageDefinition()['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition)['Watch']!;
    const encode = method.responseSerialize as WatchEncoder;
    const clock = new FakeClock(0);
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(big());
    const hub = new WatchHub(registry, encode, clock, 20);
    const calls = Array.from({ length: 50 }, () => {
      // A write finishes at once (grpc-js calls back when the bytes are out): a reader that keeps up.
      const call = Object.assign(new EventEmitter(), { request: { skeys: [], knownVersions: {} }, writes: 0, write: (_b: Buffer, done: () => void) => (call.writes++, done(), true), end: () => {} });
      hub.handle(call as unknown as WatchCall);
      return call;
    });
    const encodes = hub.stats().encodes;
    const peerEncodes = hub.stats().peerEncodes;
    const messages = hub.stats().messages;
    for (let i = 0; i < 1000; i++) registry.setHealth('big', ids[i]!, health('err'));
    assert.equal(hub.stats().encodes, encodes, 'nothing encoded inside the registry event');
    assert.equal(hub.stats().messages, messages);
    clock.advance(20);
    assert.equal(hub.stats().encodes - encodes, 1, 'one encode for 1,000 verdicts');
    // ids[0] is listed twice (levels 1 and 2): 1,001 peer entries changed, of 10,002.
    assert.equal(hub.stats().peerEncodes - peerEncodes, 1001, 'that encode redoes the changed peers only');
    assert.deepEqual(new Set(calls.map((c) => c.writes)), new Set([2]), 'initial snapshot + one coalesced change per stream');
    registry.setHealth('big', ids[5000]!, health('err'));
    clock.advance(20);
    assert.equal(hub.stats().peerEncodes - peerEncodes, 1002, 'one more verdict, one more peer');
    hub.close();
  });
});
