import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FeedbackQueue } from '../../src/client/feedback-queue.ts';
import type { FeedbackRequest } from '../../src/generated/checkups/v1/FeedbackRequest.ts';
import { flush } from '../support/async.ts';
import { FakeClock } from '../support/fake-clock.ts';

const outcome = (n: number): FeedbackRequest => ({ skey: 's', host: 'h', port: n, failed: true });

describe('FeedbackQueue', () => {
  it('batches outcomes that arrive within the flush window into one send', async () => {
    const clock = new FakeClock(0);
    const sent: number[][] = [];
    const q = new FeedbackQueue(async (b) => void sent.push(b.map((o) => o.port!)), clock, { flushMs: 50 });
    for (let i = 0; i < 10; i++) q.push(outcome(i));
    assert.deepEqual(sent, []);
    clock.advance(50);
    await flush();
    assert.deepEqual(sent, [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]);
    assert.equal(q.queued, 0);
  });

  it('sends a full batch at once, one send in flight at a time', async () => {
    const clock = new FakeClock(0);
    const sizes: number[] = [];
    let inFlight = 0;
    const q = new FeedbackQueue(
      async (b) => {
        inFlight++;
        assert.equal(inFlight, 1);
        sizes.push(b.length);
        await flush();
        inFlight--;
      },
      clock,
      { maxBatch: 100, flushMs: 1000 },
    );
    for (let i = 0; i < 250; i++) q.push(outcome(i));
    clock.advance(0);
    for (let i = 0; i < 5; i++) {
      await flush();
      clock.advance(0);
    }
    clock.advance(1000);
    await flush();
    assert.deepEqual(sizes, [100, 100, 50]);
  });

  it('while the server is away: bounded, drops the oldest, retries, then delivers the newest in order', async () => {
    const clock = new FakeClock(0);
    let up = false;
    const delivered: number[] = [];
    const q = new FeedbackQueue(
      async (b) => {
        if (!up) throw new Error('UNAVAILABLE');
        delivered.push(...b.map((o) => o.port!));
      },
      clock,
      { maxQueue: 5, flushMs: 10, retryMs: 100 },
    );
    for (let i = 0; i < 8; i++) q.push(outcome(i));
    assert.equal(q.queued, 5);
    assert.equal(q.dropped, 3);
    clock.advance(10);
    await flush();
    assert.deepEqual(delivered, []);
    up = true;
    clock.advance(100);
    await flush();
    assert.deepEqual(delivered, [3, 4, 5, 6, 7]);
    assert.equal(q.queued, 0);
  });

  it('close() sends what is left', async () => {
    const clock = new FakeClock(0);
    const delivered: number[] = [];
    const q = new FeedbackQueue(async (b) => void delivered.push(...b.map((o) => o.port!)), clock, { flushMs: 10_000 });
    q.push(outcome(1));
    q.push(outcome(2));
    await q.close();
    assert.deepEqual(delivered, [1, 2]);
    q.push(outcome(3));
    assert.equal(q.queued, 0, 'closed queues take nothing');
  });
});
