import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { MAX_HOLD_MS, StreamAdmission } from '../../src/server/stream-admission.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { FakeClock } from '../support/fake-clock.ts';

/** A server stream as admission sees it: its client's address and the events that end it. */
class Call extends EventEmitter {
  constructor(private readonly peer: string) {
    super();
  }
  getPeer(): string {
    return this.peer;
  }
}

const noop = () => undefined;

describe('stream admission per connection', () => {
  it('refuses a connection its streams beyond the cap (logged once while it holds streams), releases on every way a stream ends, leaves other connections alone', () => {
    const warnings: object[] = [];
    const a = new StreamAdmission({ rate: 1000, burst: 1000, perConnection: 3 }, new FakeClock(0), (d) => void warnings.push(d));
    const mine = [new Call('10.0.0.1:5000'), new Call('10.0.0.1:5000'), new Call('10.0.0.1:5000')];
    for (const c of mine) a.admit('watch', c, noop);
    for (let i = 0; i < 5; i++) assert.throws(() => a.admit('xds', new Call('10.0.0.1:5000'), noop), (e: Error & { code?: string }) => e.code === 'RATE_LIMITED' && /holds 3 open streams, at most 3 \(server\.stream_admission\.per_connection\)/.test(e.message));
    assert.equal(warnings.length, 1, 'one log line per connection');
    a.admit('watch', new Call('10.0.0.2:6000'), noop); // another connection
    // Each way a stream ends frees its place once (a second event for the same stream does not).
    mine[0]!.emit('cancelled');
    mine[0]!.emit('close');
    a.admit('watch', new Call('10.0.0.1:5000'), noop);
    assert.throws(() => a.admit('watch', new Call('10.0.0.1:5000'), noop));
    mine[1]!.emit('error');
    mine[2]!.emit('close');
    assert.equal(a.connections, 2);
    a.admit('watch', new Call('10.0.0.1:5000'), noop);
    assert.equal(warnings.length, 1);
  });

  it('forgets a connection with its last stream: the table holds only connections with open streams', () => {
    const a = new StreamAdmission({ rate: 1000, burst: 1000, perConnection: 1 }, new FakeClock(0));
    const calls = Array.from({ length: 100 }, (_, i) => new Call(`10.0.0.${i}:1`));
    for (const c of calls) a.admit('xds', c, noop);
    assert.equal(a.connections, 100);
    for (const c of calls) c.emit('close');
    assert.equal(a.connections, 0);
  });
});

describe('stream admission at a bounded rate', () => {
  it('starts the burst at once, holds the next streams for their turns at the rate, refuses beyond MAX_HOLD_MS with successive pushbacks', () => {
    const clock = new FakeClock(1000);
    const rate = 10;
    const a = new StreamAdmission({ rate, burst: 2 }, clock);
    const started: number[] = [];
    const at = new Map<number, number>();
    const open = (i: number) =>
      a.admit('watch', new Call(`10.0.1.${i}:1`), () => {
        started.push(i);
        at.set(i, clock.now());
      });
    open(0);
    open(1);
    assert.deepEqual(started, [0, 1]);
    // Turns every 100 ms, up to MAX_HOLD_MS ahead.
    const holdable = (MAX_HOLD_MS * rate) / 1000;
    for (let i = 2; i < 2 + holdable; i++) open(i);
    assert.equal(a.held, holdable);
    const refused = [0, 1, 2].map((k) => {
      try {
        open(100 + k);
        return undefined;
      } catch (e) {
        assert.ok(e instanceof CheckupsError && e.code === 'SERVER_UNAVAILABLE' && /retry in \d+ ms \(grpc-retry-pushback-ms\)/.test(e.message), String(e));
        return e.retryAfterMs;
      }
    });
    // Room for the first refused one when the first held one starts, then one place per 1/rate s.
    assert.deepEqual(refused, [100, 200, 300]);
    clock.advance(99);
    assert.deepEqual(started, [0, 1]);
    clock.advance(1);
    assert.deepEqual(started, [0, 1, 2]);
    clock.advance(MAX_HOLD_MS);
    assert.equal(started.length, 2 + holdable);
    // In order, 100 ms apart.
    for (let i = 3; i < 2 + holdable; i++) assert.equal(at.get(i)! - at.get(i - 1)!, 100);
    assert.equal(a.held, 0);
  });

  it('a held stream that ends before its turn never starts, gives its connection place back, and the line moves on', () => {
    const clock = new FakeClock(0);
    const a = new StreamAdmission({ rate: 10, burst: 1, perConnection: 2 }, clock);
    const started: string[] = [];
    const c1 = new Call('10.0.0.1:1');
    const c2 = new Call('10.0.0.1:1');
    const c3 = new Call('10.0.0.2:1');
    a.admit('xds', c1, () => started.push('c1'));
    a.admit('xds', c2, () => started.push('c2'));
    a.admit('xds', c3, () => started.push('c3'));
    assert.deepEqual(started, ['c1']);
    assert.equal(a.held, 2);
    c2.emit('cancelled');
    assert.equal(a.held, 1);
    // Its connection has room again.
    a.admit('watch', new Call('10.0.0.1:1'), () => started.push('c4'));
    clock.advance(1000);
    assert.deepEqual(started, ['c1', 'c3', 'c4']);
  });

  it('close() drops the line: held streams never start', () => {
    const clock = new FakeClock(0);
    const a = new StreamAdmission({ rate: 10, burst: 1 }, clock);
    const started: number[] = [];
    for (let i = 0; i < 3; i++) a.admit('watch', new Call(`10.0.0.${i}:1`), () => started.push(i));
    a.close();
    clock.advance(10_000);
    assert.deepEqual(started, [0]);
  });
});
