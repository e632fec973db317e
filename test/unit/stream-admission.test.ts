import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { StreamAdmission } from '../../src/server/stream-admission.ts';
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

describe('stream admission per connection', () => {
  it('refuses a connection its streams beyond the cap (logged once while it holds streams), releases on every way a stream ends, leaves other connections alone', () => {
    const warnings: object[] = [];
    const a = new StreamAdmission({ rate: 1000, burst: 1000, perConnection: 3 }, new FakeClock(0), (d) => void warnings.push(d));
    const mine = [new Call('10.0.0.1:5000'), new Call('10.0.0.1:5000'), new Call('10.0.0.1:5000')];
    for (const c of mine) a.admit('watch', c);
    for (let i = 0; i < 5; i++) assert.throws(() => a.admit('xds', new Call('10.0.0.1:5000')), (e: Error & { code?: string }) => e.code === 'RATE_LIMITED' && /holds 3 open streams, at most 3 \(server\.stream_admission\.per_connection\)/.test(e.message));
    assert.equal(warnings.length, 1, 'one log line per connection');
    a.admit('watch', new Call('10.0.0.2:6000')); // another connection
    // Each way a stream ends frees its place once (a second event for the same stream does not).
    mine[0]!.emit('cancelled');
    mine[0]!.emit('close');
    a.admit('watch', new Call('10.0.0.1:5000'));
    assert.throws(() => a.admit('watch', new Call('10.0.0.1:5000')));
    mine[1]!.emit('error');
    mine[2]!.emit('close');
    assert.equal(a.connections, 2);
    a.admit('watch', new Call('10.0.0.1:5000'));
    assert.equal(warnings.length, 1);
  });

  it('forgets a connection with its last stream: the table holds only connections with open streams', () => {
    const a = new StreamAdmission({ rate: 1000, burst: 1000, perConnection: 1 }, new FakeClock(0));
    const calls = Array.from({ length: 100 }, (_, i) => new Call(`10.0.0.${i}:1`));
    for (const c of calls) a.admit('xds', c);
    assert.equal(a.connections, 100);
    for (const c of calls) c.emit('close');
    assert.equal(a.connections, 0);
  });
});
