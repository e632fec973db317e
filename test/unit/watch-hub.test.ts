/**
 * WatchHub against fake streams that check what they receive: coalescing on the fake clock,
 * a blocked stream that gets only the newest state once its write finishes, a stream blocked
 * past the stall timeout closed, one encode per version whatever the number of streams. The
 * real-socket behaviour is in integration/grpc-watch and integration/stream-stall.
 */
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import type * as grpc from '@grpc/grpc-js';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import type { WatchRequest__Output } from '../../src/generated/checkups/v1/WatchRequest.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { packageDefinition } from '../../src/wire/proto.ts';
import { WatchHub, type WatchCall, type WatchEncoder } from '../../src/server/grpc/watch.ts';
import { cluster, config, server, upstream } from '../support/builders.ts';
import { FakeClock } from '../support/fake-clock.ts';

const method = (packageDefinition()['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition)['Watch']!;
const encode = method.responseSerialize as WatchEncoder;
const decode = method.responseDeserialize as (b: Buffer) => WatchResponse__Output;

/**
 * A server stream stand-in: records decoded messages. While `full`, writes do not finish (their
 * callbacks wait for `release()`, as grpc-js's wait for HTTP/2 flow control); `call.stream` has
 * the shape of the Http2Stream that a stall resets.
 */
class FakeCall extends EventEmitter {
  readonly received: WatchResponse__Output[] = [];
  full = false;
  ended = false;
  private held: Array<() => void> = [];
  readonly call = { stream: { rstCode: undefined as number | undefined, destroyed: false, close: (code: number) => void (this.call.stream.rstCode = code) } };
  constructor(readonly request: WatchRequest__Output) {
    super();
  }
  write(bytes: Buffer, cb: () => void): boolean {
    const m = decode(bytes);
    this.received.push(m);
    if (this.full) this.held.push(cb);
    else cb();
    return !this.full;
  }
  release(): void {
    this.full = false;
    for (const cb of this.held.splice(0)) cb();
  }
  getPeer(): string {
    return 'fake:1';
  }
  end(): void {
    this.ended = true;
  }
  versionOf(skey: string): number | undefined {
    let v: number | undefined;
    for (const m of this.received) for (const u of m.upstreams) if (u.skey === skey) v = u.version;
    return v;
  }
}

function setup(n = 3, stallTimeoutMs = 30_000) {
  const clock = new FakeClock(0);
  const registry = new UpstreamRegistry(config({ upstreams: {} }).global, { initialRevision: 100 });
  for (let i = 0; i < n; i++) registry.put(upstream(`u${i}`, [cluster(1, [server(`10.0.0.${i + 1}:80`)])]));
  const logs: Array<{ obj: object; msg: string }> = [];
  const hub = new WatchHub(registry, encode, clock, 20, { stallTimeoutMs, logger: { warn: (obj, msg) => void logs.push({ obj, msg }) } });
  const watch = (req: Partial<WatchRequest__Output> = {}) => {
    const call = new FakeCall({ skeys: [], knownVersions: {}, ...req });
    hub.handle(call as unknown as WatchCall);
    return call;
  };
  const bump = (skey: string, port: number) => registry.put(upstream(skey, [cluster(1, [server(`10.0.0.9:${port}`)])]));
  return { clock, registry, hub, watch, bump, logs };
}

describe('WatchHub', () => {
  it('a first snapshot that takes long to encode goes out over several turns; a change made meanwhile still reaches the client', () => {
    const fake = new FakeClock(0);
    // Every clock reading costs 1 ms of the loop: the hub's 5 ms slice ends after a few upstreams.
    let spent = 0;
    const clock = Object.assign(Object.create(fake) as FakeClock, { now: () => fake.now() + spent++ });
    const registry = new UpstreamRegistry(config({ upstreams: {} }).global, { initialRevision: 100 });
    // 20 upstreams of 400 servers: several times the 64 KiB a slice holds at least.
    const servers = (i: number) => Array.from({ length: 400 }, (_, k) => server(`10.${i}.${k >> 8}.${k & 255}:80`));
    for (let i = 0; i < 20; i++) registry.put(upstream(`u${i}`, [cluster(1, servers(i))]));
    const hub = new WatchHub(registry, encode, clock, 20, {});
    const call = new FakeCall({ skeys: [], knownVersions: {} });
    hub.handle(call as unknown as WatchCall);
    const first = call.received.length;
    assert.ok(first >= 1 && call.received.every((m) => !m.syncComplete), 'a part went out at once, not the end');
    // Changed while the snapshot is under way: u0 went out already.
    registry.put(upstream('u0', [cluster(1, [server('10.0.0.99:80')])]));
    fake.advance(100);
    assert.ok(call.received.length > first + 1, `${call.received.length} messages`);
    const synced = call.received.findIndex((m) => m.syncComplete);
    assert.ok(synced > 0, 'syncComplete on a later message');
    const skeys = new Set(call.received.slice(0, synced + 1).flatMap((m) => m.upstreams.map((u) => u.skey)));
    assert.equal(skeys.size, 20, 'every upstream by the end of the snapshot');
    assert.equal(call.versionOf('u0'), registry.upstream('u0')!.version, 'and the newest u0');
    hub.close();
  });

  it('sends one snapshot message, then coalesces changes within the window', () => {
    const { clock, watch, bump } = setup();
    const call = watch();
    assert.equal(call.received.length, 1);
    assert.equal(call.received[0]!.syncComplete, true);
    assert.deepEqual(
      call.received[0]!.upstreams.map((u) => u.skey),
      ['u0', 'u1', 'u2'],
    );
    bump('u1', 1);
    bump('u1', 2);
    const v = bump('u2', 3);
    assert.equal(call.received.length, 1, 'nothing before the window ends');
    clock.advance(20);
    assert.equal(call.received.length, 2);
    const m = call.received[1]!;
    assert.deepEqual(
      m.upstreams.map((u) => u.skey).sort(),
      ['u1', 'u2'],
    );
    assert.equal(m.syncComplete, false);
    assert.equal(call.versionOf('u2'), v);
  });

  it('a blocked stream is skipped until its write finishes, then gets only the newest state', () => {
    const { clock, hub, watch, bump } = setup();
    const slow = watch();
    const fast = watch();
    slow.full = true;
    bump('u0', 1);
    clock.advance(20); // slow is written this one, which does not finish
    assert.equal(slow.received.length, 2);
    let last = 0;
    for (let i = 0; i < 50; i++) {
      last = bump('u0', 100 + i);
      bump('u1', 100 + i);
      clock.advance(20);
    }
    assert.equal(slow.received.length, 2, 'nothing queued for a blocked stream');
    assert.deepEqual([hub.stats().busyStreams, hub.stats().pendingUpstreams], [1, 2], 'it holds the two dirty upstreams, no messages');
    assert.equal(fast.received.length, 52);
    assert.equal(fast.versionOf('u0'), last);
    slow.release();
    assert.equal(slow.received.length, 3, 'one message once the write finished');
    assert.equal(slow.versionOf('u0'), last);
    assert.deepEqual([hub.stats().busyStreams, hub.stats().pendingUpstreams], [0, 0]);
  });

  it('a stream blocked past the stall timeout is reset, counted and logged; the others are not touched', () => {
    const { clock, hub, watch, bump, logs } = setup(3, 5000);
    const slow = watch();
    const fast = watch();
    slow.full = true;
    bump('u0', 1);
    clock.advance(20);
    for (let i = 0; i < 200; i++) {
      bump('u0', 200 + i);
      clock.advance(20); // 4 s of changes, the fast stream keeps up
    }
    assert.equal(hub.stats().streams, 2);
    clock.advance(5000 - 200 * 20 - 1);
    assert.equal(slow.call.stream.rstCode, undefined, 'not before the limit');
    clock.advance(1);
    assert.equal(slow.call.stream.rstCode, 0xb, 'RST_STREAM ENHANCE_YOUR_CALM (gRPC clients: RESOURCE_EXHAUSTED)');
    assert.deepEqual([hub.stats().streams, hub.stats().stalls, hub.stats().busyStreams], [1, 1, 0]);
    assert.equal(logs.length, 1);
    assert.match(logs[0]!.msg, /watch stream stalled/);
    assert.deepEqual((logs[0]!.obj as { peer: string; stalledMs: number }).peer, 'fake:1');
    const v = bump('u0', 999);
    clock.advance(20);
    assert.equal(fast.versionOf('u0'), v);
    assert.equal(slow.received.length, 2, 'nothing more for the closed stream');
  });

  it('a stream that keeps reading is never closed, however long it runs', () => {
    const { clock, hub, watch, bump } = setup(1, 1000);
    const call = watch();
    for (let i = 0; i < 300; i++) {
      bump('u0', i);
      clock.advance(20);
    }
    assert.equal(call.received.length, 301);
    assert.deepEqual([hub.stats().streams, hub.stats().stalls], [1, 0]);
  });

  it('encodes each version once for 1,000 streams', () => {
    const { clock, hub, watch, bump } = setup(1);
    const calls = Array.from({ length: 1000 }, () => watch());
    const before = hub.stats().encodes;
    const v = bump('u0', 5);
    clock.advance(20);
    assert.equal(hub.stats().encodes - before, 1);
    for (const c of calls) assert.equal(c.versionOf('u0'), v);
  });

  it('resume: only upstreams at another version, and removals of what is gone', () => {
    const { registry, watch } = setup();
    const first = watch();
    const held = Object.fromEntries(first.received[0]!.upstreams.map((u) => [u.skey, u.version]));
    registry.delete('u0');
    const v2 = registry.put(upstream('u2', [cluster(1, [server('10.9.9.9:1')])]));
    const again = watch({ knownVersions: held });
    assert.equal(again.received.length, 1);
    assert.deepEqual(
      again.received[0]!.upstreams.map((u) => [u.skey, u.version]),
      [['u2', v2]],
    );
    assert.deepEqual(again.received[0]!.removedSkeys, ['u0']);
    assert.equal(again.received[0]!.syncComplete, true);
  });

  it('named watches see only their upstreams, including ones created later', () => {
    const { clock, registry, watch } = setup();
    const call = watch({ skeys: ['u1', 'later'] });
    assert.deepEqual(
      call.received[0]!.upstreams.map((u) => u.skey),
      ['u1'],
    );
    registry.put(upstream('other', []));
    registry.put(upstream('later', []));
    clock.advance(20);
    assert.deepEqual(
      call.received.slice(1).flatMap((m) => m.upstreams.map((u) => u.skey)),
      ['later'],
    );
  });

  it('close() ends every stream and stops listening', () => {
    const { clock, hub, watch, bump } = setup();
    const call = watch();
    hub.close();
    assert.equal(call.ended, true);
    bump('u0', 1);
    clock.advance(20);
    assert.equal(call.received.length, 1);
  });
});
