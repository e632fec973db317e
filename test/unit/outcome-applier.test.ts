/**
 * FeedbackBatch outcomes applied a chunk per turn of the event loop (src/server/outcome-applier.ts):
 * what arrives meanwhile runs between chunks; batches keep their order and go one at a time; the
 * outcomes waiting are bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_WAITING_OUTCOMES, OUTCOME_CHUNK, OutcomeApplier } from '../../src/server/outcome-applier.ts';
import { CheckupsError } from '../../src/util/errors.ts';

/** Resolves in the check phase of the loop's next turn, after I/O callbacks (where a SelectPeer would run). */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('outcome applier', () => {
  it('a batch of one chunk or less, alone, is applied within the call', async () => {
    const applier = new OutcomeApplier();
    const seen: number[] = [];
    const done = applier.apply(OUTCOME_CHUNK, (i) => seen.push(i));
    assert.equal(seen.length, OUTCOME_CHUNK);
    assert.equal(applier.waitingOutcomes, 0);
    await done;
  });

  it('a large batch yields between chunks: work queued meanwhile runs before the batch ends', async () => {
    const applier = new OutcomeApplier();
    const total = 20 * OUTCOME_CHUNK;
    const seen: number[] = [];
    let replied = false;
    const done = applier.apply(total, (i) => seen.push(i)).then(() => (replied = true));
    assert.equal(seen.length, OUTCOME_CHUNK, 'the first chunk at once, no more');
    // Another call arriving now is served in the next turn, with the batch part way through.
    await nextTurn();
    const atOtherCall = seen.length;
    assert.ok(atOtherCall > OUTCOME_CHUNK && atOtherCall < total, `${atOtherCall} applied when the other call ran`);
    assert.equal(replied, false);
    await done;
    assert.deepEqual(
      seen,
      Array.from({ length: total }, (_, i) => i),
      'every outcome once, in order',
    );
  });

  it('batches go one at a time, in arrival order; each replies once its own outcomes are applied', async () => {
    const applier = new OutcomeApplier();
    const seen: string[] = [];
    /** Each reply, with the outcomes applied by then. */
    const replies: Array<[string, number]> = [];
    const a = applier.apply(3 * OUTCOME_CHUNK, (i) => seen.push(`a${i}`)).then(() => replies.push(['a', seen.length]));
    const b = applier.apply(10, (i) => seen.push(`b${i}`)).then(() => replies.push(['b', seen.length]));
    const c = applier.apply(OUTCOME_CHUNK, (i) => seen.push(`c${i}`)).then(() => replies.push(['c', seen.length]));
    assert.equal(applier.waitingOutcomes, 3 * OUTCOME_CHUNK + 10, 'the first chunk of a went at once');
    await Promise.all([a, b, c]);
    assert.deepEqual(seen, [...Array.from({ length: 3 * OUTCOME_CHUNK }, (_, i) => `a${i}`), ...Array.from({ length: 10 }, (_, i) => `b${i}`), ...Array.from({ length: OUTCOME_CHUNK }, (_, i) => `c${i}`)]);
    // A reply leaves at the end of the turn that applied the batch's last outcome.
    assert.deepEqual(
      replies.map(([name]) => name),
      ['a', 'b', 'c'],
    );
    assert.ok(replies[0]![1] >= 3 * OUTCOME_CHUNK && replies[1]![1] >= 3 * OUTCOME_CHUNK + 10 && replies[2]![1] === 4 * OUTCOME_CHUNK + 10, JSON.stringify(replies));
    assert.equal(applier.waitingOutcomes, 0);
  });

  it(`at most ${MAX_WAITING_OUTCOMES} outcomes wait; a batch of any size may start when none do`, async () => {
    const applier = new OutcomeApplier();
    assert.equal(applier.room(2 * MAX_WAITING_OUTCOMES), true, 'nothing waits');
    const done = applier.apply(MAX_WAITING_OUTCOMES - 10, () => {});
    const waiting = applier.waitingOutcomes;
    assert.equal(waiting, MAX_WAITING_OUTCOMES - 10 - OUTCOME_CHUNK);
    assert.equal(applier.room(MAX_WAITING_OUTCOMES - waiting), true);
    assert.equal(applier.room(MAX_WAITING_OUTCOMES - waiting + 1), false);
    await done;
    assert.equal(applier.room(MAX_WAITING_OUTCOMES), true);
  });

  it('an outcome that throws fails its own batch only', async () => {
    const applier = new OutcomeApplier();
    const seen: string[] = [];
    const bad = applier.apply(2 * OUTCOME_CHUNK, (i) => {
      if (i === OUTCOME_CHUNK + 5) throw new Error('boom');
      seen.push(`bad${i}`);
    });
    const good = applier.apply(3, (i) => seen.push(`good${i}`));
    await assert.rejects(bad, /boom/);
    await good;
    assert.equal(seen.length, OUTCOME_CHUNK + 5 + 3);
    assert.deepEqual(seen.slice(-3), ['good0', 'good1', 'good2']);
    assert.equal(applier.waitingOutcomes, 0);
  });

  it('close refuses the batches still waiting and applies nothing more', async () => {
    const applier = new OutcomeApplier();
    let applied = 0;
    const first = applier.apply(4 * OUTCOME_CHUNK, () => applied++);
    const second = applier.apply(5, () => applied++);
    applier.close();
    const closed = (err: unknown) => err instanceof CheckupsError && err.code === 'CLOSED';
    await assert.rejects(first, (err) => closed(err) && (err as Error).message.includes(`after applying ${OUTCOME_CHUNK} of the batch's ${4 * OUTCOME_CHUNK} outcomes`));
    await assert.rejects(second, closed);
    await assert.rejects(applier.apply(1, () => applied++), closed);
    await nextTurn();
    assert.equal(applied, OUTCOME_CHUNK);
    assert.equal(applier.waitingOutcomes, 0);
  });
});
