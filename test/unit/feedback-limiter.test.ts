/**
 * The feedback limits (src/server/feedback-limiter.ts) on the fake clock: batch size, the
 * per-caller token bucket, the per-caller per-peer failure rule, the bounded caller table, and
 * how callers are told apart.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildFeedbackLimits } from '../../src/config/build.ts';
import { callerOf, clientNetwork, FeedbackLimiter, MAX_FEEDBACK_CALLERS } from '../../src/server/feedback-limiter.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { TokenBucket } from '../../src/util/token-bucket.ts';
import { FakeClock } from '../support/fake-clock.ts';

const PEER = { maxFails: 3, failTimeoutMs: 10_000 };

function limiter(raw: Parameters<typeof buildFeedbackLimits>[0] = {}) {
  const clock = new FakeClock();
  return { clock, l: new FeedbackLimiter(buildFeedbackLimits(raw), clock) };
}

const code = (c: string, message?: RegExp) => (err: unknown) => {
  assert.ok(err instanceof CheckupsError, String(err));
  assert.equal(err.code, c);
  if (message !== undefined) assert.match(err.message, message);
  return true;
};

describe('token bucket', () => {
  it('holds burst tokens, refills at the rate, takes all or nothing', () => {
    const b = new TokenBucket(10, 20, 0);
    assert.equal(b.take(20, 0), true);
    assert.equal(b.take(1, 0), false);
    assert.equal(b.waitMs(5, 0), 500);
    assert.equal(b.take(5, 499), false, 'not yet: 4.99 tokens');
    assert.equal(b.take(5, 500), true);
    assert.equal(b.waitMs(21, 500), Infinity, 'more than the burst never fits');
    assert.equal(b.full(500 + 2000), true, 'refills only up to the burst');
    assert.equal(b.take(20, 2500), true);
    assert.equal(b.take(1, 1000), false, 'a clock going backwards adds nothing');
  });
});

describe('feedback limiter', () => {
  it('refuses a batch over max_batch whole, naming the limit, and takes nothing from the bucket', () => {
    const { l } = limiter({ max_batch: 10, caller_burst: 10, caller_rate: 1 });
    assert.throws(() => l.admit('a', 11, true), code('INVALID_ARGUMENT', /11 in one FeedbackBatch, at most 10 \(server\.feedback\.max_batch\); nothing was applied/));
    l.admit('a', 10, true); // the whole bucket is still there
  });

  it('rate limits per caller: a burst, then the rate; other callers have their own bucket', () => {
    const { clock, l } = limiter({ caller_rate: 100, caller_burst: 200, max_batch: 200 });
    l.admit('a', 200, true);
    assert.throws(() => l.admit('a', 1, false), code('RATE_LIMITED', /100 outcomes per second, 200 at once \(server\.feedback\.caller_rate, caller_burst\); nothing of this call was applied: retry in 10 ms/));
    l.admit('b', 200, true);
    clock.advance(10);
    l.admit('a', 1, false);
    assert.throws(() => l.admit('a', 100, true), code('RATE_LIMITED', /retry in 1000 ms/));
    clock.advance(1000);
    l.admit('a', 100, true);
  });

  it("one caller alone brings at most peers_per_caller peers of an upstream to max_fails per window; others' failures still count", () => {
    const { clock, l } = limiter({ peers_per_caller: 1 });
    const fail = (caller: string, peer: string, skey = 'api') => l.allowFailure(caller, skey, peer, PEER);
    // Peer 1: all three failures count (the caller's one peer).
    assert.deepEqual([fail('a', 'p1'), fail('a', 'p1'), fail('a', 'p1')], [true, true, true]);
    // Peer 2: two count (max_fails - 1), the third would be a second peer at max_fails: dropped.
    assert.deepEqual([fail('a', 'p2'), fail('a', 'p2'), fail('a', 'p2'), fail('a', 'p2')], [true, true, false, false]);
    // More failures for peer 1 are harmless (its verdict is already there): they count.
    assert.equal(fail('a', 'p1'), true);
    // Another upstream has its own budget; another caller has its own.
    assert.deepEqual([fail('a', 'p2', 'web'), fail('a', 'p2', 'web'), fail('a', 'p2', 'web')], [true, true, true]);
    assert.deepEqual([fail('b', 'p2'), fail('b', 'p2'), fail('b', 'p2')], [true, true, true]);
    // Once the caller's window for peer 1 ends, it may push another peer.
    clock.advance(PEER.failTimeoutMs);
    assert.equal(fail('a', 'p2'), true, 'its old window for p2 ended too: a fresh count');
    assert.deepEqual([fail('a', 'p3'), fail('a', 'p3'), fail('a', 'p3')], [true, true, true]);
    assert.deepEqual([fail('a', 'p2'), fail('a', 'p2')], [true, false], 'p3 is its one peer now');
  });

  it('peers_per_caller 0: one caller never brings a peer to max_fails alone; max_fails 0 is never limited', () => {
    const { l } = limiter({ peers_per_caller: 0 });
    assert.deepEqual([1, 2, 3].map(() => l.allowFailure('a', 'api', 'p1', PEER)), [true, true, false]);
    assert.deepEqual([1, 2, 3].map(() => l.allowFailure('a', 'api', 'p1', { maxFails: 0, failTimeoutMs: 1 })), [true, true, true]);
  });

  it(`keeps at most ${MAX_FEEDBACK_CALLERS} callers, dropping the least recently seen and counting it`, () => {
    const { l } = limiter({ caller_rate: 1, caller_burst: 1 });
    for (let i = 0; i < MAX_FEEDBACK_CALLERS; i++) l.admit(`c${i}`, 1, false);
    l.admit('c0', 0, false); // c0 is now the most recently seen
    assert.equal(l.stats().callers, MAX_FEEDBACK_CALLERS);
    l.admit('new', 1, false);
    assert.deepEqual(l.stats(), { callers: MAX_FEEDBACK_CALLERS, windows: 0, evicted: 1 });
    assert.throws(() => l.admit('c0', 1, false), code('RATE_LIMITED'), 'c0 was kept: its bucket is still empty');
    l.admit('c1', 1, false); // c1 was dropped: it starts again with a full bucket
    assert.equal(l.stats().evicted, 2);
  });

  it("sweeps a caller's ended windows", () => {
    const { clock, l } = limiter();
    for (let i = 0; i < 50; i++) l.allowFailure('a', 'api', `p${i}`, { maxFails: 100, failTimeoutMs: 500 });
    assert.equal(l.stats().windows, 50);
    clock.advance(1000);
    l.allowFailure('a', 'api', 'q', { maxFails: 100, failTimeoutMs: 500 });
    assert.equal(l.stats().windows, 1);
  });
});

describe('callers', () => {
  it('are told apart by credential, certificate subject and network (IPv6 by its /64)', () => {
    assert.equal(clientNetwork('127.0.0.1:5555'), '127.0.0.1');
    assert.equal(clientNetwork('ipv4:10.1.2.3:80'), '10.1.2.3');
    assert.equal(clientNetwork('[::ffff:10.1.2.3]:80'), '10.1.2.3');
    assert.equal(clientNetwork('[2001:db8:1:2:aaaa::1]:443'), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('ipv6:[2001:0db8:0001:0002:ffff:0:0:9]:443'), '2001:db8:1:2::/64');
    assert.equal(clientNetwork('[::1]:7600'), '0:0:0:0::/64');
    const a = callerOf({ name: 'feedback-token', address: '10.0.0.1:1000' });
    assert.equal(a, callerOf({ name: 'feedback-token', address: '10.0.0.1:2000' }), 'a new connection is the same caller');
    assert.notEqual(a, callerOf({ name: 'anonymous', address: '10.0.0.1:1000' }));
    assert.notEqual(a, callerOf({ name: 'feedback-token', address: '10.0.0.2:1000' }));
    assert.notEqual(a, callerOf({ name: 'feedback-token', address: '10.0.0.1:1000', certSubject: 'CN=a' }));
  });
});
