import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ConsistentHashRing, type RingMember } from '../../src/balance/chash.ts';
import { hash53 } from '../../src/balance/hash.ts';
import { SkipMask } from '../../src/balance/mask.ts';

const KEYS = Array.from({ length: 100_000 }, (_, i) => `/api/v1/users/${i}?session=${(i * 7919) % 100_003}`);

function members(weights: number[], base = '10.0.0.'): RingMember[] {
  return weights.map((weight, i) => ({ host: `${base}${i + 1}`, port: 8080, weight }));
}

function shares(ring: ConsistentHashRing, n: number, mask?: SkipMask): number[] {
  const counts = new Array<number>(n).fill(0);
  for (const k of KEYS) counts[ring.pick(mask, k)]!++;
  return counts;
}

function assertWithinTenPercent(counts: number[], weights: number[]): void {
  const total = counts.reduce((a, b) => a + b, 0);
  const wsum = weights.reduce((a, b) => a + b, 0);
  counts.forEach((c, i) => {
    const expected = (total * weights[i]!) / wsum;
    assert.ok(Math.abs(c - expected) <= 0.1 * expected, `server ${i} (weight ${weights[i]}) got ${c} keys, expected ${expected.toFixed(0)} ±10% (${counts.join(',')})`);
  });
}

describe('hash53', () => {
  it('is deterministic, seed-sensitive and spreads short keys', () => {
    assert.equal(hash53('127.0.0.1:12354'), hash53('127.0.0.1:12354'));
    assert.notEqual(hash53('a', 0), hash53('a', 1));
    assert.ok(hash53('x') < 2 ** 53 && hash53('x') >= 0);
    const buckets = new Array<number>(16).fill(0);
    for (let i = 0; i < 16_000; i++) buckets[Math.floor(hash53(`k${i}`) / 2 ** 49)]!++;
    for (const b of buckets) assert.ok(b > 800 && b < 1200, `bucket count ${b}`);
  });
});

describe('weighted consistent hash (fixes lua-resty-checkups #9)', () => {
  it('servers whose addresses differ in the last digit share evenly (the #9 case)', () => {
    const weights = [1, 1, 1];
    const ring = new ConsistentHashRing(weights.map((weight, i) => ({ host: '127.0.0.1', port: 12354 + i, weight })));
    assertWithinTenPercent(shares(ring, 3), weights);
  });

  it('servers whose names differ in the first character share evenly', () => {
    const weights = [1, 1, 1, 1, 1];
    const ring = new ConsistentHashRing(['a', 'b', 'c', 'd', 'e'].map((host) => ({ host, port: 1, weight: 1 })));
    assertWithinTenPercent(shares(ring, 5), weights);
  });

  it('two servers split 100k keys about evenly (the issue reported 89/11)', () => {
    const ring = new ConsistentHashRing([
      { host: '192.168.46.111', port: 80, weight: 1 },
      { host: '192.168.46.110', port: 80, weight: 1 },
    ]);
    assertWithinTenPercent(shares(ring, 2), [1, 1]);
  });

  it('honours weights: each server within ±10% of its weight share over 100k keys', () => {
    for (const weights of [
      [1, 2, 3, 4],
      [10, 10, 10, 10, 10, 5, 5, 1 * 20],
      [1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
      [3, 7],
    ]) {
      const ring = new ConsistentHashRing(members(weights));
      assertWithinTenPercent(shares(ring, weights.length), weights);
    }
  });

  it('honours weights for random weight vectors (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 8 }), fc.integer({ min: 1, max: 250 }), (weights, net) => {
        const ring = new ConsistentHashRing(members(weights, `172.16.${net}.`));
        assertWithinTenPercent(shares(ring, weights.length), weights);
      }),
      { numRuns: 15, seed: 20261122 },
    );
  });

  it('removing one of n servers remaps about 1/n of keys, and only keys of the removed server', () => {
    for (const n of [5, 10, 20]) {
      const all = members(new Array<number>(n).fill(1));
      const before = new ConsistentHashRing(all);
      const removed = Math.floor(n / 2);
      const rest = all.filter((_, i) => i !== removed);
      const after = new ConsistentHashRing(rest);
      let moved = 0;
      for (const k of KEYS) {
        const a = all[before.pick(undefined, k)]!;
        const b = rest[after.pick(undefined, k)]!;
        if (a !== b) {
          moved++;
          assert.equal(a, all[removed], 'a key moved although its server stayed');
        }
      }
      const fraction = moved / KEYS.length;
      assert.ok(Math.abs(fraction - 1 / n) <= 0.1 / n, `n=${n}: ${(fraction * 100).toFixed(2)}% remapped, expected about ${(100 / n).toFixed(2)}%`);
    }
  });

  it('adding a server takes keys only for itself', () => {
    const all = members([1, 1, 1, 1, 1, 1]);
    const before = new ConsistentHashRing(all.slice(0, 5));
    const after = new ConsistentHashRing(all);
    let moved = 0;
    for (const k of KEYS.slice(0, 20_000)) {
      const b = after.pick(undefined, k);
      if (before.pick(undefined, k) !== b) {
        moved++;
        assert.equal(b, 5);
      }
    }
    assert.ok(moved > 20_000 / 6 - 400 && moved < 20_000 / 6 + 400, `moved ${moved}`);
  });

  it('is sticky: the same key maps to the same server, also in a ring built anew', () => {
    const a = new ConsistentHashRing(members([2, 3, 5]));
    const b = new ConsistentHashRing(members([2, 3, 5]));
    for (const k of KEYS.slice(0, 1000)) assert.equal(a.pick(undefined, k), b.pick(undefined, k));
  });

  it('skipped servers: keys walk on to the next usable server and spread over the rest', () => {
    const weights = [1, 1, 1, 1, 1];
    const ring = new ConsistentHashRing(members(weights));
    const mask = new SkipMask(5);
    mask.set(2);
    const plain = KEYS.map((k) => ring.pick(undefined, k));
    const masked = KEYS.map((k) => ring.pick(mask, k));
    const takenOver = new Array<number>(5).fill(0);
    plain.forEach((p, i) => {
      if (p !== 2) assert.equal(masked[i], p, 'keys of usable servers stay put');
      else takenOver[masked[i]!]!++;
    });
    assert.equal(takenOver[2], 0);
    for (const i of [0, 1, 3, 4]) assert.ok(takenOver[i]! > 2000, `server ${i} took ${takenOver[i]} of the skipped server's keys`);
  });

  it('returns -1 when every server is skipped, and handles one server', () => {
    const ring = new ConsistentHashRing(members([1, 1]));
    const mask = new SkipMask(2);
    mask.set(0);
    mask.set(1);
    assert.equal(ring.pick(mask, 'k'), -1);
    const one = new ConsistentHashRing(members([3]));
    assert.equal(one.pick(undefined, 'k'), 0);
    const skipOne = new SkipMask(1);
    skipOne.set(0);
    assert.equal(one.pick(skipOne, 'k'), -1);
  });

  it('keeps the ring bounded for large clusters', () => {
    const ring = new ConsistentHashRing(members(new Array<number>(5000).fill(1), 'h'));
    assert.ok(ring.size <= (1 << 20) + 5000, `ring size ${ring.size}`);
  });

  it('weights up to 2^31-1 scale into the bounded ring and keep their shares', () => {
    const weights = [2 ** 31 - 1, 2 ** 30, 3_200_000 * 100, 2 ** 31 - 1];
    const ring = new ConsistentHashRing(members(weights));
    assert.ok(ring.size <= 1 << 20, `ring size ${ring.size}`);
    assertWithinTenPercent(shares(ring, weights.length), weights);
  });
});
