/**
 * kill -9 a process in the middle of appending, three times on the same data dir: every change
 * it acknowledged must be recovered, exactly, and each run continues from the recovered state.
 * The writer also compacts every 64 changes, so some kills land around a compaction.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { FileStore } from '../../src/core/store/file-store.ts';
import { expectedState } from '../support/store-writer.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WRITER = join(ROOT, 'test', 'support', 'store-writer.ts');
const KILL_AFTER_ACKS = 300;
const KILL_AFTER_MS = 10_000;

interface Run {
  readonly startSeq: number;
  readonly acks: number;
  readonly maxAck: number;
  readonly signal: NodeJS.Signals | null;
  readonly code: number | null;
  readonly stderr: string;
}

/** Runs the writer until it has printed ~KILL_AFTER_ACKS acks (or 10 s passed), then SIGKILLs it. */
async function runWriterAndKill(dir: string): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dir, '4', '64'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), KILL_AFTER_MS);
  let startSeq = -1;
  let acks = 0;
  let maxAck = 0;
  // ~300 acks, jittered by up to one compaction period so kills land at varied points of it.
  const killAt = KILL_AFTER_ACKS + Math.floor(Math.random() * 64);
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  for await (const line of createInterface({ input: child.stdout })) {
    const [word, num] = line.split(' ');
    if (word === 'ready') startSeq = Number(num);
    if (word !== 'ack') continue;
    maxAck = Math.max(maxAck, Number(num));
    if (++acks === killAt) child.kill('SIGKILL');
  }
  const [code, signal] = await exited;
  clearTimeout(timer);
  return { startSeq, acks, maxAck, signal, code, stderr };
}

describe('FileStore under kill -9', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('recovers every acknowledged change after each of three kills', { timeout: 40_000 }, async (t) => {
    const dir = join(await mkdtemp(join(tmpdir(), 'checkups-crash-')), 'data');
    dirs.push(dirname(dir));
    let previousLastSeq = 0;
    for (let round = 1; round <= 3; round++) {
      const started = performance.now();
      const run = await runWriterAndKill(dir);
      assert.equal(run.signal, 'SIGKILL', `writer exited on its own (code ${run.code}): ${run.stderr}`);
      assert.equal(run.startSeq, previousLastSeq, 'the writer continues from the recovered state');
      assert.ok(run.acks >= KILL_AFTER_ACKS, `only ${run.acks} acks in ${KILL_AFTER_MS} ms`);

      // The writer's LOCK names a dead pid now: opening takes it over.
      const store = new FileStore(dir);
      const state = await store.open();
      await store.close();
      assert.ok(state.lastSeq >= run.maxAck, `recovered seq ${state.lastSeq} < acknowledged ${run.maxAck}`);
      assert.deepEqual([...state.upstreams], [...expectedState(state.lastSeq)]);
      t.diagnostic(
        `round ${round}: ${run.acks} acks seen, max acked ${run.maxAck}, recovered ${state.lastSeq} ` +
          `(${state.lastSeq - run.maxAck} durable but unseen), ${(performance.now() - started).toFixed(0)} ms`,
      );
      previousLastSeq = state.lastSeq;
    }
  });
});
