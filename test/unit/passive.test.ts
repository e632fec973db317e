import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { maxPassiveEjections } from '../../src/balance/ejection-cap.ts';
import { PassiveHealth } from '../../src/balance/passive.ts';
import { peerId } from '../../src/core/model.ts';
import { server } from '../support/builders.ts';

// docs/compat.md, pinned by max_fails.t and feedback.t of the original.
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

describe('passive ejection cap (max_ejection_percent)', () => {
  const four = ['10.0.1.1:80', '10.0.1.2:80', '10.0.1.3:80', '10.0.1.4:80'].map((hp) => server(hp, { maxFails: 1, failTimeoutMs: 10_000 }));
  const fourIds = ids(...four);

  it('the rule: at least one of two or more, never all, 0% turns ejection off', () => {
    assert.deepEqual(
      [0, 1, 2, 3, 4, 10, 11].map((n) => maxPassiveEjections(n, 50)),
      [0, 0, 1, 1, 2, 5, 5],
    );
    assert.equal(maxPassiveEjections(10, 10), 1);
    assert.equal(maxPassiveEjections(2, 100), 1, 'one peer always stays');
    assert.equal(maxPassiveEjections(10, 100), 9);
    assert.equal(maxPassiveEjections(10, 1), 1, 'at least one, as Envoy');
    assert.equal(maxPassiveEjections(10, 0), 0);
  });

  it('at 50% the third failing peer of four stays in; it may go once an exclusion ends', () => {
    const p = new PassiveHealth();
    assert.equal(p.record(four[0]!, true, 0, fourIds, 50), true);
    assert.equal(p.record(four[1]!, true, 1, fourIds, 50), true);
    assert.equal(p.record(four[2]!, true, 2, fourIds, 50), false, 'two of four are out already');
    assert.equal(p.isDown(fourIds[2]!, 10_000, 3), false);
    // The first exclusion ends at t=10s; the next failure of the third opens room for it.
    assert.equal(p.record(four[2]!, true, 10_000, fourIds, 50), true);
  });

  it('exclusions of different fail_timeouts leave the cap as each ends, in whatever order they were set', () => {
    const p = new PassiveHealth();
    const six = ['10.0.2.1:80', '10.0.2.2:80', '10.0.2.3:80', '10.0.2.4:80', '10.0.2.5:80', '10.0.2.6:80'];
    const long = server(six[0]!, { maxFails: 1, failTimeoutMs: 30_000 });
    const short = server(six[1]!, { maxFails: 1, failTimeoutMs: 5000 });
    const mid = server(six[2]!, { maxFails: 1, failTimeoutMs: 10_000 });
    const next = (i: number) => server(six[i]!, { maxFails: 1, failTimeoutMs: 10_000 });
    assert.equal(p.record(long, true, 0, six, 50), true); // out until 30s
    assert.equal(p.record(short, true, 0, six, 50), true); // out until 5s
    assert.equal(p.record(mid, true, 0, six, 50), true); // out until 10s: 3 of 6, the cap
    assert.equal(p.record(next(3), true, 4999, six, 50), false, 'none has ended yet');
    assert.equal(p.record(next(3), true, 5000, six, 50), true, 'the 5 s one ended first');
    assert.equal(p.record(next(4), true, 9999, six, 50), false);
    assert.equal(p.record(next(4), true, 10_000, six, 50), true, 'then the 10 s one');
    assert.equal(p.record(next(5), true, 15_000, six, 50), false, 'the 30 s one and the two new ones are out');
  });

  it('0% counts failures but never excludes', () => {
    const p = new PassiveHealth();
    assert.equal(p.record(four[0]!, true, 0, fourIds, 0), false);
    assert.equal(p.get(fourIds[0]!)!.failedCount, 1);
    assert.equal(p.isDown(fourIds[0]!, 10_000, 1), false);
  });

  it('adopted verdicts exclude until their wall-clock end and count toward the cap', () => {
    const p = new PassiveHealth();
    // monotonic 1000 = wall 1_000_000
    assert.equal(p.adopt(four[0]!, { failedCount: 3, untilWall: 1_005_000 }, 1000, 1_000_000, fourIds, 50), true);
    assert.equal(p.isDown(fourIds[0]!, 10_000, 5999), true);
    assert.equal(p.isDown(fourIds[0]!, 10_000, 6000), false);
    assert.equal(p.get(fourIds[0]!)!.failedCount, 3);
    assert.equal(p.adopt(four[1]!, { failedCount: 1, untilWall: 1_005_000 }, 1000, 1_000_000, fourIds, 50), true);
    assert.equal(p.adopt(four[2]!, { failedCount: 1, untilWall: 1_005_000 }, 1000, 1_000_000, fourIds, 50), false, 'cap reached');
    assert.equal(p.record(four[3]!, true, 1001, fourIds, 50), false, 'local accounting sees the adopted ones too');
    assert.equal(p.adopt(four[2]!, { failedCount: 1, untilWall: 999_000 }, 1000, 1_000_000, fourIds, 50), false, 'already over');
  });

  it('adopting a shorter or equal exclusion changes nothing', () => {
    const p = new PassiveHealth();
    p.record(four[0]!, true, 0, fourIds, 50); // excluded until monotonic 10_000
    const before = { ...p.get(fourIds[0]!)! };
    const epoch = p.epoch;
    assert.equal(p.adopt(four[0]!, { failedCount: 1, untilWall: 1_009_000 }, 0, 1_000_000, fourIds, 50), false);
    assert.deepEqual(p.get(fourIds[0]!), before);
    assert.equal(p.epoch, epoch);
    // a longer one extends it (already down: no new exclusion, but a new end)
    assert.equal(p.adopt(four[0]!, { failedCount: 1, untilWall: 1_020_000 }, 0, 1_000_000, fourIds, 50), false);
    assert.equal(p.isDown(fourIds[0]!, 10_000, 15_000), true);
  });
});
