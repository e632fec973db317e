/**
 * Smooth weighted round robin, exactly as lua-resty-checkups does it (docs/compat.md), which is nginx's algorithm with a different failure penalty:
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
 *
 * Churn. A health change (another mask) ends the replay, and re-recording a period takes about
 * 2W steps: with O(n) steps, one flip per 1,000 picks at 10,000 servers made every pick O(n).
 * So while no server is degraded, steps are O(k) instead (k = distinct weights, at most
 * MAX_WEIGHT_CLASSES): every eligible server's current is kept lazily as
 * `current = base + t * weight` (t = steps taken). Within one weight class that preserves order,
 * so each class keeps its servers sorted (highest base first, earliest index on ties); a step
 * compares the k class fronts, and the winner, lowered by W, goes back in its class - at the end
 * in practice (O(1)), else next to where the previous one went inside the run (a search from
 * there and a gap that moves with it, see place()). A mask change costs O(log n + class size)
 * per server that changed (the mask says which, mask.ts). Recording for the replay starts
 * once a mask has lasted n picks. Integers stay below 2^53 (the lazy form is rebased long
 * before t * weight gets there), so every pick is bit-for-bit the O(n) step's.
 *
 * Slow start (slow-start.ts). A ramping server takes part with `effective * q / 1024` instead
 * of `effective`, q its ramp factor in 1024ths (recomputed once per ramp tick, never per server
 * per pick). Ramping servers leave their weight class and keep an explicit `current`, so a lazy
 * step costs O(k + r) with r servers ramping; there is no replay while any server ramps (the
 * weights change, nothing repeats). Ramping weights are multiples of 2^-10, so with the lazy
 * form rebased before t * weight reaches 2^42 the sums stay exact and the picks are still the
 * O(n) step's (for Σweights below 2^42: every config short of thousands of 2^31 weights).
 */
import type { Picker, SkipMask } from './mask.ts';
import { RAMP_STEPS, rampSteps, rampTick, type SlowStartRamp } from './slow-start.ts';

/** Periods longer than this are not cached and every pick stays O(n). */
export const DEFAULT_MAX_PERIOD = 1 << 20;

/** More distinct weights than this and steps stay O(n) (the class tops would cost as much). */
export const MAX_WEIGHT_CLASSES = 64;

/** Slots a shift opens when a winner goes inside its class's run; the next ones near it fill them. */
const RUN_GAP = 64;

/** Rebase the lazy form before `t * weight` could leave the exactly representable integers. */
const REBASE_AT = 2 ** 50;
/** With slow start, currents carry 10 fraction bits (weights in 1024ths): rebase earlier. */
const REBASE_AT_RAMPING = 2 ** 42;

export interface SmoothWrrOptions {
  /** Longest period (sum of eligible weights) to cache; 0 disables the O(1) replay. */
  readonly maxPeriod?: number;
  /** Lazy O(k) steps while nothing is degraded (default true); false keeps every step the O(n) loop. */
  readonly lazySteps?: boolean;
  /** Slow start for this cluster (written by the balancer); picks then need `now`. */
  readonly ramp?: SlowStartRamp;
}

/** The picker's side of slow start: which servers ramp now and at what share. */
interface RampState {
  /** Ramping servers in list[0..count). */
  readonly list: Int32Array;
  count: number;
  /** Position of server i in `list`, -1 when it has its full weight. */
  readonly at: Int32Array;
  /** Ramp factor of server i in 1024ths (RAMP_STEPS when not ramping). */
  readonly q: Float64Array;
  /** weight * q / RAMP_STEPS: what a ramping server adds per lazy step (effective = weight there). */
  readonly w: Float64Array;
  /** Ramp tick the factors were computed for. */
  tick: number;
}

/**
 * Per distinct weight, its eligible servers sorted best first (higher base, then earlier index),
 * in a buffer of twice the class size: the front moves forward as winners leave it and the
 * buffer is compacted when the end is reached (amortised O(1)). A run may hold one gap (free
 * slots between two of its entries, see place()).
 */
interface WeightClasses {
  readonly weightOf: Float64Array;
  readonly classOf: Int32Array;
  readonly buf: Int32Array[];
  /** Where class k's run starts in buf[k]; its entries, gap excluded, number size[k]. */
  readonly head: Int32Array;
  readonly size: Int32Array;
  /** Class k's gap: gapLen[k] free slots from gapAt[k] (0: none). Never at either end of the run. */
  readonly gapAt: Int32Array;
  readonly gapLen: Int32Array;
  /** 1 while server i is in its class's run (eligible under the mask last applied). */
  readonly member: Uint8Array;
  readonly maxWeight: number;
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
  private periodGen = 0;
  /** The skip bits the period was recorded under (the mask itself may change in place). */
  private periodSkip: Uint8Array | null = null;
  private periodTotal = 0;
  private base: Float64Array | null = null;
  /** Position in `period`, or -1 when `current` is authoritative. */
  private pos = -1;

  // Recording of O(n) picks made under unchanged conditions.
  private rec: Int32Array | null = null;
  private recMask: SkipMask | undefined;
  private recGen = 0;
  private recStart: Float64Array | null = null;
  private recLen = 0;
  /** The mask whose period was found longer than maxPeriod: not recorded again (saves an O(n) sum per pick). */
  private refusedMask: SkipMask | undefined | null = null;
  private refusedGen = 0;

  private readonly maxPeriod: number;

  // Lazy steps: while `lazy`, eligible servers' current is lazyBase + t * weight.
  private readonly classes: WeightClasses | null;
  private lazy = false;
  private lazyMask: SkipMask | undefined;
  private lazyGen = 0;
  private lazyBase: Float64Array | null = null;
  private t = 0;
  private lazyTotal = 0;
  /** Picks since the mask last changed (recording starts after n of them). */
  private sinceChange = 0;

  private readonly ramp: SlowStartRamp | undefined;
  private readonly rs: RampState | null;
  private readonly rebaseAt: number;

  constructor(weights: readonly number[], opts: SmoothWrrOptions = {}) {
    this.maxPeriod = opts.maxPeriod ?? DEFAULT_MAX_PERIOD;
    this.n = weights.length;
    this.weight = Float64Array.from(weights);
    this.effective = Float64Array.from(weights);
    this.current = new Float64Array(this.n);
    this.classes = opts.lazySteps === false || this.n < 2 ? null : weightClasses(this.weight);
    this.ramp = this.n < 2 ? undefined : opts.ramp;
    this.rs =
      this.ramp === undefined
        ? null
        : { list: new Int32Array(this.n), count: 0, at: new Int32Array(this.n).fill(-1), q: new Float64Array(this.n).fill(RAMP_STEPS), w: new Float64Array(this.n), tick: -Infinity };
    this.rebaseAt = this.ramp === undefined ? REBASE_AT : REBASE_AT_RAMPING;
  }

  /**
   * Derived state (replay, recording, class runs) is keyed on the mask's identity and generation.
   * The key is ignored (round robin). `now` (the engine's clock) matters only with slow start.
   */
  pick(mask: SkipMask | undefined, _key?: string, now = 0): number {
    const n = this.n;
    if (n === 1) return mask !== undefined && mask.skip[0] !== 0 ? -1 : 0;
    if (mask !== undefined && mask.count >= n) return -1;
    const ramp = this.ramp;
    if (ramp !== undefined && (ramp.pending.length > 0 || this.rs!.count > 0)) this.updateRamps(ramp, this.rs!, now);
    if (this.pos >= 0) {
      if (mask === this.periodMask && gen(mask) === this.periodGen) {
        const period = this.period!;
        const i = period[this.pos]!;
        this.pos = this.pos + 1 === period.length ? 0 : this.pos + 1;
        return i;
      }
      this.leaveReplay();
    }
    const clean = this.degraded === 0;
    if (clean && this.classes !== null) return this.lazyPick(mask);
    if (this.rs !== null && this.rs.count > 0) return this.rampedStep(mask, this.rs);
    if (clean && (this.rec === null || !same(mask, this.recMask, this.recGen)) && !same(mask, this.refusedMask, this.refusedGen)) this.startRecording(mask);
    const i = this.step(mask);
    if (clean && this.rec !== null) this.record(i);
    return i;
  }

  penalize(i: number): void {
    this.leaveReplay();
    this.leaveLazy();
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

  /** The O(n) step while servers ramp: a ramping server counts effective * q / RAMP_STEPS. */
  private rampedStep(mask: SkipMask | undefined, rs: RampState): number {
    const { n, weight, effective, current } = this;
    const q = rs.q;
    const skip = mask?.skip;
    let best = -1;
    let bestCurrent = -Infinity;
    let total = 0;
    for (let i = 0; i < n; i++) {
      if (skip !== undefined && skip[i] !== 0) continue;
      const e = effective[i]!;
      const w = q[i] === RAMP_STEPS ? e : (e * q[i]!) / RAMP_STEPS;
      const c = current[i]! + w;
      current[i] = c;
      total += w;
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

  /**
   * Takes in the balancer's ramp changes and, once per ramp tick, the new factors; a ramp whose
   * factor reached RAMP_STEPS is over. O(changes + ramping servers) per tick, O(1) otherwise.
   */
  private updateRamps(ramp: SlowStartRamp, rs: RampState, now: number): void {
    const tick = rampTick(now, ramp.spec);
    if (ramp.pending.length > 0) {
      ramp.take((i) => {
        const start = ramp.start[i]!;
        const q = Number.isNaN(start) ? RAMP_STEPS : rampSteps(start, tick, ramp.spec);
        if (q < RAMP_STEPS) this.setRamp(rs, i, q);
        else if (rs.at[i]! >= 0) this.stopRamp(rs, i);
      });
    }
    if (tick === rs.tick) return;
    rs.tick = tick;
    // Backwards: stopping a ramp moves the last entry into its place.
    for (let k = rs.count - 1; k >= 0; k--) {
      const i = rs.list[k]!;
      const q = rampSteps(ramp.start[i]!, tick, ramp.spec);
      if (q < RAMP_STEPS) this.setRamp(rs, i, q);
      else this.stopRamp(rs, i);
    }
  }

  /** Server i ramps at q/RAMP_STEPS of its weight (joining the ramping servers if it was not one). */
  private setRamp(rs: RampState, i: number, q: number): void {
    if (rs.at[i]! < 0) {
      // Its weight is about to change: no replay or recording holds any more.
      this.leaveReplay();
      this.rec = null;
      this.sinceChange = 0;
      if (this.lazy && this.classes!.member[i] !== 0) {
        this.current[i] = this.lazyBase![i]! + this.t * this.weight[i]!;
        this.leave(i);
      }
      rs.at[i] = rs.count;
      rs.list[rs.count++] = i;
    }
    rs.q[i] = q;
    rs.w[i] = (this.weight[i]! * q) / RAMP_STEPS;
  }

  /** Server i has its full weight again: back into its weight class (unless the mask skips it). */
  private stopRamp(rs: RampState, i: number): void {
    const k = rs.at[i]!;
    const last = rs.list[--rs.count]!;
    rs.list[k] = last;
    rs.at[last] = k;
    rs.at[i] = -1;
    rs.q[i] = RAMP_STEPS;
    this.rec = null;
    this.sinceChange = 0;
    // The mask's current bit: retarget() then finds membership and mask agreeing for i.
    if (this.lazy && !(this.lazyMask !== undefined && this.lazyMask.skip[i] !== 0)) {
      this.lazyBase![i] = this.current[i]! - this.t * this.weight[i]!;
      this.join(i);
    }
  }

  private ramping(i: number): boolean {
    return this.rs !== null && this.rs.at[i]! >= 0;
  }

  /** A clean pick by lazy step, recording for the replay once the mask has lasted n picks. */
  private lazyPick(mask: SkipMask | undefined): number {
    if (!this.lazy) this.enterLazy(mask);
    else if (!same(mask, this.lazyMask, this.lazyGen)) this.retarget(mask);
    if (this.rec !== null && !same(mask, this.recMask, this.recGen)) this.rec = null;
    const steady = this.rs === null || this.rs.count === 0;
    if (this.rec === null && steady && this.sinceChange >= this.n && !same(mask, this.refusedMask, this.refusedGen)) {
      this.syncCurrent();
      this.startRecording(mask);
    }
    this.sinceChange++;
    const i = this.lazyStep(mask);
    if (this.rec !== null) this.record(i);
    return i;
  }

  /** `current` is authoritative here: take it as the lazy base at t = 0. */
  private enterLazy(mask: SkipMask | undefined): void {
    const cl = this.classes!;
    this.lazyBase ??= new Float64Array(this.n);
    this.lazyBase.set(this.current);
    this.t = 0;
    cl.size.fill(0);
    cl.head.fill(0);
    cl.gapLen.fill(0);
    cl.member.fill(0);
    this.lazyTotal = 0;
    const skip = mask?.skip;
    for (let i = 0; i < this.n; i++) if ((skip === undefined || skip[i] === 0) && !this.ramping(i)) this.join(i);
    this.lazy = true;
    this.lazyMask = mask;
    this.lazyGen = gen(mask);
    this.sinceChange = 0;
  }

  /**
   * Another mask (or the same one changed): servers leaving keep their current frozen, servers
   * joining resume from theirs. Heap membership is the old state, so only the indices the mask
   * reports as changed are looked at (all of them when it cannot say).
   */
  private retarget(mask: SkipMask | undefined): void {
    const changed = mask === undefined ? this.lazyMask?.changesSince(undefined, 0) : mask.changesSince(this.lazyMask, this.lazyGen);
    if (changed !== undefined) for (const i of changed) this.rejoin(i, mask);
    else for (let i = 0; i < this.n; i++) this.rejoin(i, mask);
    this.lazyMask = mask;
    this.lazyGen = gen(mask);
    this.sinceChange = 0;
  }

  private rejoin(i: number, mask: SkipMask | undefined): void {
    // A ramping server is outside the classes; each step reads the mask for it.
    if (this.ramping(i)) return;
    const skipped = this.classes!.member[i] === 0;
    const skip = mask !== undefined && mask.skip[i] !== 0;
    if (skipped === skip) return;
    const base = this.lazyBase!;
    if (skip) {
      this.current[i] = base[i]! + this.t * this.weight[i]!;
      this.leave(i);
    } else {
      base[i] = this.current[i]! - this.t * this.weight[i]!;
      this.join(i);
    }
  }

  /** The O(n) step's result, from the k class tops (and the r ramping servers). */
  private lazyStep(mask: SkipMask | undefined): number {
    const cl = this.classes!;
    const base = this.lazyBase!;
    if ((this.t + 1) * cl.maxWeight > this.rebaseAt) {
      this.syncCurrent();
      base.set(this.current);
      this.t = 0;
    }
    const t = ++this.t;
    const { buf, head, size, weightOf } = cl;
    let best = -1;
    let bestClass = -1;
    let bestCurrent = -Infinity;
    for (let k = 0; k < size.length; k++) {
      if (size[k] === 0) continue;
      const top = buf[k]![head[k]!]!;
      const c = base[top]! + t * weightOf[k]!;
      if (c > bestCurrent || (c === bestCurrent && top < best)) {
        best = top;
        bestClass = k;
        bestCurrent = c;
      }
    }
    let total = this.lazyTotal;
    const rs = this.rs;
    if (rs !== null && rs.count > 0) {
      // Ramping servers keep an explicit current; same comparison as the class tops.
      const { list, w } = rs;
      const current = this.current;
      const skip = mask?.skip;
      for (let k = 0; k < rs.count; k++) {
        const i = list[k]!;
        if (skip !== undefined && skip[i] !== 0) continue;
        const c = current[i]! + w[i]!;
        current[i] = c;
        total += w[i]!;
        if (c > bestCurrent || (c === bestCurrent && i < best)) {
          best = i;
          bestClass = -1;
          bestCurrent = c;
        }
      }
    }
    if (best < 0) return -1;
    if (bestClass < 0) {
      this.current[best] = bestCurrent - total;
      return best;
    }
    // The winner leaves the front and, lowered by W, usually goes to the back: O(1).
    const h = ++head[bestClass]!;
    size[bestClass]!--;
    if (h === cl.gapAt[bestClass] && cl.gapLen[bestClass] !== 0) {
      head[bestClass] = h + cl.gapLen[bestClass]!;
      cl.gapLen[bestClass] = 0;
    }
    base[best]! -= total;
    this.place(bestClass, best);
    return best;
  }

  /** Writes the eligible servers' current from the lazy form (stays lazy). */
  private syncCurrent(): void {
    if (!this.lazy) return;
    const base = this.lazyBase!;
    const member = this.classes!.member;
    // Class membership, not the mask: the mask may have changed in place since.
    for (let i = 0; i < this.n; i++) if (member[i] !== 0) this.current[i] = base[i]! + this.t * this.weight[i]!;
  }

  private leaveLazy(): void {
    this.syncCurrent();
    this.lazy = false;
  }

  /** Order within a class: higher base first, then the earlier index. */
  private before(a: number, b: number): boolean {
    const base = this.lazyBase!;
    return base[a]! > base[b]! || (base[a] === base[b] && a < b);
  }

  /** Physical index in buf[k] of class k's x-th server. */
  private slot(k: number, x: number): number {
    const cl = this.classes!;
    const h = cl.head[k]!;
    const gl = cl.gapLen[k]!;
    return gl !== 0 && x >= cl.gapAt[k]! - h ? h + x + gl : h + x;
  }

  /** First position in class k's run, within [lo, hi), whose server is not before `i`. */
  private lowerBound(k: number, i: number, lo = 0, hi = this.classes!.size[k]!): number {
    const run = this.classes!.buf[k]!;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.before(run[this.slot(k, mid)]!, i)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Inserts `i` into its class's sorted run: at the back in O(1) (the usual case), else by binary
   * search. A winner lands inside the run when W just shrank (a server left): it then comes a
   * little above the servers lowered by the old W, and so do the class's next winners, one after
   * the other, among hundreds of servers when the class's bases are bunched. Shifting the tail
   * for each of them made a pick O(class size) under churn. So an insertion inside the run opens
   * RUN_GAP free slots at once, and the next ones move the gap to their place (the entries
   * between) and fill it: the tail is shifted once per RUN_GAP insertions.
   */
  private place(k: number, i: number): void {
    const cl = this.classes!;
    const run = cl.buf[k]!;
    const size = cl.size[k]!;
    let h = cl.head[k]!;
    let gl = cl.gapLen[k]!;
    let end = h + size + gl;
    if (size === 0 || this.before(run[end - 1]!, i)) {
      if (end === run.length) {
        this.compact(k);
        end = size;
      }
      run[end] = i;
      cl.size[k] = size + 1;
      return;
    }
    let p: number;
    if (gl === 0) {
      p = this.lowerBound(k, i);
      if (end + RUN_GAP > run.length) {
        this.compact(k);
        h = 0;
        end = size;
      }
      // At least one slot: the buffer holds twice the class and i is not in the run.
      gl = Math.min(RUN_GAP, run.length - end);
      run.copyWithin(h + p + gl, h + p, end);
    } else {
      // The winners after a shrink of W land in order, each a little after the last: look there first.
      const gs = cl.gapAt[k]!;
      const at = gs - h;
      if (this.before(run[gs + gl]!, i)) {
        let step = 1;
        while (at + step < size && this.before(run[gs + gl + step]!, i)) step *= 2;
        p = this.lowerBound(k, i, at + (step >> 1) + 1, Math.min(size, at + step));
        run.copyWithin(gs, gs + gl, gs + gl + (p - at));
      } else {
        let step = 1;
        while (step <= at && !this.before(run[gs - step]!, i)) step *= 2;
        p = this.lowerBound(k, i, Math.max(0, at - step + 1), at - (step >> 1));
        // Most often right at the gap: nothing to move (a copyWithin call costs even then).
        if (p < at) run.copyWithin(h + p + gl, h + p, gs);
      }
    }
    run[h + p] = i;
    cl.gapAt[k] = h + p + 1;
    cl.gapLen[k] = gl - 1;
    cl.size[k] = size + 1;
  }

  /** Moves class k's run to the start of its buffer, closing its gap. */
  private compact(k: number): void {
    const cl = this.classes!;
    const run = cl.buf[k]!;
    const h = cl.head[k]!;
    const end = h + cl.size[k]! + cl.gapLen[k]!;
    if (cl.gapLen[k] === 0) run.copyWithin(0, h, end);
    else {
      const gs = cl.gapAt[k]!;
      run.copyWithin(0, h, gs);
      run.copyWithin(gs - h, gs + cl.gapLen[k]!, end);
    }
    cl.head[k] = 0;
    cl.gapLen[k] = 0;
  }

  private join(i: number): void {
    const cl = this.classes!;
    cl.member[i] = 1;
    this.lazyTotal += this.weight[i]!;
    this.place(cl.classOf[i]!, i);
  }

  private leave(i: number): void {
    const cl = this.classes!;
    const k = cl.classOf[i]!;
    if (cl.gapLen[k] !== 0) this.compact(k);
    const run = cl.buf[k]!;
    const h = cl.head[k]!;
    const size = cl.size[k]!;
    const p = this.lowerBound(k, i);
    run.copyWithin(h + p, h + p + 1, h + size);
    cl.size[k] = size - 1;
    cl.member[i] = 0;
    this.lazyTotal -= this.weight[i]!;
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
      this.refusedGen = gen(mask);
      return;
    }
    this.refusedMask = null;
    this.rec = new Int32Array(total);
    this.recMask = mask;
    this.recGen = gen(mask);
    this.recStart = this.current.slice();
    this.recLen = 0;
  }

  private record(i: number): void {
    const rec = this.rec!;
    rec[this.recLen++] = i;
    if (this.recLen < rec.length) return;
    this.syncCurrent();
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
    // The replay takes over from here; `current` (synced above) is where it starts.
    this.lazy = false;
    this.period = rec;
    this.periodMask = this.recMask;
    this.periodGen = this.recGen;
    this.periodSkip = this.recMask === undefined ? null : this.recMask.skip.slice();
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
    const skip = this.periodSkip;
    for (let i = 0; i < this.n; i++) if (skip === null || skip[i] === 0) current[i]! += pos * weight[i]!;
    const period = this.period!;
    for (let k = 0; k < pos; k++) current[period[k]!]! -= this.periodTotal;
    this.period = null;
    this.base = null;
    this.periodSkip = null;
  }
}

/** Groups servers by weight; null when there are more than MAX_WEIGHT_CLASSES distinct weights. */
function weightClasses(weight: Float64Array): WeightClasses | null {
  const index = new Map<number, number>();
  const classOf = new Int32Array(weight.length);
  const counts: number[] = [];
  for (let i = 0; i < weight.length; i++) {
    let k = index.get(weight[i]!);
    if (k === undefined) {
      if (index.size === MAX_WEIGHT_CLASSES) return null;
      index.set(weight[i]!, (k = index.size));
      counts.push(0);
    }
    classOf[i] = k;
    counts[k]!++;
  }
  return {
    weightOf: Float64Array.from(index.keys()),
    classOf,
    buf: counts.map((c) => new Int32Array(2 * c)),
    head: new Int32Array(counts.length),
    gapAt: new Int32Array(counts.length),
    gapLen: new Int32Array(counts.length),
    size: new Int32Array(counts.length),
    member: new Uint8Array(weight.length),
    maxWeight: Math.max(...index.keys()),
  };
}

function gen(mask: SkipMask | undefined): number {
  return mask === undefined ? 0 : mask.generation;
}

/** Whether `mask` is `ref` unchanged since generation `refGen`. */
function same(mask: SkipMask | undefined, ref: SkipMask | undefined | null, refGen: number): boolean {
  return mask === ref && gen(mask) === refGen;
}
