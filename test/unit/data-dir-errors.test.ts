/**
 * A data dir the process cannot use stops the start at once with the path and what to do: a
 * path under /proc (where a recursive mkdir never returns), a file, a full disk (a 12 KiB tmpfs);
 * a disk that fills while running fails the store naming the log file. No `LOCK.<pid>.tmp` is
 * left behind, and those of dead processes are cleaned up.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
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

  it('a full disk: refused at start naming the dir; filling up while running fails the store naming the log', async (t) => {
    const mnt = join(base, 'small');
    await mkdir(mnt);
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt], { stdio: 'pipe' });
    } catch (err) {
      t.skip(`cannot mount a small tmpfs here (${(err as Error).message.split('\n')[0]}); needs root`);
      return;
    }
    const store = new FileStore(join(mnt, 'data'));
    try {
      await store.open();
      const big: RawUpstream = { typ: 'http', cluster: [{ servers: Array.from({ length: 100 }, (_, i) => ({ host: `10.0.${i}.1`, port: 8000 + i })) }] };
      let acked = 0;
      let failure: unknown;
      for (let i = 0; i < 200 && failure === undefined; i++) {
        try {
          await store.append({ op: 'put', skey: `u${i}`, upstream: big });
          acked++;
        } catch (err) {
          failure = err;
        }
      }
      assert.ok(acked > 0, 'some writes fit');
      assert.match(String((failure as Error).message), /data dir .*small\/data: writing .*changes\.log failed \(ENOSPC/);
      await store.close();
      // Nothing fits any more: the next start is refused, naming the dir and what to do.
      await writeFile(join(mnt, 'filler'), Buffer.alloc(64 * 1024)).catch(() => undefined);
      await assert.rejects(new FileStore(join(mnt, 'fresh')).open(), unusable(/fresh cannot be used: the disk is full/, /Free space on that disk/));
      assert.deepEqual((await readdir(mnt)).filter((f) => f.includes('LOCK')), []);
      assert.deepEqual((await readdir(join(mnt, 'data'))).filter((f) => f.includes('.tmp')), []);
    } finally {
      await store.close().catch(() => undefined);
      execFileSync('umount', [mnt]);
    }
  });
});
