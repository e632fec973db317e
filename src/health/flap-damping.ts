/**
 * Flap damping (in the spirit of BGP route-flap damping, RFC 2439): a peer whose own status
 * changes more than `threshold` times within `windowMs` is held err for a penalty; each further
 * flap while held (or before the penalty has decayed) doubles it, up to `maxPenaltyMs`; every
 * quiet window (no flap) halves it again, down to `penaltyMs`. Pure functions over monotonic
 * milliseconds: the health checker keeps one FlapState per peer and asks `dampedUntil`.
 *
 * A hold ends at its time; the peer's next probe result then decides its status (so a peer that
 * is still flapping is caught again at once, with the doubled penalty).
 */
import type { FlapDampingSpec } from '../core/model.ts';

export interface FlapState {
  /** Monotonic ms of the status changes within the window, oldest first (at most threshold + 1). */
  readonly changes: readonly number[];
  /** The hold the next damping starts with. */
  readonly penaltyMs: number;
  /** Monotonic ms until which the peer is held err; 0 when not damped. */
  readonly heldUntil: number;
  /** The same moment in wall-clock ms, fixed when the hold was set (for status output). */
  readonly heldUntilWall: number;
  /** Monotonic ms of the last flap (for decay). */
  readonly lastFlapAt: number;
}

export const isDampingOn = (rules: FlapDampingSpec): boolean => rules.threshold > 0;

/** Folds one own-status change at `now` (monotonic; `wallNow` the same moment on the wall clock) into the state. */
export function recordFlap(prev: FlapState | undefined, now: number, wallNow: number, rules: FlapDampingSpec): FlapState {
  const base = rules.penaltyMs;
  let penaltyMs = prev?.penaltyMs ?? base;
  if (prev !== undefined) {
    // Decay: halve the next penalty for every whole quiet window since the last flap.
    const quietWindows = Math.floor((now - prev.lastFlapAt) / rules.windowMs);
    for (let i = 0; i < quietWindows && penaltyMs > base; i++) penaltyMs = Math.max(base, penaltyMs / 2);
  }
  const changes = [...(prev?.changes ?? []), now].filter((t) => t > now - rules.windowMs).slice(-(rules.threshold + 1));
  const held = prev !== undefined && now < prev.heldUntil;
  let heldUntil = held ? prev.heldUntil : 0;
  let heldUntilWall = held ? prev.heldUntilWall : 0;
  if (held || changes.length > rules.threshold) {
    heldUntil = now + penaltyMs;
    heldUntilWall = wallNow + penaltyMs;
    penaltyMs = Math.min(rules.maxPenaltyMs, penaltyMs * 2);
  }
  return { changes, penaltyMs, heldUntil, heldUntilWall, lastFlapAt: now };
}

/** The hold in force at `now` (monotonic and wall-clock end), or undefined when the peer is not damped. */
export function dampedUntil(state: FlapState | undefined, now: number): { readonly until: number; readonly untilWall: number } | undefined {
  return state !== undefined && now < state.heldUntil ? { until: state.heldUntil, untilWall: state.heldUntilWall } : undefined;
}

/** Status changes within the window ending at `now`. */
export function flapCount(state: FlapState | undefined, now: number, rules: FlapDampingSpec): number {
  return state === undefined ? 0 : state.changes.filter((t) => t > now - rules.windowMs).length;
}
