/**
 * Smooth weighted round robin, exactly as lua-resty-checkups does it (checkups-semantics.md
 * §5.2), which is nginx's algorithm with a different failure penalty:
 *
 *   for each eligible server: current += effective; total += effective;
 *                             if effective < weight: effective += 1
 *   best = highest current (ties: earliest); best.current -= total
 *   after a failed attempt: effective = ceil(effective / 2)
 *
 * A single-server cluster is a shortcut that touches no state.
 *
 * Cost. The step above is O(n) (about 3 µs at 1,000 servers). But while the set of eligible
 * servers is fixed and every effective weight equals its weight, the sequence is periodic with
 * period W = sum of eligible weights: after W picks every server was chosen weight times and the
 * `current` vector is back where it started. So the O(n) steps record what they pick; once W
 * recorded picks bring the state back to the recording's start, the recording is the period and
 * later picks replay it in O(1). The replay is bit-for-bit what the O(n) step would return.
 * Anything that breaks the conditions (a penalty, another skip mask) rebuilds the exact
 * `current` vector for the position reached and goes back to stepping. Recording costs nothing
 * extra: it is the picks that had to be made anyway, plus 4 bytes per period entry.
 */
import type { Picker, SkipMask } from './mask.ts';

/** Periods longer than this are not cached and every pick stays O(n). */
export const DEFAULT_MAX_PERIOD = 1 << 20;

export interface SmoothWrrOptions {
  /** Longest period (sum of eligible weights) to cache; 0 disables the O(1) replay. */
  readonly maxPeriod?: number;
}

export class SmoothWeightedRoundRobin implements Picker {
  private readonly n: number;
  private readonly weight: Float64Array;
  private readonly effective: Float64Array;
  private readonly current: Float64Array;
  /** Servers whose effective weight is below their weight (recovering from a failure). */
  private degraded = 0;

  // Replay: valid while picks come with `periodMask` (same object) and no penalty happens.
  private period: Int32Array | null = null;
  private periodMask: SkipMask | undefined;
  private periodTotal = 0;
  private base: Float64Array | null = null;
  /** Position in `period`, or -1 when `current` is authoritative. */
  private pos = -1;

  // Recording of O(n) picks made under unchanged conditions.
  private rec: Int32Array | null = null;
  private recMask: SkipMask | undefined;
  private recStart: Float64Array | null = null;
  private recLen = 0;
  /** The mask whose period was found longer than maxPeriod: not recorded again (saves an O(n) sum per pick). */
  private refusedMask: SkipMask | undefined | null = null;

  private readonly maxPeriod: number;

  constructor(weights: readonly number[], opts: SmoothWrrOptions = {}) {
    this.maxPeriod = opts.maxPeriod ?? DEFAULT_MAX_PERIOD;
    this.n = weights.length;
    this.weight = Float64Array.from(weights);
    this.effective = Float64Array.from(weights);
    this.current = new Float64Array(this.n);
  }

  /**
   * `mask` must not change after it is first passed in: the replay is keyed on its identity.
   * The key is ignored (round robin).
   */
  pick(mask: SkipMask | undefined): number {
    const n = this.n;
    if (n === 1) return mask !== undefined && mask.skip[0] !== 0 ? -1 : 0;
    if (mask !== undefined && mask.count >= n) return -1;
    if (this.pos >= 0) {
      if (mask === this.periodMask) {
        const period = this.period!;
        const i = period[this.pos]!;
        this.pos = this.pos + 1 === period.length ? 0 : this.pos + 1;
        return i;
      }
      this.leaveReplay();
    }
    const clean = this.degraded === 0;
    if (clean && (this.rec === null || this.recMask !== mask) && this.refusedMask !== mask) this.startRecording(mask);
    const i = this.step(mask);
    if (clean && this.rec !== null) this.record(i);
    return i;
  }

  penalize(i: number): void {
    this.leaveReplay();
    this.rec = null;
    const e = this.effective[i]!;
    const halved = Math.ceil(e / 2);
    if (halved < e) {
      if (e === this.weight[i]) this.degraded++;
      this.effective[i] = halved;
    }
  }

  /** The exact O(n) step. */
  private step(mask: SkipMask | undefined): number {
    const { n, weight, effective, current } = this;
    const skip = mask?.skip;
    let best = -1;
    let bestCurrent = -Infinity;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (skip !== undefined && skip[i] !== 0) continue;
      const e = effective[i]!;
      const c = current[i]! + e;
      current[i] = c;
      total += e;
      if (e < weight[i]!) {
        effective[i] = e + 1;
        if (e + 1 === weight[i]) this.degraded--;
      }
      if (c > bestCurrent) {
        best = i;
        bestCurrent = c;
      }
    }
    if (best < 0) return -1;
    current[best] = bestCurrent - total;
    return best;
  }

  private eligibleTotal(mask: SkipMask | undefined): number {
    let total = 0;
    for (let i = 0; i < this.n; i++) if (mask === undefined || mask.skip[i] === 0) total += this.weight[i]!;
    return total;
  }

  private startRecording(mask: SkipMask | undefined): void {
    const total = this.eligibleTotal(mask);
    if (total > this.maxPeriod) {
      // Huge weights (up to 2^31-1 each): the period is never materialised; picks stay O(n) and exact.
      this.rec = null;
      this.refusedMask = mask;
      return;
    }
    this.refusedMask = null;
    this.rec = new Int32Array(total);
    this.recMask = mask;
    this.recStart = this.current.slice();
    this.recLen = 0;
  }

  private record(i: number): void {
    const rec = this.rec!;
    rec[this.recLen++] = i;
    if (this.recLen < rec.length) return;
    const start = this.recStart!;
    let back = true;
    for (let k = 0; k < this.n; k++) {
      if (start[k] !== this.current[k]) {
        back = false;
        break;
      }
    }
    if (!back) {
      // Not (yet) on a cycle: record the next window from here.
      this.recStart = this.current.slice();
      this.recLen = 0;
      return;
    }
    this.period = rec;
    this.periodMask = this.recMask;
    this.periodTotal = rec.length;
    this.base = start;
    this.pos = 0;
    this.rec = null;
  }

  /** `current` after `pos` replayed picks from `base`: + pos*w for eligible servers, - W per pick. */
  private leaveReplay(): void {
    if (this.pos < 0) return;
    const pos = this.pos;
    this.pos = -1;
    const { current, weight } = this;
    current.set(this.base!);
    const skip = this.periodMask?.skip;
    for (let i = 0; i < this.n; i++) if (skip === undefined || skip[i] === 0) current[i]! += pos * weight[i]!;
    const period = this.period!;
    for (let k = 0; k < pos; k++) current[period[k]!]! -= this.periodTotal;
    this.period = null;
    this.base = null;
  }
}
