/**
 * One process per data dir: two writers appending to the same log would interleave seqs and
 * corrupt it. The lock is a file `LOCK` holding the owner's pid. It is created with link(2)
 * from a temp file that already holds the pid, so LOCK is never seen empty, and link fails if
 * LOCK exists (as open 'wx' would). A lock whose pid is dead (kill -9, crash) is taken over.
 *
 * Limits: taking over a stale lock is not atomic, so two processes starting at the very same
 * moment on a dir with a stale lock could both win; and a stale pid reused by an unrelated live
 * process blocks the start (the message says to remove LOCK then).
 */
import { link, readdir, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const LOCK_FILE = 'LOCK';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readPid(file: string): Promise<number | null> {
  try {
    const pid = Number((await readFile(file, 'utf8')).trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function unlinkIfExists(file: string): Promise<void> {
  try {
    await unlink(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** Temp files of processes that died between writing and removing them (kill -9). */
async function removeStaleTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const m = /^LOCK\.(\d+)\.tmp$/.exec(name);
    if (m !== null && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) await unlinkIfExists(join(dir, name));
  }
}

/** Takes the data dir's lock; resolves with its release, or throws naming the owner. */
export async function acquireLock(dir: string): Promise<() => Promise<void>> {
  const lockFile = join(dir, LOCK_FILE);
  const temp = join(dir, `${LOCK_FILE}.${process.pid}.tmp`);
  await removeStaleTemps(dir);
  try {
    // Inside the try: a write cut short (disk full) must not leave its temp file behind either.
    await writeFile(temp, `${process.pid}\n`, { mode: 0o600 });
    // A few rounds: each failed round removed a stale lock, or lost a race to a live process.
    for (let round = 0; round < 3; round++) {
      try {
        await link(temp, lockFile);
        return async () => {
          // Only remove our own lock: never one a later process took over after us.
          if ((await readPid(lockFile)) === process.pid) await unlinkIfExists(lockFile);
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = await readPid(lockFile);
      if (owner !== null && isAlive(owner)) {
        throw new Error(
          `data dir ${dir} is in use by pid ${owner}${owner === process.pid ? ' (this process)' : ''}: ` +
            `only one checkups may use a data dir. Stop that process, or if it is not checkups, remove ${lockFile}.`,
        );
      }
      // Dead owner, or garbage in the file: the lock is stale.
      await unlinkIfExists(lockFile);
    }
    throw new Error(`data dir ${dir}: could not take ${lockFile}, another process keeps taking it`);
  } finally {
    await unlinkIfExists(temp);
  }
}
