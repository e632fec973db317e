/**
 * Applies the outcomes of FeedbackBatch calls without holding the event loop for a whole batch.
 * A failure can exclude a peer (its verdict published, an event recorded), so a mass failure
 * (ten batches of 100 failures arriving together) handled batch after batch, synchronously, held
 * the loop for a few hundred ms, and a SelectPeer or GetStatus sent meanwhile waited for all of
 * it (docs/churn.md, "Mass failure"). Here at most OUTCOME_CHUNK outcomes are applied in one
 * turn of the loop; then it serves what arrived meanwhile before the next chunk.
 *
 * - **Order.** Batches are applied one at a time, in the order they arrived, each in its own
 *   order: the order of outcomes is what handling each batch whole on arrival gave.
 * - **Bound.** One batch is being applied at any moment; the others wait their turn holding only
 *   their decoded request. At most MAX_WAITING_OUTCOMES outcomes wait (queued or being applied):
 *   a batch that would go over is refused whole before it takes anything from its caller's
 *   rate limit (`room`), unless nothing waits, so a batch of any admitted size still runs.
 *   Work that yields could otherwise pile up without end while the loop serves new calls.
 * - **Replies.** A batch's `apply` resolves once all its outcomes are applied; a batch small
 *   enough and alone is applied at once, within the call, as before.
 */
import { feedbackOutcomesWaiting } from '../observability/metrics.ts';
import { CheckupsError } from '../util/errors.ts';

/**
 * Outcomes applied in one turn of the event loop (a failure that excludes costs ~0.1 ms). 16, not
 * 64: a GetStatus answer of 1 MB crosses HTTP/2 in 64 KiB flow-control windows, one round trip
 * between the loops of client and server each, so it waits about a turn per window (fleet bench,
 * GetStatus p99 during the mass failure: 140-252 ms with 64, 62 and 138 ms with 16; docs/churn.md,
 * "Mass failure").
 */
export const OUTCOME_CHUNK = 16;
/** Most outcomes waiting to be applied, over every batch in flight. */
export const MAX_WAITING_OUTCOMES = 100_000;

interface Job {
  readonly apply: (index: number) => void;
  readonly length: number;
  next: number;
  readonly resolve: () => void;
  readonly reject: (err: Error) => void;
}

export class OutcomeApplier {
  /** Batches in arrival order; `head` is the one being applied. */
  private queue: Job[] = [];
  private head = 0;
  private waiting = 0;
  /** A turn is running or set to run: a new batch waits for it. */
  private turning = false;
  private closed = false;

  /** Outcomes queued or being applied. */
  get waitingOutcomes(): number {
    return this.waiting;
  }

  /** Whether a batch of `n` outcomes may be queued now (ask before taking the caller's tokens). */
  room(n: number): boolean {
    return this.waiting === 0 || this.waiting + n <= MAX_WAITING_OUTCOMES;
  }

  /**
   * Calls `apply(i)` for i = 0 .. length - 1 in order, in chunks, after the batches queued
   * before; resolves when the last is done. `apply` should not throw (a batch reports each
   * outcome's problem in its reply): if it does, the batch stops there and the promise rejects.
   */
  apply(length: number, apply: (index: number) => void): Promise<void> {
    if (this.closed) return Promise.reject(new CheckupsError('CLOSED', 'the server is stopping: nothing of this batch was applied'));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ apply, length, next: 0, resolve, reject });
      this.waiting += length;
      feedbackOutcomesWaiting.set(this.waiting);
      if (!this.turning) {
        this.turning = true;
        this.turn();
      }
    });
  }

  /** Refuses the batches still waiting and applies nothing more (a forced shutdown). */
  close(): void {
    this.closed = true;
    const left = this.queue.slice(this.head);
    this.queue = [];
    this.head = 0;
    this.waiting = 0;
    feedbackOutcomesWaiting.set(0);
    for (const job of left) job.reject(new CheckupsError('CLOSED', `the server stopped after applying ${job.next} of the batch's ${job.length} outcomes`));
  }

  /** One chunk: OUTCOME_CHUNK outcomes from the queue's head on (possibly several small batches). */
  private turn(): void {
    let budget = OUTCOME_CHUNK;
    while (budget > 0 && this.head < this.queue.length) {
      const job = this.queue[this.head]!;
      const end = Math.min(job.length, job.next + budget);
      const from = job.next;
      try {
        for (; job.next < end; job.next++) job.apply(job.next);
      } catch (err) {
        this.finish(job.length - from);
        job.reject(err instanceof Error ? err : new Error(String(err)));
        continue;
      }
      budget -= end - from;
      this.waiting -= end - from;
      if (job.next === job.length) {
        this.finish(0);
        job.resolve();
      }
    }
    feedbackOutcomesWaiting.set(this.waiting);
    if (this.head < this.queue.length && !this.closed) setImmediate(() => this.turn());
    else this.turning = false;
  }

  /** Takes the head job off the queue, with `unapplied` of its outcomes no longer waiting. */
  private finish(unapplied: number): void {
    this.waiting -= unapplied;
    this.head++;
    // Compact now and then: the array does not keep every batch ever queued.
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 1024) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
