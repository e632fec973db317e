/**
 * Slow start, as Envoy defines it (docs/compat.md "Slow start"): a peer that becomes usable is
 * picked with its weight scaled by
 *
 *   factor = max(minWeightPercent / 100, (elapsed / window) ^ (1 / aggression))
 *
 * until `window` has passed since it became usable; then it has its full weight again.
 *
 * Where the time comes from. The registry (server) records when each peer became usable, on the
 * injected clock; Watch snapshots carry it so the SDK ramps from the same moment on its own
 * clock (wire/upstream.ts). Nothing here reads a clock: the picker is given `now` with each pick,
 * and no timer runs per peer - the factor is computed when a pick needs it.
 *
 * Exactness. The factor is used in steps of 1/RAMP_STEPS (rounded up) and time in ticks of
 * window/RAMP_STEPS, so a ramping weight is `weight * q / 1024` with q an integer: a dyadic
 * rational that float64 adds exactly (while the sums stay below 2^42), so smooth WRR's lazy
 * form and its plain O(n) step still pick the very same sequence (smooth-wrr.ts), and the factor
 * is recomputed once per tick instead of once per pick.
 */
import type { SlowStartSpec } from '../core/model.ts';

/** Resolution of the factor: a ramping weight is weight * q / RAMP_STEPS, q in 1..RAMP_STEPS. */
export const RAMP_STEPS = 1024;

/** Whether slow start is on for an upstream. */
export function slowStartOn(spec: SlowStartSpec): boolean {
  return spec.windowMs > 0;
}

/** Envoy's factor, unquantised: the share of its weight a peer gets `elapsedMs` after it became usable. */
export function slowStartFactor(elapsedMs: number, spec: SlowStartSpec): number {
  if (elapsedMs >= spec.windowMs) return 1;
  const x = Math.max(0, elapsedMs) / spec.windowMs;
  const ramp = spec.aggression === 1 ? x : x ** (1 / spec.aggression);
  return Math.min(1, Math.max(spec.minWeightPercent / 100, ramp));
}

/** The tick `now` falls in: the factor is evaluated at tick starts. */
export function rampTick(now: number, spec: SlowStartSpec): number {
  return Math.floor(now / tickMs(spec));
}

function tickMs(spec: SlowStartSpec): number {
  return Math.max(1, spec.windowMs / RAMP_STEPS);
}

/**
 * The quantised factor (q of RAMP_STEPS) of a peer that became usable at `startedAt`, at tick
 * `tick`; RAMP_STEPS once its window is over. At least 1, so a ramping peer is never starved.
 */
export function rampSteps(startedAt: number, tick: number, spec: SlowStartSpec): number {
  const elapsed = tick * tickMs(spec) - startedAt;
  if (elapsed >= spec.windowMs) return RAMP_STEPS;
  return Math.min(RAMP_STEPS, Math.max(1, Math.ceil(slowStartFactor(elapsed, spec) * RAMP_STEPS)));
}

/**
 * Which servers of one cluster ramp, and since when: written by the balancer when a server's
 * eligibility or ramp start changes (never per pick), read by the cluster's picker. Changes are
 * queued (each index at most once) for the picker to take in at its next pick, so it never
 * scans all servers to find them.
 */
export class SlowStartRamp {
  /** Per server: when its ramp began (the engine's clock), NaN when it has its full weight. */
  readonly start: Float64Array;
  /** Servers whose start changed since the picker last took them in. */
  readonly pending: number[] = [];
  private readonly queued: Uint8Array;

  constructor(
    size: number,
    readonly spec: SlowStartSpec,
  ) {
    this.start = new Float64Array(size).fill(NaN);
    this.queued = new Uint8Array(size);
  }

  /** Server `i` ramps from `at` (a repeated call with the same start changes nothing). */
  begin(i: number, at: number): void {
    if (this.start[i] === at) return;
    this.start[i] = at;
    this.queue(i);
  }

  /** Server `i` has its full weight (or is not eligible: a later begin starts a new ramp). */
  end(i: number): void {
    if (Number.isNaN(this.start[i]!)) return;
    this.start[i] = NaN;
    this.queue(i);
  }

  /** Hands the queued changes to the picker (and forgets them). */
  take(fn: (i: number) => void): void {
    const pending = this.pending;
    for (let k = 0; k < pending.length; k++) {
      const i = pending[k]!;
      this.queued[i] = 0;
      fn(i);
    }
    pending.length = 0;
  }

  private queue(i: number): void {
    if (this.queued[i] !== 0) return;
    this.queued[i] = 1;
    this.pending.push(i);
  }
}
