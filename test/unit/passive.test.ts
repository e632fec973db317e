import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PassiveHealth } from '../../src/balance/passive.ts';
import { peerId } from '../../src/core/model.ts';
import { server } from '../support/builders.ts';

// checkups-semantics §4.5, pinned by max_fails.t and feedback.t of the original.
const A = server('10.0.0.1:80', { maxFails: 2, failTimeoutMs: 10_000 });
const B = server('10.0.0.2:80', { maxFails: 2, failTimeoutMs: 10_000 });
const C = server('10.0.0.3:80', { maxFails: 0 });
const ids = (...s: (typeof A)[]) => s.map((x) => peerId(x.host, x.port));
const a = peerId(A.host, A.port);

describe('passive health: max_fails / fail_timeout', () => {
  it('max_fails 0 keeps no record and never excludes', () => {
    const p = new PassiveHealth();
    for (let i = 0; i < 10; i++) assert.equal(p.record(C, true, i, ids(A, C)), false);
    assert.equal(p.get(peerId(C.host, C.port)), undefined);
  });

  it('the max_fails-th failure within the window marks the server err', () => {
    const p = new PassiveHealth();
    assert.equal(p.record(A, true, 0, ids(A, B)), false);
    assert.equal(p.isDown(a, A.failTimeoutMs, 1), false);
    assert.equal(p.record(A, true, 1000, ids(A, B)), true);
    assert.equal(p.isDown(a, A.failTimeoutMs, 1000), true);
  });

  it('the exclusion runs from the window start, not from the last failure', () => {
    const p = new PassiveHealth();
    p.record(A, false, 0, ids(A, B)); // first touch opens the window at t=0
    p.record(A, true, 8000, ids(A, B));
    p.record(A, true, 9000, ids(A, B)); // err at t=9s ...
    assert.equal(p.isDown(a, A.failTimeoutMs, 9999), true);
    assert.equal(p.isDown(a, A.failTimeoutMs, 10_000), false, '... and usable again at t=10s, only 1 s later');
  });

  it('at exactly windowStart + fail_timeout the record no longer excludes, but is not reset', () => {
    const p = new PassiveHealth();
    p.record(A, true, 0, ids(A, B));
    p.record(A, true, 1, ids(A, B));
    assert.equal(p.isDown(a, A.failTimeoutMs, 10_000), false);
    p.record(A, false, 10_000, ids(A, B)); // not strictly after: same window
    assert.deepEqual(p.get(a), { status: 'err', failedCount: 2, windowStart: 0 });
    p.record(A, false, 10_001, ids(A, B)); // strictly after: reset
    assert.deepEqual(p.get(a), { status: 'ok', failedCount: 0, windowStart: 10_001 });
  });

  it('a success neither clears err nor resets the failure count', () => {
    const p = new PassiveHealth();
    p.record(A, true, 0, ids(A, B));
    p.record(A, false, 1, ids(A, B));
    assert.equal(p.get(a)!.failedCount, 1);
    p.record(A, true, 2, ids(A, B));
    p.record(A, false, 3, ids(A, B));
    assert.equal(p.isDown(a, A.failTimeoutMs, 4), true);
  });

  it('failures spread over more than one window do not add up', () => {
    const p = new PassiveHealth();
    p.record(A, true, 0, ids(A, B));
    p.record(A, true, 10_001, ids(A, B));
    assert.equal(p.isDown(a, A.failTimeoutMs, 10_002), false);
    assert.equal(p.get(a)!.failedCount, 1);
  });

  it('never marks down the last usable server (guard always on)', () => {
    const p = new PassiveHealth();
    const b = peerId(B.host, B.port);
    const one = { ...A, maxFails: 1 };
    const two = { ...B, maxFails: 1 };
    assert.equal(p.record(one, true, 0, ids(A, B)), true, 'B has no record: counts as usable');
    assert.equal(p.record(two, true, 1, ids(A, B)), false, 'A is err: B is the last usable one');
    assert.equal(p.isDown(b, B.failTimeoutMs, 2), false);
  });

  it('servers without accounting (max_fails 0) count as usable for the guard', () => {
    const p = new PassiveHealth();
    assert.equal(p.record({ ...A, maxFails: 1 }, true, 0, ids(A, C)), true);
  });

  it('the guard reads raw status: an expired, not yet reset err still counts as down', () => {
    const p = new PassiveHealth();
    const one = { ...A, maxFails: 1 };
    const two = { ...B, maxFails: 1 };
    p.record(one, true, 0, ids(A, B));
    // A's exclusion is over at t=10s, but nothing touched A since.
    assert.equal(p.record(two, true, 20_000, ids(A, B)), false);
  });

  it('epoch moves on status changes only', () => {
    const p = new PassiveHealth();
    const e0 = p.epoch;
    p.record(A, true, 0, ids(A, B));
    assert.equal(p.epoch, e0);
    p.record(A, true, 1, ids(A, B));
    assert.equal(p.epoch, e0 + 1);
    p.record(A, false, 20_000, ids(A, B)); // reset of an err record
    assert.equal(p.epoch, e0 + 2);
  });

  it('retain drops records of removed peers', () => {
    const p = new PassiveHealth();
    p.record(A, true, 0, ids(A, B));
    p.record(B, true, 0, ids(A, B));
    p.retain(new Set([a]));
    assert.ok(p.get(a));
    assert.equal(p.get(peerId(B.host, B.port)), undefined);
  });
});
