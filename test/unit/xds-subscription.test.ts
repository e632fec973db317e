/** Wildcard and explicit subscriptions (xds_protocol.rst; go-control-plane subscription_test.go). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Subscription } from '../../src/server/xds/subscription.ts';
import { CLUSTER, ENDPOINT } from '../../src/server/xds/type-urls.ts';

const state = (s: Subscription) => [s.wildcard, [...s.names].sort()];

describe('xDS subscriptions', () => {
  it('SotW: [] first = wildcard; [*, A] = wildcard + A; [A] = A; [] later = nothing', () => {
    const s = new Subscription(CLUSTER);
    s.applySotw([]);
    assert.deepEqual(state(s), [true, []]);
    assert.deepEqual(s.applySotw(['*', 'A']), { added: ['A'], removed: [] });
    assert.deepEqual(state(s), [true, ['A']]);
    s.applySotw(['A']);
    assert.deepEqual(state(s), [false, ['A']]);
    assert.deepEqual(s.applySotw([]), { added: [], removed: ['A'] });
    assert.deepEqual(state(s), [false, []]);
  });

  it('SotW: an explicit first request never turns into a legacy wildcard', () => {
    const s = new Subscription(CLUSTER);
    s.applySotw(['A']);
    s.applySotw([]);
    assert.deepEqual(state(s), [false, []]);
  });

  it('no wildcard for EDS: [] is nothing and * is an ordinary name', () => {
    const s = new Subscription(ENDPOINT);
    s.applySotw([]);
    assert.deepEqual(state(s), [false, []]);
    s.applySotw(['*']);
    assert.deepEqual(state(s), [false, ['*']]);
  });

  it('delta: subscribe [] = wildcard; [A] adds; unsubscribe * leaves A; unsubscribe A leaves nothing', () => {
    const s = new Subscription(CLUSTER);
    s.applyDelta([], []);
    assert.deepEqual(state(s), [true, []]);
    s.applyDelta(['A'], []);
    assert.deepEqual(state(s), [true, ['A']]);
    s.applyDelta([], ['*']);
    assert.deepEqual(state(s), [false, ['A']]);
    assert.deepEqual(s.applyDelta([], ['A', 'phantom']), { added: [], removed: ['A'] });
    assert.deepEqual(state(s), [false, []]);
    s.applyDelta(['*'], []);
    assert.deepEqual(state(s), [true, []]);
  });

  it('delta: a first request naming resources is not a wildcard; re-subscribing counts as added', () => {
    const s = new Subscription(CLUSTER);
    s.applyDelta(['A'], []);
    assert.deepEqual(state(s), [false, ['A']]);
    assert.deepEqual(s.applyDelta(['A'], []).added, ['A']);
    s.applyDelta([], []);
    assert.deepEqual(state(s), [false, ['A']]);
  });
});
