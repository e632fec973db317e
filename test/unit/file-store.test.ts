/**
 * The durable store on real files in a temp dir: recovery order, group commit, compaction, and
 * every kind of damage giving DATA_CORRUPT (never a silent drop), the data dir lock.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { RawUpstream } from '../../src/core/document.ts';
import { crc32Hex } from '../../src/core/store/crc32.ts';
import { FileStore } from '../../src/core/store/file-store.ts';
import { CheckupsError } from '../../src/util/errors.ts';

const dirs: string[] = [];
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'checkups-store-'));
  dirs.push(dir);
  return join(dir, 'data'); // not created yet: open() must create it
}

const doc = (port: number): RawUpstream => ({ typ: 'http', cluster: [{ servers: [{ host: '10.0.0.1', port }] }] });

/** Opens, runs `fn`, closes; returns what a fresh store then recovers. */
async function withStore(dir: string, fn: (s: FileStore) => Promise<void>, compactEvery?: number) {
  const store = new FileStore(dir, compactEvery === undefined ? {} : { compactEvery });
  await store.open();
  await fn(store);
  await store.close();
  return store;
}

async function recover(dir: string) {
  const store = new FileStore(dir);
  try {
    return await store.open();
  } finally {
    await store.close();
  }
}

function isCorrupt(...patterns: RegExp[]) {
  return (err: unknown) => {
    assert.ok(err instanceof CheckupsError, String(err));
    assert.equal(err.code, 'DATA_CORRUPT');
    for (const p of patterns) assert.match(err.message, p);
    return true;
  };
}

/** Writes 3 changes and returns the dir and the log's path. */
async function threeChanges() {
  const dir = await tempDir();
  await withStore(dir, async (s) => {
    await s.append({ op: 'put', skey: 'a', upstream: doc(1) });
    await s.append({ op: 'put', skey: 'b', upstream: doc(2) });
    await s.append({ op: 'put', skey: 'c', upstream: doc(3) });
  });
  return { dir, log: join(dir, 'changes.log') };
}

function spawnNode(code: string) {
  return spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
}

describe('FileStore', () => {
  it('crc32 is the IEEE/zlib one', () => {
    assert.equal(crc32Hex('123456789'), 'cbf43926');
    assert.equal(crc32Hex(''), '00000000');
  });

  it('recovers put/delete/put in the order skeys were first touched', async () => {
    const dir = await tempDir();
    const seqs: number[] = [];
    await withStore(dir, async (s) => {
      seqs.push(await s.append({ op: 'put', skey: 'a', upstream: doc(1) }));
      seqs.push(await s.append({ op: 'put', skey: 'b', upstream: doc(2) }));
      seqs.push(await s.append({ op: 'delete', skey: 'a' }));
      seqs.push(await s.append({ op: 'put', skey: 'c', upstream: doc(3) }));
      seqs.push(await s.append({ op: 'delete', skey: 'b' }));
      seqs.push(await s.append({ op: 'put', skey: 'a', upstream: doc(4) }));
    });
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
    const state = await recover(dir);
    assert.equal(state.lastSeq, 6);
    assert.deepEqual([...state.upstreams], [['a', doc(4)], ['b', null], ['c', doc(3)]]);
    // Appending after a restart continues the seqs.
    await withStore(dir, async (s) => assert.equal(await s.append({ op: 'delete', skey: 'c' }), 7));
    assert.deepEqual([...(await recover(dir)).upstreams], [['a', doc(4)], ['b', null], ['c', null]]);
    assert.equal((await stat(dir)).mode & 0o777, 0o700);
    assert.equal((await stat(join(dir, 'changes.log'))).mode & 0o777, 0o600);
  });

  it('group commit: 200 concurrent appends share few syncs, seqs follow call order', async (t) => {
    const dir = await tempDir();
    const store = new FileStore(dir);
    await store.open();
    const started = performance.now();
    const acks = await Promise.all(Array.from({ length: 200 }, (_, i) => store.append({ op: 'put', skey: `s${i % 30}`, upstream: doc(i + 1) })));
    const ms = performance.now() - started;
    assert.deepEqual(acks, Array.from({ length: 200 }, (_, i) => i + 1));
    assert.ok(store.syncCount < 20, `syncCount ${store.syncCount}`);
    // Appends arriving while a sync is in flight join the next batch.
    const syncsBefore = store.syncCount;
    const trickle: Promise<number>[] = [];
    for (let i = 0; i < 50; i++) {
      trickle.push(store.append({ op: 'put', skey: `s${i % 30}`, upstream: doc(1000 + i) }));
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    await Promise.all(trickle);
    t.diagnostic(`200 concurrent appends: ${syncsBefore} datasyncs, ${ms.toFixed(1)} ms (${Math.round((200 / ms) * 1000)} appends/s)`);
    t.diagnostic(`50 appends one per tick: ${store.syncCount - syncsBefore} datasyncs`);
    await store.close();
    const state = await recover(dir);
    assert.equal(state.lastSeq, 250);
    assert.deepEqual([...state.upstreams.keys()], Array.from({ length: 30 }, (_, i) => `s${i}`));
    assert.deepEqual(state.upstreams.get('s0'), doc(1030)); // last written by trickle i = 30
    assert.deepEqual(state.upstreams.get('s29'), doc(1029));
  });

  it('compacts every compactEvery ops; recovery after compaction + more ops is exact', async () => {
    const dir = await tempDir();
    const expected = new Map<string, RawUpstream | null>();
    await withStore(
      dir,
      async (s) => {
        for (let seq = 1; seq <= 25; seq++) {
          const skey = `u${seq % 7}`;
          if (seq % 5 === 0) {
            await s.append({ op: 'delete', skey });
            expected.set(skey, null);
          } else {
            await s.append({ op: 'put', skey, upstream: doc(seq) });
            expected.set(skey, doc(seq));
          }
        }
      },
      10,
    );
    const snapshot = JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as { lastSeq: number; version: number };
    assert.equal(snapshot.version, 1);
    assert.equal(snapshot.lastSeq, 20);
    const lines = (await readFile(join(dir, 'changes.log'), 'utf8')).trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => (JSON.parse(l.slice(9)) as { seq: number }).seq), [21, 22, 23, 24, 25]);
    assert.deepEqual((await readdir(dir)).sort(), ['acknowledged', 'changes.log', 'snapshot.json']);
    const state = await recover(dir);
    assert.equal(state.lastSeq, 25);
    assert.deepEqual([...state.upstreams], [...expected]);
  });

  it('a crash between snapshot and new log is harmless: old records <= lastSeq are skipped', async () => {
    const dir = await tempDir();
    await withStore(dir, async (s) => {
      for (let i = 1; i <= 4; i++) await s.append({ op: 'put', skey: `k${i}`, upstream: doc(i) });
    });
    const oldLog = await readFile(join(dir, 'changes.log'));
    await withStore(dir, async (s) => void (await s.append({ op: 'delete', skey: 'k1' })), 5); // compacts at seq 5
    await writeFile(join(dir, 'changes.log'), oldLog); // as if the log swap never happened
    const state = await recover(dir);
    assert.equal(state.lastSeq, 5);
    assert.equal(state.upstreams.get('k1'), null);
  });

  it('a torn last record (a write cut short by a crash) is set aside and reported; every complete change loads', async () => {
    const { dir, log } = await threeChanges();
    const size = (await stat(log)).size;
    const torn = '1234abcd {"seq":4,"at":17';
    await appendFile(log, torn);
    const state = await recover(dir);
    assert.equal(state.lastSeq, 3);
    assert.deepEqual([...state.upstreams.keys()], ['a', 'b', 'c']);
    assert.equal(state.warnings.length, 1);
    assert.match(state.warnings[0]!, new RegExp(`incomplete record \\(${torn.length} bytes at byte ${size}\\)`));
    assert.match(state.warnings[0]!, /never acknowledged/);
    const aside = (await readdir(dir)).filter((f) => f.startsWith('changes.log.torn-'));
    assert.equal(aside.length, 1);
    assert.equal(await readFile(join(dir, aside[0]!), 'utf8'), torn);
    assert.equal((await stat(log)).size, size, 'the log was cut back to its last complete record');
    // Appending after the repair continues the sequence.
    await withStore(dir, async (st) => assert.equal(await st.append({ op: 'delete', skey: 'a' }), 4));
    assert.deepEqual((await recover(dir)).warnings, []);
  });

  it('a damaged record that is not the last one is DATA_CORRUPT naming the file, offset and a fix', async () => {
    const { dir, log } = await threeChanges();
    const data = await readFile(log, 'utf8');
    const second = data.indexOf('\n') + 1;
    await writeFile(log, data.slice(0, second) + 'garbage\n' + data.slice(second));
    await assert.rejects(recover(dir), isCorrupt(/changes\.log/, new RegExp(`byte ${second} \\(line 2\\)`), /not a record/, new RegExp(`truncate -s ${second}`)));
    // The lock was released on failure.
    await assert.rejects(readFile(join(dir, 'LOCK')), { code: 'ENOENT' });
  });

  it('a flipped byte is a checksum error', async () => {
    const { dir, log } = await threeChanges();
    const data = await readFile(log);
    const second = data.indexOf(0x0a) + 1;
    const portAt = data.indexOf('"port":2', second) + 7;
    data[portAt] = '7'.charCodeAt(0);
    await writeFile(log, data);
    await assert.rejects(recover(dir), isCorrupt(/checksum mismatch/, new RegExp(`byte ${second} \\(line 2\\)`), /last good change is seq 1/));
  });

  it('a corrupt or truncated snapshot is DATA_CORRUPT', async () => {
    const dir = await tempDir();
    await withStore(dir, async (s) => {
      for (let i = 1; i <= 3; i++) await s.append({ op: 'put', skey: `k${i}`, upstream: doc(i) });
    }, 3);
    const file = join(dir, 'snapshot.json');
    const good = await readFile(file, 'utf8');
    await writeFile(file, good.replace('"port":2', '"port":3'));
    await assert.rejects(recover(dir), isCorrupt(/snapshot\.json/, /checksum mismatch/, /move the data dir away/));
    await writeFile(file, good.slice(0, good.length - 20));
    await assert.rejects(recover(dir), isCorrupt(/snapshot\.json/, /not valid JSON/));
    await writeFile(file, good);
    assert.equal((await recover(dir)).lastSeq, 3);
  });

  it('a missing record (seq gap) or a lost snapshot is DATA_CORRUPT', async () => {
    const { dir, log } = await threeChanges();
    const lines = (await readFile(log, 'utf8')).split('\n');
    await writeFile(log, [lines[0], lines[2], ''].join('\n'));
    await assert.rejects(recover(dir), isCorrupt(/line 2/, /seq 3 follows seq 1; records 2\.\.2 are missing/));
    await writeFile(log, [lines[1], lines[2], ''].join('\n')); // as if snapshot.json were deleted
    await assert.rejects(recover(dir), isCorrupt(/line 1/, /starts at seq 2/));
  });

  it('a log cut at a record boundary loses acknowledged changes: DATA_CORRUPT with what and how to go on', async () => {
    const { dir, log } = await threeChanges();
    const data = await readFile(log, 'utf8');
    const cut = data.lastIndexOf('\n', data.length - 2) + 1; // the start of the last record
    await writeFile(log, data.slice(0, cut));
    await assert.rejects(recover(dir), isCorrupt(/1 acknowledged change is missing/, /says seq 3 was acknowledged/, /end at seq 2:/, /lose seq 3\.\.3 for good, remove .*acknowledged/));
    assert.equal(await readFile(log, 'utf8'), data.slice(0, cut), 'nothing was changed');
    // The operator accepts the loss: the rest loads, and the checkpoint starts over from there.
    await rm(join(dir, 'acknowledged'));
    const state = await recover(dir);
    assert.equal(state.lastSeq, 2);
    assert.deepEqual(state.warnings, []);
    await withStore(dir, async (st) => assert.equal(await st.append({ op: 'delete', skey: 'a' }), 3));
    assert.equal((await recover(dir)).lastSeq, 3);
  });

  it('a log cut inside an acknowledged record is a loss, not a torn write: nothing is set aside', async () => {
    const { dir, log } = await threeChanges();
    const data = await readFile(log, 'utf8');
    const cut = data.lastIndexOf('\n', data.length - 2) + 1 + 20;
    await writeFile(log, data.slice(0, cut));
    await assert.rejects(recover(dir), isCorrupt(/1 acknowledged change is missing/, /end at seq 2, followed by an incomplete record \(20 bytes at byte \d+\)/));
    assert.equal(await readFile(log, 'utf8'), data.slice(0, cut));
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('torn')), []);
  });

  it('a data dir replaced by an older copy is noticed; a damaged checkpoint stops the start; one torn slot does not', async () => {
    const { dir, log } = await threeChanges();
    const older = await readFile(log);
    await withStore(dir, async (st) => {
      await st.append({ op: 'delete', skey: 'b' });
      await st.append({ op: 'delete', skey: 'c' });
    });
    await writeFile(log, older);
    await assert.rejects(recover(dir), isCorrupt(/2 acknowledged changes are missing/, /says seq 5 was acknowledged/, /end at seq 3/));
    const checkpoint = join(dir, 'acknowledged');
    const slots = await readFile(checkpoint);
    // Seq 5 sits in slot 1; a crash tearing it leaves slot 0 (seq 4): still more than the log holds.
    const torn = Buffer.from(slots);
    torn.fill(0x20, 64 + 4, 64 + 20);
    await writeFile(checkpoint, torn);
    await assert.rejects(recover(dir), isCorrupt(/1 acknowledged change is missing/, /says seq 4/));
    await writeFile(checkpoint, Buffer.alloc(128, 0x41));
    await assert.rejects(recover(dir), isCorrupt(/acknowledged is damaged/, /remove .*acknowledged and start again/));
  });

  it('a data dir written before checkpoints existed loads and gains one', async () => {
    const { dir } = await threeChanges();
    await rm(join(dir, 'acknowledged'));
    assert.equal((await recover(dir)).lastSeq, 3);
    assert.match(await readFile(join(dir, 'acknowledged'), 'latin1'), /ack 3 [0-9a-f]{8}/);
  });

  it('refuses a data dir locked by a live process, also within this process', async () => {
    const dir = await tempDir();
    const sleeper = spawnNode('setTimeout(() => {}, 30_000)');
    try {
      await withStore(dir, async () => undefined); // creates the dir
      await writeFile(join(dir, 'LOCK'), `${sleeper.pid}\n`);
      await assert.rejects(recover(dir), new RegExp(`data dir ${dir} is in use by pid ${sleeper.pid}`));
      assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(sleeper.pid));
    } finally {
      sleeper.kill('SIGKILL');
    }
    await once(sleeper, 'exit');
    const first = new FileStore(dir);
    await first.open();
    await assert.rejects(new FileStore(dir).open(), /in use by pid \d+ \(this process\)/);
    await first.close();
  });

  it('takes over a stale lock (dead pid) and removes it on close', async () => {
    const dir = await tempDir();
    await withStore(dir, async () => undefined);
    const child = spawnNode('');
    await once(child, 'exit');
    await writeFile(join(dir, 'LOCK'), `${child.pid}\n`);
    const store = new FileStore(dir);
    await store.open();
    assert.equal((await readFile(join(dir, 'LOCK'), 'utf8')).trim(), String(process.pid));
    await store.close();
    await assert.rejects(readFile(join(dir, 'LOCK')), { code: 'ENOENT' });
  });

  it('fails stop on an I/O error: later appends reject, acknowledged changes stay recoverable', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir, { compactEvery: 3 });
    await store.open();
    await mkdir(join(dir, 'snapshot.json.tmp')); // the snapshot's temp file cannot be created: EISDIR
    assert.equal(await store.append({ op: 'put', skey: 'a', upstream: doc(1) }), 1);
    assert.equal(await store.append({ op: 'put', skey: 'b', upstream: doc(2) }), 2);
    assert.equal(await store.append({ op: 'put', skey: 'c', upstream: doc(3) }), 3); // acknowledged, then compaction fails
    await assert.rejects(store.append({ op: 'delete', skey: 'a' }), /writing \S*snapshot\.json\.tmp failed \(EISDIR.*until checkups restarts/);
    await store.close();
    await rm(join(dir, 'snapshot.json.tmp'), { recursive: true });
    const state = await recover(dir);
    assert.equal(state.lastSeq, 3);
    assert.deepEqual([...state.upstreams.keys()], ['a', 'b', 'c']);
  });

  it('close waits for pending appends; append after close rejects', async () => {
    const dir = await tempDir();
    const store = new FileStore(dir);
    await assert.rejects(store.append({ op: 'delete', skey: 'x' }), /not open yet/);
    await store.open();
    const pending = [1, 2, 3].map((i) => store.append({ op: 'put', skey: `k${i}`, upstream: doc(i) }));
    const closed = store.close();
    await assert.rejects(store.append({ op: 'delete', skey: 'k1' }), /is closed: change to k1 not stored/);
    assert.deepEqual(await Promise.all(pending), [1, 2, 3]);
    await closed;
    await store.close(); // idempotent
    await assert.rejects(store.append({ op: 'delete', skey: 'k1' }), /is closed/);
    await assert.rejects(store.open(), /already opened or closed/);
    const other = new FileStore(dir);
    await other.open();
    await assert.rejects(other.append({ op: 'delete', skey: '' }), /not a valid change/);
    await other.close();
    assert.equal((await recover(dir)).lastSeq, 3);
  });
});
