import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { SkipMask } from '../../src/balance/mask.ts';
import { SmoothWeightedRoundRobin } from '../../src/balance/smooth-wrr.ts';

/** lua-resty-checkups' smooth WRR step written as plainly as possible: the oracle for the optimised class. */
class ReferenceWrr {
  servers: Array<{ weight: number; effective: number; current: number }>;
  constructor(weights: number[]) {
    this.servers = weights.map((w) => ({ weight: w, effective: w, current: 0 }));
  }
  pick(skip: (i: number) => boolean): number {
    if (this.servers.length === 1) return skip(0) ? -1 : 0;
    let best = -1;
    let total = 0;
    this.servers.forEach((s, i) => {
      if (skip(i)) return;
      s.current += s.effective;
      total += s.effective;
      if (s.effective < s.weight) s.effective += 1;
      if (best === -1 || s.current > this.servers[best]!.current) best = i;
    });
    if (best === -1) return -1;
    this.servers[best]!.current -= total;
    return best;
  }
  penalize(i: number): void {
    const s = this.servers[i]!;
    s.effective = Math.ceil(s.effective / 2);
  }
}

function sequence(weights: number[], picks: number, names = 'ABCDEFGH'): string {
  const wrr = new SmoothWeightedRoundRobin(weights);
  let out = '';
  for (let i = 0; i < picks; i++) out += names[wrr.pick(undefined)];
  return out;
}

function maskOf(size: number, skipped: number[]): SkipMask {
  const m = new SkipMask(size);
  for (const i of skipped) m.set(i);
  return m;
}

describe('smooth weighted round robin (docs/compat.md)', () => {
  it('weights 1,4,3,6 give EBCEBEACEBECBEEBCEBEACEBECBE, and repeat', () => {
    assert.equal(sequence([1, 4, 3, 6], 28, 'ABCE'), 'EBCEBEACEBECBEEBCEBEACEBECBE');
    assert.equal(sequence([1, 4, 3, 6], 28 * 5, 'ABCE'), 'EBCEBEACEBECBEEBCEBEACEBECBE'.repeat(5));
  });

  it('weights 1,2,3 give CBACBC repeating', () => {
    assert.equal(sequence([1, 2, 3], 60), 'CBACBC'.repeat(10));
  });

  it('equal weights are plain round robin', () => {
    assert.equal(sequence([1, 1, 1], 9), 'ABCABCABC');
  });

  it('a single server is picked without touching state, and skipped when masked', () => {
    const wrr = new SmoothWeightedRoundRobin([5]);
    assert.equal(wrr.pick(undefined), 0);
    wrr.penalize(0);
    assert.equal(wrr.pick(undefined), 0);
    assert.equal(wrr.pick(maskOf(1, [0])), -1);
  });

  it('skipped servers keep their current weight; the others share the picks', () => {
    const wrr = new SmoothWeightedRoundRobin([1, 1, 1]);
    const mask = maskOf(3, [1]);
    assert.deepEqual([0, 1, 2, 3].map(() => wrr.pick(mask)), [0, 2, 0, 2]);
    assert.equal(wrr.pick(maskOf(3, [0, 1, 2])), -1);
  });

  it('a failure halves the effective weight (rounded up) and it recovers by one per round', () => {
    const ref = new ReferenceWrr([4, 4]);
    const wrr = new SmoothWeightedRoundRobin([4, 4]);
    const never = () => false;
    for (let k = 0; k < 3; k++) assert.equal(wrr.pick(undefined), ref.pick(never));
    wrr.penalize(0);
    ref.penalize(0);
    assert.equal(ref.servers[0]!.effective, 2);
    wrr.penalize(0);
    ref.penalize(0);
    assert.equal(ref.servers[0]!.effective, 1);
    wrr.penalize(0);
    ref.penalize(0);
    assert.equal(ref.servers[0]!.effective, 1, 'never below 1');
    const got: number[] = [];
    const want: number[] = [];
    for (let k = 0; k < 20; k++) {
      got.push(wrr.pick(undefined));
      want.push(ref.pick(never));
    }
    assert.deepEqual(got, want);
    assert.ok(want.slice(0, 4).filter((i) => i === 1).length >= 3, 'the healthy server takes most picks while the other recovers');
  });

  it('matches the reference step for step under random picks, skips and failures (property)', () => {
    const op = fc.oneof(
      { arbitrary: fc.constant<['pick', number]>(['pick', 0]), weight: 6 },
      { arbitrary: fc.integer({ min: 1, max: 2 }).map((m): ['pick', number] => ['pick', m]), weight: 2 },
      { arbitrary: fc.nat().map((i): ['fail', number] => ['fail', i]), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 7 }), fc.array(op, { maxLength: 400 }), (weights, ops) => {
        const n = weights.length;
        // Masks are reused objects, as the balancer publishes them.
        const masks = [undefined, maskOf(n, [0]), maskOf(n, n > 2 ? [1, 2] : [n - 1])];
        const wrr = new SmoothWeightedRoundRobin(weights);
        const ref = new ReferenceWrr(weights);
        let last = -1;
        for (const [kind, arg] of ops) {
          if (kind === 'pick') {
            const mask = masks[arg];
            last = wrr.pick(mask);
            assert.equal(last, ref.pick((i) => mask !== undefined && mask.skip[i] !== 0));
          } else if (last >= 0) {
            wrr.penalize(last);
            ref.penalize(last);
          }
        }
      }),
      { numRuns: 300 },
    );
  });

  it('long runs (where the O(1) replay takes over) still match the reference', () => {
    const weights = Array.from({ length: 50 }, (_, i) => 1 + (i % 7));
    const wrr = new SmoothWeightedRoundRobin(weights);
    const ref = new ReferenceWrr(weights);
    const mask = maskOf(50, [3, 17]);
    for (let k = 0; k < 5000; k++) {
      const m = k % 1500 < 700 ? undefined : mask;
      const i = wrr.pick(m);
      assert.equal(i, ref.pick((j) => m !== undefined && m.skip[j] !== 0), `pick ${k}`);
      if (k === 2222 || k === 3333) {
        wrr.penalize(i);
        ref.penalize(i);
      }
    }
  });

  it('picks each server in proportion to its weight (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 2, maxLength: 12 }), (weights) => {
        const total = weights.reduce((a, b) => a + b, 0);
        const wrr = new SmoothWeightedRoundRobin(weights);
        const counts = new Array<number>(weights.length).fill(0);
        for (let k = 0; k < total * 3; k++) counts[wrr.pick(undefined)]!++;
        assert.deepEqual(
          counts,
          weights.map((w) => w * 3),
        );
      }),
      { numRuns: 200 },
    );
  });
  it('weights up to 2^31-1 (the original\'s range) match the reference exactly, without materialising the period', () => {
    const big = 2 ** 31 - 1;
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.integer({ min: 1, max: 10 }), fc.integer({ min: 1, max: big }), fc.constant(big), fc.constant(3_200_000)), { minLength: 2, maxLength: 6 }), fc.array(fc.nat({ max: 9 }), { maxLength: 300 }), (weights, ops) => {
        const n = weights.length;
        const masks = [undefined, maskOf(n, [0])];
        const wrr = new SmoothWeightedRoundRobin(weights);
        const ref = new ReferenceWrr(weights);
        for (const op of ops) {
          const mask = masks[op % 2];
          const i = wrr.pick(mask);
          assert.equal(i, ref.pick((j) => mask !== undefined && mask.skip[j] !== 0));
          if (op === 9 && i >= 0) {
            wrr.penalize(i);
            ref.penalize(i);
          }
        }
      }),
      { numRuns: 200 },
    );
    // lua-resty-checkups' own round-robin test weights: the share follows them.
    const wrr = new SmoothWeightedRoundRobin([3_200_000, 1_600_000, big]);
    const heap = process.memoryUsage().arrayBuffers;
    const counts = [0, 0, 0];
    for (let k = 0; k < 100_000; k++) counts[wrr.pick(undefined)]!++;
    assert.ok(process.memoryUsage().arrayBuffers - heap < 16 << 20, 'no period of Σweights entries allocated');
    const total = 3_200_000 + 1_600_000 + big;
    [3_200_000, 1_600_000, big].forEach((w, i) => assert.ok(Math.abs(counts[i]! - (100_000 * w) / total) <= 1, `server ${i}: ${counts[i]}`));
  });

  it('past the rebase of the lazy form (t x weight near 2^50, after about 524,000 picks at 2^31) still matches the reference', () => {
    const weights = [2 ** 31 - 1, 3_200_000, 5, 2 ** 31 - 1];
    const wrr = new SmoothWeightedRoundRobin(weights);
    const ref = new ReferenceWrr(weights);
    const masks = [undefined, maskOf(4, [1])];
    let mismatch = -1;
    for (let k = 0; k < 700_000 && mismatch < 0; k++) {
      const mask = masks[(k >> 16) & 1];
      if (wrr.pick(mask) !== ref.pick((j) => mask !== undefined && mask.skip[j] !== 0)) mismatch = k;
    }
    assert.equal(mismatch, -1, `first differing pick: ${mismatch}`);
  });

  it('under drifting churn at 3,000 servers (bunched classes, W shrinking: the runs\' gaps) matches the reference', () => {
    // As the pick bench's churn: weights 1-5, 1% skipped, one server toggled every 40 picks,
    // mostly to err at first. Classes bunch and each shrink of W sends the next winners inside
    // their run, where gaps take them (opened, moved both ways, reached by the front, closed by
    // a leave and by compaction).
    const n = 3000;
    const weights = Array.from({ length: n }, (_, i) => 1 + (i % 5));
    const mask = maskOf(
      n,
      Array.from({ length: n / 100 }, (_, k) => 100 * k + 50),
    );
    const wrr = new SmoothWeightedRoundRobin(weights);
    const ref = new ReferenceWrr(weights);
    let flips = 0;
    for (let k = 1; k <= 60_000; k++) {
      if (k % 40 === 0) {
        const j = (flips++ * 7919) % n;
        if (mask.skip[j] !== 0) mask.clear(j);
        else mask.set(j);
      }
      assert.equal(wrr.pick(mask), ref.pick((j) => mask.skip[j] !== 0), `pick ${k}`);
    }
  });

  it('under health churn (a fresh mask per flip, as the balancer publishes them) matches the reference (property)', () => {
    const big = 2 ** 31 - 1;
    const weightSets = fc.oneof(
      fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 2, maxLength: 200 }),
      fc.array(fc.oneof(fc.constant(1), fc.constant(big), fc.constant(3_200_000)), { minLength: 2, maxLength: 40 }),
      // More distinct weights than MAX_WEIGHT_CLASSES: the O(n) step path.
      fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: 70, maxLength: 120 }),
    );
    const op = fc.oneof(
      { arbitrary: fc.integer({ min: 1, max: 400 }).map((k): ['picks', number] => ['picks', k]), weight: 6 },
      { arbitrary: fc.nat().map((i): ['flip', number] => ['flip', i]), weight: 4 },
      { arbitrary: fc.integer({ min: 1, max: 40 }).map((k): ['burst', number] => ['burst', k]), weight: 1 },
      { arbitrary: fc.constant<['fail', number]>(['fail', 0]), weight: 1 },
    );
    fc.assert(
      fc.property(weightSets, fc.array(op, { maxLength: 60 }), (weights, ops) => {
        const n = weights.length;
        const wrr = new SmoothWeightedRoundRobin(weights);
        const ref = new ReferenceWrr(weights);
        let mask: SkipMask | undefined;
        let last = -1;
        for (const [kind, arg] of ops) {
          if (kind === 'flip') {
            // The balancer flips bits in place; a retry clones. Both, and a fresh mask now and then.
            const how = arg % 3;
            const next = how === 0 ? (mask ?? new SkipMask(n)) : how === 1 ? (mask?.clone() ?? new SkipMask(n)) : (() => {
              const m = new SkipMask(n);
              if (mask !== undefined) for (let j = 0; j < n; j++) if (mask.skip[j] !== 0) m.set(j);
              return m;
            })();
            const i = Math.floor(arg / 3) % n;
            if (next.skip[i] !== 0) next.clear(i);
            else next.set(i);
            mask = next;
          } else if (kind === 'burst') {
            // Many in-place flips between two picks: more than the mask's journal holds.
            mask ??= new SkipMask(n);
            for (let k = 0; k < arg; k++) {
              const i = (k * 7 + arg) % n;
              if (mask.skip[i] !== 0) mask.clear(i);
              else mask.set(i);
            }
          } else if (kind === 'fail') {
            if (last >= 0) {
              wrr.penalize(last);
              ref.penalize(last);
            }
          } else {
            for (let k = 0; k < arg; k++) {
              last = wrr.pick(mask);
              const m = mask;
              assert.equal(last, ref.pick((j) => m !== undefined && m.skip[j] !== 0));
            }
          }
        }
      }),
      { numRuns: 150 },
    );
  });
});
