/** ProbeDeadline: the signal is made on demand and agrees with `expired` whenever it is made. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProbeDeadline } from '../../src/health/probes/deadline.ts';

describe('ProbeDeadline', () => {
  it('fires a signal read before it expires, once', () => {
    const d = new ProbeDeadline(100);
    const signal = d.signal;
    let fired = 0;
    signal.addEventListener('abort', () => fired++);
    assert.equal(d.expired, false);
    d.expire();
    d.expire();
    assert.equal(d.expired, true);
    assert.equal(signal.aborted, true);
    assert.equal(fired, 1);
    assert.equal((signal.reason as Error).message, 'timeout');
  });

  it('hands out an aborted signal when first read after it expired', () => {
    const d = new ProbeDeadline(100);
    d.expire();
    assert.equal(d.signal.aborted, true);
    assert.equal(d.signal, d.signal);
  });

  it('runs the expiry hook once, at once when set after the deadline, and not once removed', () => {
    const calls: string[] = [];
    const a = new ProbeDeadline(100);
    a.onExpire = () => calls.push('a');
    a.expire();
    a.expire();
    const b = new ProbeDeadline(100);
    b.expire();
    b.onExpire = () => calls.push('b');
    const c = new ProbeDeadline(100);
    c.onExpire = () => calls.push('c');
    c.onExpire = undefined;
    c.expire();
    assert.deepEqual(calls, ['a', 'b']);
  });
});
