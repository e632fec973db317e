/**
 * Slow start (docs/compat.md "Slow start"), all on the fake clock: Envoy's curve; smooth WRR
 * with ramping servers checked pick for pick against a plain O(n) step; the pick share over the
 * window through SelectPeer (registry + engine) and through the SDK (Watch bytes -> snapshot
 * cache on another clock -> the same engine); what starts, restarts and does not start a ramp.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type * as grpc from '@grpc/grpc-js';
import { SkipMask } from '../../src/balance/mask.ts';
import { SelectionEngine } from '../../src/balance/selection-engine.ts';
import { RAMP_STEPS, rampSteps, rampTick, slowStartFactor, SlowStartRamp } from '../../src/balance/slow-start.ts';
import { SmoothWeightedRoundRobin } from '../../src/balance/smooth-wrr.ts';
import { SnapshotCache, watchClocks } from '../../src/client/snapshot-cache.ts';
import type { HeartbeatStatus, SlowStartSpec, UpstreamSpec } from '../../src/core/model.ts';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import type { WatchRequest__Output } from '../../src/generated/checkups/v1/WatchRequest.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { WatchHub, type WatchCall, type WatchEncoder } from '../../src/server/grpc/watch.ts';
import { packageDefinition } from '../../src/wire/proto.ts';
import { snapshotToWire } from '../../src/wire/upstream.ts';
import { cluster, config, server, upstream } from '../support/builders.ts';
import { FakeClock } from '../support/fake-clock.ts';

const GLOBAL = config({ upstreams: {} }).global;
const WINDOW = 60_000;
const SLOW: SlowStartSpec = { windowMs: WINDOW, aggression: 1, minWeightPercent: 10 };

/** Share of picks the ramping peer (weight w against one other of weight w) should get at `fraction` of the window. */
function expectedShare(fraction: number, spec: SlowStartSpec = SLOW): number {
  const f = slowStartFactor(fraction * spec.windowMs, spec);
  return f / (1 + f);
}

describe('slow start: the curve (Envoy\'s formula)', () => {
  it('max(min_weight_percent, (elapsed/window)^(1/aggression)), full weight once the window is over', () => {
    assert.equal(slowStartFactor(0, SLOW), 0.1);
    assert.equal(slowStartFactor(WINDOW / 4, SLOW), 0.25);
    assert.equal(slowStartFactor(WINDOW / 2, SLOW), 0.5);
    assert.equal(slowStartFactor(WINDOW, SLOW), 1);
    assert.equal(slowStartFactor(10 * WINDOW, SLOW), 1);
    const fast = { ...SLOW, aggression: 2 };
    assert.equal(slowStartFactor(WINDOW / 4, fast), 0.5);
    const slow = { ...SLOW, aggression: 0.5 };
    assert.equal(slowStartFactor(WINDOW / 2, slow), 0.25);
    assert.equal(slowStartFactor(WINDOW / 4, slow), 0.1, 'the floor holds (0.0625 < 10%)');
    assert.equal(slowStartFactor(0, { ...SLOW, minWeightPercent: 0 }), 0);
  });

  it('quantised to 1024ths (rounded up, never 0) at the start of each window/1024 tick', () => {
    const start = 5_000;
    assert.equal(rampSteps(start, rampTick(start, SLOW), SLOW), Math.ceil(0.1 * RAMP_STEPS), 'at the start: the floor');
    assert.equal(rampSteps(start, rampTick(start + WINDOW / 2, SLOW), SLOW), RAMP_STEPS / 2);
    assert.equal(rampSteps(start, rampTick(start + WINDOW, SLOW), SLOW), RAMP_STEPS, 'over');
    assert.equal(rampSteps(start, rampTick(start, SLOW), { ...SLOW, minWeightPercent: 0 }), 1, 'never starved');
    for (let t = start; t < start + WINDOW; t += 777) {
      const q = rampSteps(start, rampTick(t, SLOW), SLOW);
      assert.ok(Math.abs(q / RAMP_STEPS - slowStartFactor(t - start, SLOW)) <= 2 / RAMP_STEPS, `at +${t - start} ms`);
    }
  });
});

/** Smooth WRR as plain as possible, with a ramping server counting effective * q / 1024: the oracle. */
class ReferenceWrr {
  servers: Array<{ weight: number; effective: number; current: number; start: number }>;
  constructor(
    weights: number[],
    private readonly spec: SlowStartSpec,
  ) {
    this.servers = weights.map((w) => ({ weight: w, effective: w, current: 0, start: NaN }));
  }
  pick(skip: (i: number) => boolean, now: number): number {
    if (this.servers.length === 1) return skip(0) ? -1 : 0;
    const tick = rampTick(now, this.spec);
    let best = -1;
    let total = 0;
    this.servers.forEach((s, i) => {
      if (skip(i)) return;
      const q = Number.isNaN(s.start) ? RAMP_STEPS : rampSteps(s.start, tick, this.spec);
      const w = (s.effective * q) / RAMP_STEPS;
      s.current += w;
      total += w;
      if (s.effective < s.weight) s.effective += 1;
      if (best === -1 || s.current > this.servers[best]!.current) best = i;
    });
    if (best === -1) return -1;
    this.servers[best]!.current -= total;
    return best;
  }
  penalize(i: number): void {
    const s = this.servers[i]!;
    s.effective = Math.ceil(s.effective / 2);
  }
}

describe('slow start in smooth WRR', () => {
  it('matches the plain step pick for pick while servers ramp, stop, restart, get skipped and fail (property)', () => {
    const spec: SlowStartSpec = { windowMs: 5_000, aggression: 1, minWeightPercent: 10 };
    const op = fc.oneof(
      { arbitrary: fc.tuple(fc.integer({ min: 1, max: 60 }), fc.integer({ min: 0, max: 400 })).map(([k, dt]): ['picks', number, number] => ['picks', k, dt]), weight: 8 },
      { arbitrary: fc.nat().map((i): ['begin', number, number] => ['begin', i, 0]), weight: 3 },
      { arbitrary: fc.nat().map((i): ['end', number, number] => ['end', i, 0]), weight: 1 },
      { arbitrary: fc.nat().map((i): ['flip', number, number] => ['flip', i, 0]), weight: 2 },
      { arbitrary: fc.constant<['fail', number, number]>(['fail', 0, 0]), weight: 1 },
    );
    const weightSets = fc.oneof(
      fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 2, maxLength: 12 }),
      fc.array(fc.oneof(fc.constant(1), fc.constant(1000), fc.constant(3_200_000)), { minLength: 2, maxLength: 8 }),
    );
    fc.assert(
      fc.property(weightSets, fc.array(op, { maxLength: 80 }), fc.boolean(), (weights, ops, lazy) => {
        const n = weights.length;
        const clock = new FakeClock(1_000_000);
        const ramp = new SlowStartRamp(n, spec);
        const wrr = new SmoothWeightedRoundRobin(weights, { ramp, lazySteps: lazy });
        const ref = new ReferenceWrr(weights, spec);
        const mask = new SkipMask(n);
        let last = -1;
        for (const [kind, a, b] of ops) {
          if (kind === 'begin') {
            // The balancer begins ramps of eligible servers only, but a retry's mask skips
            // servers that ramp: the picker must stay exact either way.
            const i = a % n;
            ramp.begin(i, clock.now());
            ref.servers[i]!.start = clock.now();
          } else if (kind === 'end') {
            ramp.end(a % n);
            ref.servers[a % n]!.start = NaN;
          } else if (kind === 'flip') {
            const i = a % n;
            if (mask.skip[i] !== 0) mask.clear(i);
            else {
              mask.set(i);
              if (a % 2 === 0) {
                ramp.end(i);
                ref.servers[i]!.start = NaN;
              }
            }
          } else if (kind === 'fail') {
            if (last >= 0) {
              wrr.penalize(last);
              ref.penalize(last);
            }
          } else {
            for (let k = 0; k < a; k++) {
              clock.advance(b / a);
              last = wrr.pick(mask, '', clock.now());
              assert.equal(last, ref.pick((i) => mask.skip[i] !== 0, clock.now()));
            }
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('a skipped server whose ramp ends meanwhile stays skipped (and rejoins when the mask lets it)', () => {
    const spec: SlowStartSpec = { windowMs: 1_000, aggression: 1, minWeightPercent: 10 };
    const ramp = new SlowStartRamp(3, spec);
    const wrr = new SmoothWeightedRoundRobin([1, 1, 1], { ramp });
    const ref = new ReferenceWrr([1, 1, 1], spec);
    const mask = new SkipMask(3);
    mask.set(1);
    let now = 0;
    const step = (k: number) => {
      for (let j = 0; j < k; j++) {
        now += 50;
        assert.equal(wrr.pick(mask, '', now), ref.pick((i) => mask.skip[i] !== 0, now));
      }
    };
    step(10);
    ramp.begin(1, now);
    ref.servers[1]!.start = now;
    step(100);
    mask.clear(1);
    step(30);
  });

  it('no ramp, no change: a picker built with a ramp that never begins picks what it always did', () => {
    const weights = [1, 4, 3, 6];
    const plain = new SmoothWeightedRoundRobin(weights);
    const withRamp = new SmoothWeightedRoundRobin(weights, { ramp: new SlowStartRamp(4, SLOW) });
    for (let k = 0; k < 10_000; k++) assert.equal(withRamp.pick(undefined, '', k), plain.pick(undefined));
  });

  it('a ramp that ends hands the server back to the lazy classes and the O(1) replay', () => {
    const weights = Array.from({ length: 40 }, (_, i) => 1 + (i % 4));
    const spec: SlowStartSpec = { windowMs: 1_000, aggression: 1, minWeightPercent: 10 };
    const ramp = new SlowStartRamp(40, spec);
    const wrr = new SmoothWeightedRoundRobin(weights, { ramp });
    const ref = new ReferenceWrr(weights, spec);
    let now = 0;
    ramp.begin(7, now);
    ref.servers[7]!.start = now;
    for (let k = 0; k < 20_000; k++) {
      now += 0.25;
      assert.equal(wrr.pick(undefined, '', now), ref.pick(() => false, now), `pick ${k}`);
    }
    // Long after the window: a steady period, replayed (checked against the reference above).
    const counts = new Array<number>(40).fill(0);
    const period = weights.reduce((a, b) => a + b, 0);
    for (let k = 0; k < period; k++) counts[wrr.pick(undefined, '', now)]!++;
    assert.deepEqual(counts, weights);
  });
});

/** Picks `n` times at the current time and returns the share of `id`. */
function shareOf(pick: () => string, id: string, n = 2_000): number {
  let hits = 0;
  for (let k = 0; k < n; k++) if (pick() === id) hits++;
  return hits / n;
}

const TOLERANCE = 0.01;

function serverSide(spec: UpstreamSpec, clock = new FakeClock()) {
  const registry = new UpstreamRegistry(GLOBAL, { clock });
  registry.put(spec);
  const engine = new SelectionEngine(registry, clock);
  const health = (hostPort: string, status: HeartbeatStatus) => registry.setHealth(spec.skey, hostPort, { status, failNum: status === 'err' ? 1 : 0, lastModified: clock.wallNow(), msg: null });
  const pick = () => {
    const p = engine.selectPeer(spec.skey);
    return `${p.host}:${p.port}`;
  };
  return { clock, registry, engine, health, pick };
}

const A = '10.0.0.1:80';
const B = '10.0.0.2:80';
const two = (extra: Partial<UpstreamSpec> = {}, weight = 1) =>
  upstream('api', [cluster(1, [server(A, { weight }), server(B, { weight })])], { slowStart: SLOW, ...extra });

describe('slow start through SelectPeer (registry + engine, fake clock)', () => {
  it('a peer back from err: its share at 0%, 25%, 50%, 100% of the window follows the ramp', () => {
    for (const weight of [1, 7]) {
      const s = serverSide(two({}, weight));
      s.health(A, 'ok');
      s.health(B, 'err');
      assert.equal(shareOf(s.pick, B, 100), 0);
      s.health(B, 'ok');
      for (const fraction of [0, 0.25, 0.5]) {
        if (fraction > 0) s.clock.advance(WINDOW * 0.25);
        const got = shareOf(s.pick, B);
        assert.ok(Math.abs(got - expectedShare(fraction)) <= TOLERANCE, `weight ${weight}, ${fraction * 100}%: share ${got}, want ${expectedShare(fraction).toFixed(4)}`);
      }
      s.clock.advance(WINDOW / 2);
      assert.equal(shareOf(s.pick, B), 0.5, 'full weight at 100%');
    }
  });

  it('readyOk\'s attempts ramp the same way (the retry loop passes the clock too)', async () => {
    const s = serverSide(two());
    s.health(B, 'err');
    s.health(B, 'ok');
    s.clock.advance(WINDOW / 4);
    let hits = 0;
    for (let k = 0; k < 2_000; k++) {
      const id = await s.engine.readyOk('api', (p) => `${p.host}:${p.port}`);
      if (id === B) hits++;
    }
    assert.ok(Math.abs(hits / 2_000 - expectedShare(0.25)) <= TOLERANCE, `share ${hits / 2_000}`);
  });

  it('aggression and min_weight_percent shape the ramp', () => {
    const spec: SlowStartSpec = { windowMs: WINDOW, aggression: 2, minWeightPercent: 30 };
    const s = serverSide(two({ slowStart: spec }));
    s.health(B, 'err');
    s.health(B, 'ok');
    assert.ok(Math.abs(shareOf(s.pick, B) - expectedShare(0, spec)) <= TOLERANCE, 'the 30% floor');
    s.clock.advance(WINDOW / 4);
    assert.ok(Math.abs(shareOf(s.pick, B) - 1 / 3) <= TOLERANCE, 'sqrt(1/4) = 1/2 of the weight: a third of the picks');
  });

  it('a peer that goes err mid-ramp and comes back starts its ramp again', () => {
    const s = serverSide(two());
    s.health(B, 'err');
    s.health(B, 'ok');
    s.clock.advance(WINDOW / 2);
    assert.ok(Math.abs(shareOf(s.pick, B) - expectedShare(0.5)) <= TOLERANCE);
    s.health(B, 'err');
    assert.equal(shareOf(s.pick, B, 100), 0);
    s.clock.advance(1_000);
    s.health(B, 'ok');
    assert.ok(Math.abs(shareOf(s.pick, B) - expectedShare(0)) <= TOLERANCE, 'back at the floor, not at 50%');
    s.clock.advance(WINDOW / 4);
    assert.ok(Math.abs(shareOf(s.pick, B) - expectedShare(0.25)) <= TOLERANCE);
  });

  it('added to an existing upstream, or set up again by an operator: ramps; the peers of a new upstream do not', () => {
    const s = serverSide(upstream('api', [cluster(1, [server(A)])], { slowStart: SLOW }));
    s.registry.put(two());
    assert.ok(Math.abs(shareOf(s.pick, B) - expectedShare(0)) <= TOLERANCE, 'added: ramps');
    s.clock.advance(WINDOW);
    assert.equal(shareOf(s.pick, B), 0.5);
    s.registry.put(upstream('api', [cluster(1, [server(A), server(B, { down: true })])], { slowStart: SLOW }));
    assert.equal(shareOf(s.pick, B, 100), 0);
    s.clock.advance(5_000);
    s.registry.put(two());
    assert.ok(Math.abs(shareOf(s.pick, B) - expectedShare(0)) <= TOLERANCE, 'down -> up: ramps');
    const fresh = serverSide(two());
    assert.equal(shareOf(fresh.pick, B), 0.5, 'a new upstream starts at full weight');
    fresh.health(B, 'ok');
    assert.equal(shareOf(fresh.pick, B), 0.5, 'unchecked -> ok is not "becoming usable"');
  });

  it('the registry keeps one start per usable peer of the upstream: over after the window, forgotten with the peer', () => {
    const s = serverSide(two());
    const entry = s.registry.upstream('api')!;
    s.health(B, 'err');
    assert.equal(entry.rampStart(B), undefined, 'err: no ramp');
    s.health(B, 'ok');
    assert.equal(entry.rampStart(B), s.clock.now());
    assert.equal(entry.rampStart(A), undefined);
    s.clock.advance(WINDOW - 1);
    assert.equal(entry.rampStart(B), s.clock.now() - (WINDOW - 1));
    s.clock.advance(1);
    assert.equal(entry.rampStart(B), undefined, 'the window is over');
    s.health(B, 'err');
    s.health(B, 'ok');
    s.registry.put(upstream('api', [cluster(1, [server(A)])], { slowStart: SLOW }));
    assert.equal(entry.rampStarts.size, 0, 'a removed peer leaves nothing behind');
    s.registry.put(two());
    assert.equal(entry.rampStart(B), s.clock.now(), 'added again: a new ramp');
  });

  it('heartbeat off: a probe err is not eligibility, so it neither ends nor starts a ramp', () => {
    const s = serverSide(two({ enable: false }));
    s.health(B, 'err');
    s.health(B, 'ok');
    assert.equal(shareOf(s.pick, B), 0.5);
  });

  it('a passive exclusion ending does not restart the ramp', () => {
    const s = serverSide(upstream('api', [cluster(1, [server(A), server(B, { maxFails: 1, failTimeoutMs: 2_000 })])], { slowStart: SLOW }));
    s.health(B, 'err');
    s.health(B, 'ok');
    s.clock.advance(WINDOW / 4);
    s.engine.feedback('api', '10.0.0.2', 80, true);
    assert.equal(shareOf(s.pick, B, 100), 0, 'passively excluded');
    s.clock.advance(WINDOW / 4);
    assert.ok(Math.abs(shareOf(s.pick, B) - expectedShare(0.5)) <= TOLERANCE, 'back on the original ramp');
  });

  it('slow_start off (the default): no ramp at all', () => {
    const s = serverSide(two({ slowStart: { ...SLOW, windowMs: 0 } }));
    s.health(B, 'err');
    s.health(B, 'ok');
    assert.equal(shareOf(s.pick, B), 0.5);
  });

  it('hash modes do not ramp: a peer back from err gets its keys back at once', () => {
    const s = serverSide(two({ mode: 'hash' }));
    const keys = Array.from({ length: 400 }, (_, i) => `k${i}`);
    const owner = () => keys.map((k) => s.engine.selectPeer('api', { hashKey: k }).port + s.engine.selectPeer('api', { hashKey: k }).host);
    const before = owner();
    s.health(B, 'err');
    s.health(B, 'ok');
    assert.deepEqual(owner(), before);
  });
});

const watchMethod = (packageDefinition()['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition)['Watch']!;
const encode = watchMethod.responseSerialize as WatchEncoder;
const decode = watchMethod.responseDeserialize as (b: Buffer) => WatchResponse__Output;

/** The SDK side of a Watch stream: each message, as bytes, into a snapshot cache on the SDK's own clock. */
class SdkStream extends EventEmitter {
  readonly cache = new SnapshotCache();
  constructor(
    readonly request: WatchRequest__Output,
    private readonly clientClock: FakeClock,
  ) {
    super();
  }
  write(bytes: Buffer, cb?: (err?: Error | null) => void): boolean {
    const m = decode(bytes);
    // What CheckupsClient.onMessage does.
    const clocks = watchClocks(m, this.clientClock.now());
    for (const u of m.upstreams) this.cache.apply(u, clocks);
    // The bytes are read at once: the write is done (the hub sends nothing more until it is).
    cb?.();
    return true;
  }
  end(): void {}
}

describe('slow start in the SDK (Watch snapshots, the client on its own clock)', () => {
  function sdk(spec: UpstreamSpec) {
    const s = serverSide(spec, new FakeClock(50_000_000));
    // Another process: another clock origin, and it keeps running while nothing arrives.
    const clientClock = new FakeClock(7_000);
    const hub = new WatchHub(s.registry, encode, s.clock, 20);
    const advance = (ms: number) => {
      s.clock.advance(ms);
      clientClock.advance(ms);
    };
    const connect = () => {
      const stream = new SdkStream({ skeys: [], knownVersions: {} }, clientClock);
      hub.handle(stream as unknown as WatchCall);
      const engine = new SelectionEngine(stream.cache, clientClock);
      return () => {
        const p = engine.selectPeer(spec.skey);
        return `${p.host}:${p.port}`;
      };
    };
    return { s, advance, connect };
  }

  it('local picks follow the ramp the server started, at 0%, 25%, 50%, 100% of the window', () => {
    const { s, advance, connect } = sdk(two());
    const pick = connect();
    s.health(B, 'err');
    s.health(B, 'ok');
    advance(20); // the hub's coalescing window: the snapshot goes out
    assert.ok(Math.abs(shareOf(pick, B) - expectedShare(0)) <= TOLERANCE, `0%: ${shareOf(pick, B)}`);
    for (const fraction of [0.25, 0.5]) {
      advance(WINDOW / 4);
      const got = shareOf(pick, B);
      assert.ok(Math.abs(got - expectedShare(fraction)) <= TOLERANCE, `${fraction * 100}%: share ${got}, want ${expectedShare(fraction).toFixed(4)}`);
    }
    advance(WINDOW / 2);
    assert.equal(shareOf(pick, B), 0.5);
  });

  it('a client that connects mid-ramp gets a snapshot encoded earlier and still ramps from the server\'s start', () => {
    const { s, advance, connect } = sdk(two());
    const early = connect(); // makes the hub encode the snapshot now
    s.health(B, 'err');
    s.health(B, 'ok');
    advance(20);
    assert.ok(shareOf(early, B) < 0.1);
    advance(WINDOW / 2);
    const late = connect(); // the same encoded bytes, with this message's clock reading
    assert.ok(Math.abs(shareOf(late, B) - expectedShare(0.5)) <= TOLERANCE, `late: ${shareOf(late, B)}`);
    assert.ok(Math.abs(shareOf(early, B) - expectedShare(0.5)) <= TOLERANCE);
  });

  it('err mid-ramp and back: the SDK restarts the ramp too', () => {
    const { s, advance, connect } = sdk(two());
    const pick = connect();
    s.health(B, 'err');
    s.health(B, 'ok');
    advance(WINDOW / 2);
    s.health(B, 'err');
    advance(20);
    assert.equal(shareOf(pick, B, 100), 0);
    s.health(B, 'ok');
    advance(20);
    assert.ok(Math.abs(shareOf(pick, B) - expectedShare(0)) <= TOLERANCE, `restarted: ${shareOf(pick, B)}`);
  });

  it('the snapshot carries the start only while the peer ramps; without the message\'s clock the SDK ramps nothing', () => {
    const { s, advance } = sdk(two());
    s.health(B, 'err');
    s.health(B, 'ok');
    const entry = s.registry.upstream('api')!;
    const peers = () => snapshotToWire(entry).clusters![0]!.peers!.map((p) => p.slowStartClockMs);
    assert.deepEqual(peers(), [undefined, Math.floor(s.clock.now())]);
    // An older server: no server_clock_ms in the message.
    const m = decode(encode({ upstreams: [snapshotToWire(entry)] }));
    assert.equal(m.upstreams[0]!.clusters[0]!.peers[1]!._slowStartClockMs, 'slowStartClockMs');
    assert.equal(watchClocks(m, 1), undefined);
    const cache = new SnapshotCache();
    cache.apply(m.upstreams[0]!, watchClocks(m, 1));
    assert.equal(cache.snapshot('api')!.rampStarts.size, 0);
    advance(WINDOW);
    assert.deepEqual(peers(), [undefined, undefined], 'after the window nothing is sent');
  });
});
