/**
 * ProbeScheduler: runs one check per target every interval, for tens of thousands of targets,
 * on one timer. Built against the known failures of OpenResty checkers: timers re-arming themselves and dying silently, one hung server stalling
 * every later probe, cycles drifting by their own duration.
 *
 * - Per-target due times in a min-heap; one clock timer armed for the earliest. O(log n) a probe.
 * - Start to start: the schedule advances from the planned start (`base += interval`), never from
 *   when a probe ended, so probe duration causes no drift. The interval is read when a probe ends,
 *   after its result was recorded, so a target that just turned unhealthy is next probed at the
 *   unhealthy interval. A start missed entirely (the previous
 *   probe ran past it) is skipped, not queued: a target never has two probes in flight.
 * - Late starts re-phase: a start later than a tenth of the interval (a backlog after a stall, at
 *   start-up, when shards move to this instance) moves the target's schedule to that start. Kept
 *   on the old phase, a target started 3 s late would be probed again 2 s later, and a backlog
 *   drained over an interval probed a third of the targets twice in it; so a backend is never
 *   probed again sooner than 0.9 interval (less jitter) after the last start.
 * - Spread: a random initial phase in [0, interval) and a small random offset per interval
 *   (`jitter`, a fraction of the interval) so targets do not synchronise.
 * - Bounded: at most `concurrency` probes in flight; due targets wait in the heap.
 * - Gathered: one wake-up starts every target planned within `gatherMs` of it (and within
 *   `gatherShare` of the target's own interval).
 * - In slices: one wake-up starts probes for at most `sliceMs`, then yields to the event loop
 *   (Clock.defer: after the turn's I/O, without sleeping) before it starts more, so a backlog of due targets (after a stall, or
 *   at start) never holds the loop: verdicts, RPCs and stream writes are served between the
 *   slices. A probe that ends frees its slot for the next wake-up (a timer, at once when targets
 *   are due), not for a start in the same turn.
 * - Hard deadline: each probe gets a ProbeDeadline that expires at its timeout. A probe that ignores
 *   it is abandoned `graceMs` later (its slot is freed and it is counted as hung), so nothing a
 *   target does can hold the loop.
 * - Watchdog: a second timer checks that due work is being started; if the loop is found idle
 *   with overdue targets and free slots it says so (`onWatchdog`) and restarts dispatching.
 *
 * All time comes from the injected Clock; randomness from `random`.
 */
import type { Clock, Timer } from '../util/clock.ts';
import { MinHeap, type HeapEntry } from '../util/heap.ts';
import { ProbeDeadline } from './probes/deadline.ts';
import { schedulerLateness } from '../observability/metrics.ts';

export interface SchedulerOptions<T> {
  readonly clock: Clock;
  readonly random: () => number;
  /** Most probes in flight at once. */
  readonly concurrency: number;
  /** Offset per interval, as a fraction of it: 0.02 = up to ±2%. */
  readonly jitter?: number;
  /** How long past its deadline a probe that ignores its signal may hold its slot. */
  readonly graceMs?: number;
  /** Watchdog period. */
  readonly watchdogMs?: number;
  /**
   * Targets planned within this many ms after a wake-up start with it (default 0): one timer
   * wake-up, and one turn of the event loop, serve them all. A wake-up per probe costs more
   * than the probe's own JavaScript at a few thousand probes a second; starting a few ms early
   * costs nothing a schedule of seconds can see.
   */
  readonly gatherMs?: number;
  /**
   * A target is gathered only while it is planned within this share of its own interval too
   * (default: no such bound), so a short interval is not cut by a gather window made for long ones.
   */
  readonly gatherShare?: number;
  /**
   * A wake-up yields to the event loop once it has spent this many ms starting probes (default:
   * no limit). Starting a TCP probe costs about 100 us of the loop, so 512 due at once held it
   * 50 ms on a quiet machine and several hundred on a busy one. In time, not a count: a count
   * cut too fine when the loop was busy (one slice per turn, and a turn can take tens of ms, so
   * probing fell behind).
   */
  readonly sliceMs?: number;
  interval(target: T): number;
  timeout(target: T): number;
  /** One check. A throw or rejection is the caller's to record; the scheduler only times it. */
  run(target: T, deadline: ProbeDeadline): Promise<void>;
  onWatchdog?(report: WatchdogReport): void;
}

export interface WatchdogReport {
  /** Overdue targets, free slots, and yet nothing started: the loop had stopped. */
  readonly stuck: boolean;
  /** All slots busy while targets are overdue: probing cannot keep up. */
  readonly saturated: boolean;
  /** How late the most overdue target is, ms. */
  readonly overdueMs: number;
  readonly running: number;
  readonly hung: number;
}

export interface SchedulerStats {
  readonly targets: number;
  readonly running: number;
  readonly started: number;
  readonly completed: number;
  /** Probes abandoned after deadline + grace. */
  readonly hung: number;
  /** Scheduling lateness (actual start - planned start) over the recent window, ms. */
  readonly lateness: { readonly p50: number; readonly p99: number; readonly max: number; readonly samples: number };
  /** Monotonic time of the last probe start, or null. */
  readonly lastStartAt: number | null;
  readonly watchdog: WatchdogReport | null;
}

interface Slot<T> {
  readonly key: string;
  target: T;
  /** Planned start without jitter; advances by the interval, or moves to a start late enough to re-phase. */
  base: number;
  /** The interval its plan was made with (read when it was added, then when each probe ended). */
  interval: number;
  /** Bumped whenever the slot's heap entry is superseded or the slot is removed. */
  gen: number;
  run: number;
  running: boolean;
  removed: boolean;
}

interface Entry<T> extends HeapEntry {
  readonly slot: Slot<T>;
  readonly gen: number;
}

const LATENESS_WINDOW = 16_384;
/** A start later than this share of the interval moves the target's schedule to that start. */
const REPHASE_AFTER = 0.1;

export class ProbeScheduler<T> {
  private readonly slots = new Map<string, Slot<T>>();
  private readonly heap = new MinHeap<Entry<T>>();
  private seq = 0;
  private running = 0;
  private started = 0;
  private completed = 0;
  private hung = 0;
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private watchdogTimer: Timer | undefined;
  private active = false;
  private lastStartAt: number | null = null;
  private lastReport: WatchdogReport | null = null;
  /** A deferred call is armed to go on starting due targets (see sliceMs). */
  private yielding = false;
  private yieldArmedAt = 0;
  private readonly lateness = new Float64Array(LATENESS_WINDOW);
  private latenessCount = 0;

  constructor(private readonly opts: SchedulerOptions<T>) {}

  get size(): number {
    return this.slots.size;
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.armWatchdog();
    this.dispatch();
  }

  /** Stops starting probes and aborts nothing: in-flight probes finish or hit their deadline. */
  stop(): void {
    this.active = false;
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
    this.watchdogTimer?.cancel();
    this.watchdogTimer = undefined;
  }

  has(key: string): boolean {
    return this.slots.has(key);
  }

  /**
   * Starts probing `key` (first start at a random phase within one interval, or within
   * `firstWithinMs` when given), or replaces its target.
   */
  add(key: string, target: T, firstWithinMs?: number): void {
    const existing = this.slots.get(key);
    if (existing !== undefined) {
      existing.target = target;
      return;
    }
    const now = this.opts.clock.now();
    const interval = this.opts.interval(target);
    const slot: Slot<T> = { key, target, base: now + this.opts.random() * Math.min(firstWithinMs ?? Infinity, interval), interval, gen: 0, run: 0, running: false, removed: false };
    this.slots.set(key, slot);
    // The first start is at a random phase already: no extra jitter.
    this.heap.push({ at: slot.base, seq: this.seq++, slot, gen: slot.gen });
    this.dispatch();
  }

  /** Stops probing `key`. A probe in flight is left to finish; its result is the caller's to ignore. */
  remove(key: string): void {
    const slot = this.slots.get(key);
    if (slot === undefined) return;
    this.slots.delete(key);
    slot.removed = true;
    slot.gen++;
  }

  stats(): SchedulerStats {
    const n = Math.min(this.latenessCount, LATENESS_WINDOW);
    const sorted = this.lateness.slice(0, n).sort();
    const at = (q: number) => (n === 0 ? 0 : sorted[Math.min(n - 1, Math.floor(q * n))]!);
    return {
      targets: this.slots.size,
      running: this.running,
      started: this.started,
      completed: this.completed,
      hung: this.hung,
      lateness: { p50: at(0.5), p99: at(0.99), max: n === 0 ? 0 : sorted[n - 1]!, samples: n },
      lastStartAt: this.lastStartAt,
      watchdog: this.lastReport,
    };
  }

  /** Forgets lateness samples (benchmarks measure a steady state). */
  resetLateness(): void {
    this.latenessCount = 0;
  }

  private enqueue(slot: Slot<T>, base: number): void {
    const span = slot.interval * (this.opts.jitter ?? 0);
    const at = base + (span > 0 ? (this.opts.random() * 2 - 1) * span : 0);
    this.heap.push({ at, seq: this.seq++, slot, gen: slot.gen });
  }

  private dispatch(): void {
    if (!this.active) return;
    const now = this.opts.clock.now();
    const gatherMs = this.opts.gatherMs ?? 0;
    const gatherShare = this.opts.gatherShare ?? Infinity;
    const sliceEnd = now + (this.opts.sliceMs ?? Infinity);
    let startedNow = 0;
    while (this.running < this.opts.concurrency) {
      const top = this.heap.peek();
      if (top === undefined) break;
      if (top.gen !== top.slot.gen || top.slot.removed) {
        this.heap.pop();
        continue;
      }
      if (top.at > now + Math.min(gatherMs, top.slot.interval * gatherShare)) break;
      if (startedNow > 0 && this.opts.clock.now() >= sliceEnd) {
        this.yieldTurn();
        return;
      }
      this.heap.pop();
      startedNow++;
      this.launch(top.slot, top.at, now);
    }
    this.armTimer();
  }

  /** Lets the event loop run, then goes on starting due targets. */
  private yieldTurn(): void {
    if (this.yielding) return;
    this.yielding = true;
    this.yieldArmedAt = this.opts.clock.now();
    this.opts.clock.defer(() => {
      this.yielding = false;
      this.dispatch();
    });
  }

  private armTimer(): void {
    let top = this.heap.peek();
    while (top !== undefined && (top.gen !== top.slot.gen || top.slot.removed)) {
      this.heap.pop();
      top = this.heap.peek();
    }
    if (top === undefined || this.running >= this.opts.concurrency) return;
    if (this.timer !== undefined && this.timerAt <= top.at) return;
    this.timer?.cancel();
    this.timerAt = top.at;
    this.timer = this.opts.clock.setTimer(Math.max(0, top.at - this.opts.clock.now()), () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.dispatch();
    });
  }

  private launch(slot: Slot<T>, plannedAt: number, now: number): void {
    const { clock } = this.opts;
    const run = ++slot.run;
    slot.running = true;
    this.running++;
    this.started++;
    this.lastStartAt = now;
    const late = Math.max(0, now - plannedAt);
    // Late enough to re-phase: the schedule goes on from this start.
    if (late > slot.interval * REPHASE_AFTER) slot.base = now;
    this.lateness[this.latenessCount++ % LATENESS_WINDOW] = late;
    schedulerLateness.observe(late / 1000);
    const timeout = this.opts.timeout(slot.target);
    const deadline = new ProbeDeadline(timeout);
    let abandon: Timer | undefined;
    const deadlineTimer = clock.setTimer(timeout, () => {
      deadline.expire();
      abandon = clock.setTimer(this.opts.graceMs ?? 1000, () => {
        if (slot.running && slot.run === run) {
          this.hung++;
          finish();
        }
      });
    });
    const finish = () => {
      if (!slot.running || slot.run !== run) return;
      deadlineTimer.cancel();
      abandon?.cancel();
      slot.running = false;
      this.running--;
      this.completed++;
      if (!slot.removed) {
        const interval = this.opts.interval(slot.target);
        slot.interval = interval;
        const nowDone = clock.now();
        let base = slot.base + interval;
        if (base < nowDone) base += Math.ceil((nowDone - base) / interval) * interval;
        slot.base = base;
        slot.gen++;
        this.enqueue(slot, base);
      }
      // The next due target starts from a timer, not here: probes end in batches (one turn of
      // the loop handles every connect that completed), and starting one per end in the same
      // turn made the turn as long as the batch was big (512 ends and 512 starts when probing
      // ran behind), while verdicts and RPCs waited.
      this.armTimer();
    };
    // Called synchronously so the probe starts at its planned instant; a synchronous throw is a failed run.
    let done: Promise<void>;
    try {
      done = this.opts.run(slot.target, deadline);
    } catch (err) {
      done = Promise.reject(err);
    }
    done.then(finish, finish);
  }

  private armWatchdog(): void {
    const period = this.opts.watchdogMs ?? 1000;
    this.watchdogTimer = this.opts.clock.setTimer(period, () => {
      try {
        this.inspect(period);
      } finally {
        if (this.active) this.armWatchdog();
      }
    });
  }

  private inspect(period: number): void {
    const now = this.opts.clock.now();
    let top = this.heap.peek();
    while (top !== undefined && (top.gen !== top.slot.gen || top.slot.removed)) {
      this.heap.pop();
      top = this.heap.peek();
    }
    const overdueMs = top === undefined ? 0 : Math.max(0, now - top.at);
    const late = overdueMs > period;
    const saturated = late && this.running >= this.opts.concurrency;
    // Working off a backlog in slices (after the loop itself was held up): not stuck, unless the
    // slice's timer is older than a watchdog period (then it was lost too).
    const slicing = this.yielding && now - this.yieldArmedAt < period;
    const stuck = late && !saturated && !slicing;
    this.lastReport = { stuck, saturated, overdueMs, running: this.running, hung: this.hung };
    if (stuck || saturated) this.opts.onWatchdog?.(this.lastReport);
    if (stuck) {
      // Whatever stopped the loop, start it again: drop the (lost) timers and dispatch now.
      this.timer?.cancel();
      this.timer = undefined;
      this.timerAt = Infinity;
      this.yielding = false;
      this.dispatch();
    }
  }
}
