/**
 * A data dir the process cannot use stops the start at once with the path and what to do: a
 * path under /proc (where a recursive mkdir never returns), a file, a full disk (/dev/full);
 * a write failing with ENOSPC while running fails the store, naming the file. No `LOCK.<pid>.tmp` is
 * left behind, and those of dead processes are cleaned up.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RawUpstream } from '../../src/core/document.ts';
import { FileStore } from '../../src/core/store/file-store.ts';
import { CheckupsError } from '../../src/util/errors.ts';

const unusable = (...patterns: RegExp[]) => (err: unknown) => {
  assert.ok(err instanceof CheckupsError, String(err));
  assert.equal(err.code, 'STORE_UNAVAILABLE');
  for (const p of patterns) assert.match(err.message, p);
  return true;
};

describe('data dir errors', () => {
  let base: string;
  before(async () => {
    base = await mkdtemp(join(tmpdir(), 'checkups-datadir-'));
  });
  after(async () => {
    await rm(base, { recursive: true, force: true });
  });

  it('a dir under /proc is refused at once, naming it', async () => {
    const started = performance.now();
    await assert.rejects(new FileStore('/proc/checkups-not-here/data').open(), unusable(/data dir \/proc\/checkups-not-here\/data cannot be used/, /pseudo file system/, /--data-dir/));
    assert.ok(performance.now() - started < 2000);
  });

  it('a file where the dir should be is refused, naming it', async () => {
    const file = join(base, 'a-file');
    await writeFile(file, 'x');
    await assert.rejects(new FileStore(file).open(), unusable(/a-file cannot be used/, /is a file, not a directory/));
    await assert.rejects(new FileStore(join(file, 'below')).open(), unusable(/a-file\/below cannot be used/, /not a directory/));
  });

  it('creates missing parents; removes the lock temp files of dead processes', async () => {
    const dir = join(base, 'x', 'y', 'z');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, 'LOCK.999999999.tmp'), '999999999\n');
    const store = new FileStore(dir);
    await store.open();
    await store.close();
    assert.deepEqual((await readdir(dir)).sort(), ['acknowledged', 'changes.log']);
  });

  // A full disk without mounting one: /dev/full answers every write with ENOSPC, and the store's
  // files are reached through symlinks to it (the store opens them by path, following links).
  it('a full disk: refused at start naming the dir, and a write failing while running names its file', async () => {
    // At start: the lock's temp file is the first thing written.
    const dir = join(base, 'full-at-start');
    await mkdir(dir);
    await symlink('/dev/full', join(dir, `LOCK.${process.pid}.tmp`));
    await assert.rejects(new FileStore(dir).open(), unusable(/full-at-start cannot be used: the disk is full/, /ENOSPC/, /Free space on that disk/));
    assert.deepEqual((await readdir(dir)).filter((f) => f.includes('LOCK')), [], 'no lock or temp file left behind');

    // While running: compaction's snapshot temp file fills up; the store fails stop, naming it.
    const running = join(base, 'full-while-running');
    const store = new FileStore(running, { compactEvery: 3 });
    await store.open();
    try {
      await symlink('/dev/full', join(running, 'snapshot.json.tmp'));
      const doc: RawUpstream = { typ: 'http', cluster: [{ servers: [{ host: '10.0.0.1', port: 80 }] }] };
      await store.append({ op: 'put', skey: 'a', upstream: doc });
      await store.append({ op: 'put', skey: 'b', upstream: doc });
      // The third append is acknowledged, then compaction fails: the store refuses what follows.
      await store.append({ op: 'put', skey: 'c', upstream: doc });
      await assert.rejects(store.append({ op: 'delete', skey: 'a' }), /data dir .*full-while-running: writing \S*snapshot\.json\.tmp failed \(ENOSPC.*until checkups restarts/);
    } finally {
      await store.close();
    }
    // Every acknowledged change is still there after a restart (the temp file is set aside).
    const again = new FileStore(running);
    assert.equal((await again.open()).lastSeq, 3);
    await again.close();
  });
});
