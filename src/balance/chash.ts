/**
 * Weighted consistent-hash ring. Replaces lua-resty-checkups' ring, whose shares ignore weights
 * and are badly skewed (upstream issue #9; see docs/compat.md).
 *
 * - Each server gets points in proportion to its weight: the lightest gets 2,048 (its share then
 *   deviates about 1/sqrt(2048) = 2.2% from its weight share), the others weight/min times
 *   that, scaled down so the ring holds at most 2^20 points (4 MiB, built in O(points)).
 *   At 10,000 equal servers that is about 100 points each (share deviation about 10%).
 * - Point positions derive from hash53(`host:port`) and the point number, uniform over [0, 2^32),
 *   so a server's points depend on it alone: removing one of n servers moves only the keys it held
 *   (about 1/n of them) and adding one takes keys only for itself.
 * - A pick hashes the key and finds the first point at or after it. A 65,536-entry index on
 *   the top 16 bits narrows the search to a handful of points, so a pick costs about the same
 *   at 10 and at 10,000 servers.
 * - A skipped server's keys walk on round the ring to the next point of a usable server
 *   (the original's failover rule), so they spread over the remaining servers.
 */
import { derivedPoint, hash53 } from './hash.ts';
import type { Picker, SkipMask } from './mask.ts';

const INDEX_BITS = 16;
const BUCKETS = 1 << INDEX_BITS;
const LOW_MASK = BUCKETS - 1;
const POINTS_FOR_LIGHTEST = 2048;
const MAX_POINTS = 1 << 20;
/** Owners are packed in 16 bits next to the position's low 16 bits. */
export const MAX_RING_MEMBERS = 1 << 16;

/** Ring positions are the top 32 bits of hash53: collisions among 2^20 points are rare and harmless. */
const position = (h53: number): number => (h53 / 2097152) >>> 0;

export interface RingMember {
  readonly host: string;
  readonly port: number;
  readonly weight: number;
}

export class ConsistentHashRing implements Picker {
  readonly size: number;
  private readonly n: number;
  /**
   * Sorted points, one 32-bit word each: (low 16 bits of the position) << 16 | owner. The top 16
   * bits are implied by the bucket, so a bucket of ~16 points is one 64-byte cache line.
   */
  private readonly points: Uint32Array;
  /** bucketStart[b] = first point index whose top 16 bits are >= b; bucketStart[BUCKETS] = size. */
  private readonly bucketStart: Uint32Array;

  constructor(members: readonly RingMember[]) {
    if (members.length > MAX_RING_MEMBERS) throw new RangeError(`a hash ring holds at most ${MAX_RING_MEMBERS} servers`);
    this.n = members.length;
    let totalWeight = 0;
    let minWeight = Infinity;
    for (const m of members) {
      totalWeight += m.weight;
      minWeight = Math.min(minWeight, m.weight);
    }
    const perUnit = Math.min(POINTS_FOR_LIGHTEST / minWeight, MAX_POINTS / totalWeight);
    const counts = members.map((m) => Math.max(1, Math.round(perUnit * m.weight)));
    const size = counts.reduce((a, b) => a + b, 0);
    this.size = size;

    // Generate, counting-sort by bucket, then insertion-sort each bucket: O(size).
    const rawPos = new Uint32Array(size);
    const rawOwner = new Uint16Array(size);
    const fill = new Uint32Array(BUCKETS + 1);
    let k = 0;
    members.forEach((m, owner) => {
      const id = hash53(`${m.host}:${m.port}`);
      for (let c = 0; c < counts[owner]!; c++, k++) {
        const p = derivedPoint(id, c);
        rawPos[k] = p;
        rawOwner[k] = owner;
        fill[(p >>> INDEX_BITS) + 1]!++;
      }
    });
    for (let b = 1; b <= BUCKETS; b++) fill[b]! += fill[b - 1]!;
    this.bucketStart = fill.slice();
    const points = new Uint32Array(size);
    for (let i = 0; i < size; i++) {
      const p = rawPos[i]!;
      points[fill[p >>> INDEX_BITS]!++] = (((p & LOW_MASK) << 16) | rawOwner[i]!) >>> 0;
    }
    this.points = points;
    for (let b = 0; b < BUCKETS; b++) sortRange(points, this.bucketStart[b]!, this.bucketStart[b + 1]!);
  }

  pick(mask: SkipMask | undefined, key: string): number {
    if (this.n === 1) return mask !== undefined && mask.skip[0] !== 0 ? -1 : 0;
    if (mask !== undefined && mask.count >= this.n) return -1;
    const points = this.points;
    let at = this.firstAtOrAfter(position(hash53(key)));
    if (mask === undefined || mask.count === 0) return points[at]! & LOW_MASK;
    const skip = mask.skip;
    for (let steps = 0; steps < this.size; steps++) {
      const owner = points[at]! & LOW_MASK;
      if (skip[owner] === 0) return owner;
      at = at + 1 === this.size ? 0 : at + 1;
    }
    return -1;
  }

  /** Consistent hash has nothing to penalise: a failed server is skipped by the caller's mask. */
  penalize(): void {}

  /** Index of the first point with position >= p, wrapping to 0 past the end. */
  private firstAtOrAfter(p: number): number {
    const b = p >>> INDEX_BITS;
    let lo = this.bucketStart[b]!;
    let hi = this.bucketStart[b + 1]!;
    // Within the bucket, compare the low 16 bits (owner bits below them only break ties).
    const low = ((p & LOW_MASK) << 16) >>> 0;
    const points = this.points;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (points[mid]! < low) lo = mid + 1;
      else hi = mid;
    }
    return lo === this.size ? 0 : lo;
  }
}

/** Insertion sort of points[from, to): buckets hold a handful of points each. */
function sortRange(points: Uint32Array, from: number, to: number): void {
  for (let i = from + 1; i < to; i++) {
    const v = points[i]!;
    let j = i - 1;
    while (j >= from && points[j]! > v) {
      points[j + 1] = points[j]!;
      j--;
    }
    points[j + 1] = v;
  }
}
