/**
 * A Clock that moves only when told (Envoy's SimulatedTimeSystem): `advance(ms)` fires due
 * timers in due order, ties in the order they were set. Tests never sleep.
 */
import type { Clock, Timer } from '../../src/util/clock.ts';

interface Pending {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

export class FakeClock implements Clock {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(
    start = 1_000_000,
    private readonly wallOffset = Date.UTC(2026, 0, 1) - start,
  ) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.t + this.wallOffset;
  }

  setTimer(ms: number, fn: () => void): Timer {
    const p: Pending = { at: this.t + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.pending.push(p);
    return { cancel: () => void (p.cancelled = true) };
  }

  /** A deferred call is a zero-delay timer here: it runs at the next advance(), in order with the timers. */
  defer(fn: () => void): Timer {
    return this.setTimer(0, fn);
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      const due = this.pending.filter((p) => !p.cancelled && p.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.pending = this.pending.filter((p) => p !== due);
      this.t = due.at;
      due.fn();
    }
    this.t = end;
  }

  /** Timers not yet fired nor cancelled. */
  get pendingCount(): number {
    return this.pending.filter((p) => !p.cancelled).length;
  }
}
