/** runProbe's guarantees, with stand-in probes: it always resolves, and never long after the deadline. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProbeType } from '../../src/core/model.ts';
import { ABORT_GRACE_MS, PROBES, runProbe } from '../../src/health/probes/index.ts';
import { ProbeDeadline } from '../../src/health/probes/deadline.ts';
import type { Probe } from '../../src/health/probes/types.ts';
import { upstream } from '../support/builders.ts';

const target = { host: '127.0.0.1', port: 1 };
const spec = upstream('u', [], { typ: 'general' });

function only(probe: Probe): Record<ProbeType, Probe> {
  return { ...PROBES, general: probe };
}

describe('runProbe', () => {
  it('returns what the probe returns', async () => {
    const r = await runProbe(target, spec, new ProbeDeadline(1000), only(async () => ({ status: 'unstable', msg: 'x', extras: { a: 1 } })));
    assert.deepEqual(r, { status: 'unstable', msg: 'x', extras: { a: 1 } });
  });

  it('records a synchronous throw and a rejection as err with the message', async () => {
    const c = new ProbeDeadline(1000);
    const throwing: Probe = () => {
      throw new Error('boom');
    };
    assert.deepEqual(await runProbe(target, spec, c, only(throwing)), { status: 'err', msg: 'boom' });
    assert.deepEqual(await runProbe(target, spec, c, only(() => Promise.reject(new Error('nope')))), { status: 'err', msg: 'nope' });
    assert.deepEqual(await runProbe(target, spec, c, only(() => Promise.reject(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })))), {
      status: 'err',
      msg: 'connection refused',
    });
  });

  it('is timeout without calling the probe when the deadline has already passed', async () => {
    let called = false;
    const passed = new ProbeDeadline(1000);
    passed.expire();
    const r = await runProbe(target, spec, passed, only(async () => ((called = true), { status: 'ok', msg: null })));
    assert.deepEqual(r, { status: 'err', msg: 'timeout' });
    assert.equal(called, false);
  });

  it('prefers the probe\'s own answer after the abort when it comes within the grace period', async () => {
    const deadline = new ProbeDeadline(1000);
    const probe: Probe = (_t, _s, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => setImmediate(resolve, { status: 'err', msg: 'own words' })));
    const pending = runProbe(target, spec, deadline, only(probe));
    deadline.expire();
    assert.deepEqual(await pending, { status: 'err', msg: 'own words' });
  });

  it('resolves timeout ABORT_GRACE_MS after the abort when a probe never settles, and a rejection then is harmless', async () => {
    const deadline = new ProbeDeadline(1000);
    let rejectLater: (e: Error) => void = () => {};
    const stuck: Probe = () => new Promise((_resolve, reject) => (rejectLater = reject));
    const pending = runProbe(target, spec, deadline, only(stuck));
    const t0 = performance.now();
    deadline.expire();
    assert.deepEqual(await pending, { status: 'err', msg: 'timeout' });
    const waited = performance.now() - t0;
    assert.ok(waited >= ABORT_GRACE_MS - 5 && waited < ABORT_GRACE_MS + 200, `waited ${waited} ms`);
    rejectLater(new Error('late'));
  });
});
