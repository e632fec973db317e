/**
 * Request outcomes on their way to the server: queued in memory (bounded; when full the oldest
 * is dropped, so a server that is away costs a fixed amount of memory), sent in batches with one
 * FeedbackBatch RPC in flight at a time, never on the request's path.
 */
import type { FeedbackRequest } from '../generated/checkups/v1/FeedbackRequest.ts';
import type { Clock, Timer } from '../util/clock.ts';

export interface FeedbackQueueOptions {
  /** Outcomes kept while the server cannot take them (default 10,000). */
  readonly maxQueue?: number;
  /** Largest batch (default 500). */
  readonly maxBatch?: number;
  /** How long an outcome may wait for company before it is sent (default 50 ms). */
  readonly flushMs?: number;
  /** Wait after a failed send (default 1,000 ms). */
  readonly retryMs?: number;
}

export type SendBatch = (outcomes: FeedbackRequest[]) => Promise<void>;

export class FeedbackQueue {
  private queue: FeedbackRequest[] = [];
  private head = 0;
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private sending = false;
  /** Outcomes pushed out of the queue (oldest first) while a batch was in flight. */
  private droppedWhileSending = 0;
  private closed = false;
  dropped = 0;
  sent = 0;

  constructor(
    private readonly send: SendBatch,
    private readonly clock: Clock,
    private readonly opts: FeedbackQueueOptions = {},
  ) {}

  get queued(): number {
    return this.queue.length - this.head;
  }

  push(outcome: FeedbackRequest): void {
    if (this.closed) return;
    if (this.queued >= (this.opts.maxQueue ?? 10_000)) {
      this.head++;
      this.dropped++;
      if (this.sending) this.droppedWhileSending++;
    }
    this.queue.push(outcome);
    if (this.queued >= (this.opts.maxBatch ?? 500)) this.flushSoon(0);
    else this.flushSoon(this.opts.flushMs ?? 50);
  }

  /** Sends what is queued now (best effort) and stops. */
  async close(): Promise<void> {
    this.closed = true;
    this.timer?.cancel();
    while (this.sending) await new Promise((r) => setImmediate(r));
    if (this.queued > 0) await this.flush().catch(() => undefined);
  }

  private flushSoon(ms: number): void {
    if (this.sending) return;
    const at = this.clock.now() + ms;
    if (this.timer !== undefined) {
      if (this.timerAt <= at) return;
      this.timer.cancel();
    }
    this.timerAt = at;
    this.timer = this.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.flush().catch(() => this.flushSoon(this.opts.retryMs ?? 1000));
    });
  }

  private async flush(): Promise<void> {
    if (this.sending || this.queued === 0) return;
    this.sending = true;
    this.droppedWhileSending = 0;
    const batch = this.queue.slice(this.head, this.head + (this.opts.maxBatch ?? 500));
    try {
      await this.send(batch);
      // Only now remove them: a failed send keeps them for the retry. The oldest (this batch's
      // first ones) may have been pushed out meanwhile; remove only what is still queued.
      this.head += Math.max(0, batch.length - this.droppedWhileSending);
      this.sent += batch.length;
      if (this.head > 4096) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
    } finally {
      this.sending = false;
    }
    if (this.queued > 0 && !this.closed) this.flushSoon(0);
  }
}
