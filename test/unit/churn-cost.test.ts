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
import { buildFeedbackLimits } from '../../src/config/build.ts';
import { FeedbackLimiter } from '../../src/server/feedback-limiter.ts';
import { SelectionEngine } from '../../src/balance/selection-engine.ts';
import { UpstreamBalancer, type UpstreamView } from '../../src/balance/upstream-balancer.ts';
import type { PeerHealth, PeerId } from '../../src/core/model.ts';
import { PEER_LOG_SIZE, UpstreamRegistry, type UpstreamEntry } from '../../src/core/registry.ts';
import { packageDefinition } from '../../src/wire/proto.ts';
import { WatchHub, type WatchCall, type WatchEncoder } from '../../src/server/grpc/watch.ts';
import { entryBuffer, SnapshotEncoder } from '../../src/wire/upstream-encoding.ts';
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

/**
 * Runs `fn` counting the elements it iterates of every Map and Set (by patching their iterators
 * for the duration): work that scans a table per operation shows up as a count, not as a time.
 */
function countingIteration(fn: () => void): number {
  let steps = 0;
  const saved: Array<[object, PropertyKey, PropertyDescriptor]> = [];
  for (const proto of [Map.prototype, Set.prototype] as object[]) {
    for (const name of ['entries', 'keys', 'values', Symbol.iterator] as PropertyKey[]) {
      const desc = Object.getOwnPropertyDescriptor(proto, name)!;
      const original = desc.value as (this: unknown) => Iterator<unknown>;
      saved.push([proto, name, desc]);
      Object.defineProperty(proto, name, {
        ...desc,
        value(this: unknown) {
          const it = original.call(this);
          const counted = {
            next: () => {
              const r = it.next();
              if (r.done !== true) steps++;
              return r;
            },
            [Symbol.iterator]: () => counted,
          };
          return counted;
        },
      });
    }
    const forEachDesc = Object.getOwnPropertyDescriptor(proto, 'forEach')!;
    const forEach = forEachDesc.value as (this: unknown, cb: (...a: unknown[]) => void) => void;
    saved.push([proto, 'forEach', forEachDesc]);
    Object.defineProperty(proto, 'forEach', { ...forEachDesc, value(this: unknown, cb: (...a: unknown[]) => void) { forEach.call(this, (...a: unknown[]) => (steps++, cb(...a))); } });
  }
  try {
    fn();
  } finally {
    for (const [proto, name, desc] of saved) Object.defineProperty(proto, name, desc);
  }
  return steps;
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

  it('a mass failure (1,000 of 10,000 peers) costs passive accounting and the feedback limiter O(1) per failure, not O(excluded)', () => {
    // The failing peers come first in the peers list, the worst order for a scan of it, and all
    // of them end up excluded: a scan of the excluded peers, of the peers before the first usable
    // one, or of a caller's saturated peers would read about 1,000 x 1,000 / 2 = 500,000 elements.
    const failures = 1000;
    let peerReads = 0;
    const peers = new Proxy(ids, {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) peerReads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const passive = new PassiveHealth();
    const clock = new FakeClock(0);
    const limiter = new FeedbackLimiter(buildFeedbackLimits({ peers_per_caller: failures }), clock);
    const limit = { maxFails: 1, failTimeoutMs: 60_000 };
    let excluded = 0;
    let allowed = 0;
    const steps = countingIteration(() => {
      for (let k = 0; k < failures; k++) {
        clock.advance(1);
        if (limiter.allowFailure('caller', 'big', ids[k]!, limit)) allowed++;
        if (passive.record(server(ids[k]!, limit), true, clock.now(), peers)) excluded++;
      }
    });
    assert.equal(allowed, failures, 'every failure within peers_per_caller counts');
    assert.equal(excluded, failures, 'under the 50% cap, every one excludes its peer');
    // Linear: one read of the peers list (the guard's set of it) and O(1) per failure.
    assert.ok(peerReads <= N + 10, `${peerReads} reads of the peers list`);
    assert.ok(steps <= N + 10 * failures, `${steps} elements iterated in Maps and Sets`);
    // The same rules still hold at the edge: the 5,001st exclusion of 10,000 passes the 50% cap no more.
    for (let k = failures; k < N / 2; k++) passive.record(server(ids[k]!, limit), true, clock.now(), peers);
    assert.equal(passive.record(server(ids[N / 2]!, limit), true, clock.now(), peers), false, 'cap: 5,000 of 10,000 out');
    assert.equal(passive.isDown(ids[N / 2 - 1]!, limit.failTimeoutMs, clock.now()), true);
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
    const peerReads = hub.stats().peerReads;
    const messages = hub.stats().messages;
    for (let i = 0; i < 1000; i++) registry.setHealth('big', ids[i]!, health('err'));
    assert.equal(hub.stats().encodes, encodes, 'nothing encoded inside the registry event');
    assert.equal(hub.stats().messages, messages);
    clock.advance(20);
    assert.equal(hub.stats().encodes - encodes, 1, 'one encode for 1,000 verdicts');
    // ids[0] is listed twice (levels 1 and 2): 1,001 peer entries changed, of 10,002.
    assert.equal(hub.stats().peerEncodes - peerEncodes, 1001, 'that encode redoes the changed peers only');
    assert.equal(hub.stats().peerReads - peerReads, 1001, 'and looks at no other peer');
    assert.deepEqual(new Set(calls.map((c) => c.writes)), new Set([2]), 'initial snapshot + one coalesced change per stream');
    registry.setHealth('big', ids[5000]!, health('err'));
    clock.advance(20);
    assert.equal(hub.stats().peerEncodes - peerEncodes, 1002, 'one more verdict, one more peer');
    assert.equal(hub.stats().peerReads - peerReads, 1002);
    hub.close();
  });

  it('Watch snapshots: put together from the peers written since, the same bytes as afresh; with slow start, every peer is looked at', () => {
    const clock = new FakeClock(0);
    const registry = new UpstreamRegistry(GLOBAL, { clock });
    const few = ids.slice(0, 100);
    registry.put(upstream('a', [cluster(1, few.map((id) => server(id)))]));
    registry.put(upstream('ramp', [cluster(1, few.map((id) => server(id)))], { slowStart: { windowMs: 10_000, aggression: 1, minWeightPercent: 10 } }));
    const kept = new SnapshotEncoder();
    const entry = (skey: string) => entryBuffer(kept.entry(registry.upstream(skey)!));
    const afresh = (skey: string) => entryBuffer(new SnapshotEncoder().entry(registry.upstream(skey)!));
    entry('a');
    entry('ramp');
    let reads = kept.peerReads;
    registry.setHealth('a', few[1]!, health('err'));
    registry.setHealth('a', few[2]!, { ...health('ok'), failNum: 1, msg: 'slow' });
    registry.setPassive('a', few[3]!, { failedCount: 2, untilWall: 5_000 });
    assert.deepEqual(entry('a'), afresh('a'));
    assert.equal(kept.peerReads - reads, 3, 'the three peers written');
    // Slow start: a ramp ends by time alone, so every peer is looked at.
    registry.setHealth('ramp', few[1]!, health('err'));
    registry.setHealth('ramp', few[1]!, health('ok'));
    reads = kept.peerReads;
    assert.deepEqual(entry('ramp'), afresh('ramp'));
    assert.equal(kept.peerReads - reads, 100);
    clock.advance(10_001);
    registry.setHealth('ramp', few[2]!, health('err'));
    assert.deepEqual(entry('ramp'), afresh('ramp'), 'the ended ramp no longer shows');
  });
});
