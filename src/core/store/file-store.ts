/**
 * The data dir: an append-only, checksummed change log plus a periodic snapshot (format.ts).
 *
 * Guarantee: append() resolves only after its record is written and fdatasync'ed, and the
 * acknowledged checkpoint (checkpoint.ts) records its seq, so every acknowledged change survives
 * kill -9 and power loss, and a log that later loses acknowledged records is noticed at start. Appends that arrive while a sync is in
 * flight are written together and covered by one sync (group commit): throughput scales with
 * concurrency instead of being capped at one change per disk flush.
 *
 * Any I/O error makes the store fail-stop: the failed batch and every later append reject, since
 * after a failed write or fsync the file's content is unknown (a retried fsync may "succeed"
 * without the data). Restarting recovers from what is on disk.
 */
import { mkdir, open, readFile, rename, stat, truncate, unlink, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { RawUpstream } from '../document.ts';
import { CheckupsError } from '../../util/errors.ts';
import { CHECKPOINT_FILE, decodeCheckpoint, writeCheckpoint } from './checkpoint.ts';
import { decodeSnapshot, encodeRecord, encodeSnapshot, LOG_FILE, replayLog, SNAPSHOT_FILE, type LogRecord } from './format.ts';
import { acquireLock } from './lock.ts';
import type { RecoveredState, StoreOp, UpstreamStore } from './types.ts';

export interface FileStoreOptions {
  /** Write a snapshot and start a new log after this many changes (default 1000). */
  readonly compactEvery?: number;
  /** Epoch ms stamped on records (default Date.now). */
  readonly wallNow?: () => number;
}

interface Pending {
  readonly record: LogRecord;
  readonly line: Buffer;
  readonly resolve: (seq: number) => void;
  readonly reject: (err: Error) => void;
}

type Phase = 'new' | 'opening' | 'open' | 'closing' | 'closed';

// Files are 0600 and the dir 0700: stored documents may hold redis and mysql passwords.
const FILE_MODE = 0o600;
const DIR_MODE = 0o700;

const isMissing = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';

async function readIfExists(file: string): Promise<Buffer | null> {
  try {
    return await readFile(file);
  } catch (err) {
    if (isMissing(err)) return null;
    throw err;
  }
}

const errnoOf = (err: unknown): string | undefined => {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return typeof code === 'string' && /^E[A-Z]+$/.test(code) ? code : undefined;
};

/**
 * A data dir the process cannot use (not a directory, not writable, disk full, a pseudo file
 * system): the start stops with the path and what to do, instead of a bare errno or a hang.
 */
function unusableDataDir(dir: string, err: unknown): Error {
  const code = errnoOf(err);
  if (code === undefined) return err instanceof Error ? err : new Error(String(err));
  const reason =
    code === 'ENOSPC' ? 'the disk is full' :
    code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'it is not writable by this process' :
    code === 'ENOTDIR' || code === 'EEXIST' ? 'it, or a part of its path, is a file, not a directory' :
    code === 'ENOENT' ? 'it cannot be created there (a pseudo file system such as /proc or /sys?)' :
    'it cannot be read or written';
  return new CheckupsError(
    'STORE_UNAVAILABLE',
    `data dir ${dir} cannot be used: ${reason} (${(err as Error).message}). ${code === 'ENOSPC' ? 'Free space on that disk, or point' : 'Point'} --data-dir (or server.data_dir) at a writable directory on a local disk.`,
    [],
    { cause: err },
  );
}

/**
 * Creates the data dir and its missing parents one level at a time; resolves with whether it
 * created any. Not mkdir({recursive}): under /proc it keeps retrying ENOENT and never returns.
 */
async function makeDataDir(dir: string): Promise<boolean> {
  const missing: string[] = [];
  for (let at = dir; ; at = dirname(at)) {
    try {
      if (!(await stat(at)).isDirectory()) throw Object.assign(new Error(`ENOTDIR: not a directory, ${at}`), { code: 'ENOTDIR' });
      break;
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT' || dirname(at) === at) throw err;
      missing.push(at);
    }
  }
  for (const at of missing.reverse()) await mkdir(at, { mode: DIR_MODE });
  return missing.length > 0;
}

/** Runs a file operation; an error that names no file (a write's ENOSPC) gets `file` as its path. */
async function onFile<T>(file: string, op: () => Promise<T>): Promise<T> {
  try {
    return await op();
  } catch (err) {
    if (typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).path === undefined) (err as NodeJS.ErrnoException).path = file;
    throw err;
  }
}

/** Makes a rename or a file creation in `dir` durable (the entry itself lives in the dir). */
async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return; // directories cannot be opened for fsync there
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeSynced(file: string, data: string): Promise<void> {
  const handle = await open(file, 'w', FILE_MODE);
  try {
    await handle.writeFile(data, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class FileStore implements UpstreamStore {
  private readonly logFile: string;
  private readonly snapshotFile: string;
  private readonly checkpointFile: string;
  private readonly compactEvery: number;
  private readonly wallNow: () => number;
  private phase: Phase = 'new';
  private opening: Promise<RecoveredState> | undefined;
  private closing: Promise<void> | undefined;
  private log: FileHandle | undefined;
  private checkpoint: FileHandle | undefined;
  private releaseLock: (() => Promise<void>) | undefined;
  /** State as of the last synced record: what the next snapshot writes. */
  private upstreams = new Map<string, RawUpstream | null>();
  private durableSeq = 0;
  private durableAt: number | null = null;
  /** Last seq handed out; records between durableSeq and it are queued or being written. */
  private issuedSeq = 0;
  private sinceSnapshot = 0;
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private failure: Error | undefined;
  private syncs = 0;

  constructor(
    private readonly dir: string,
    opts: FileStoreOptions = {},
  ) {
    this.logFile = join(dir, LOG_FILE);
    this.snapshotFile = join(dir, SNAPSHOT_FILE);
    this.checkpointFile = join(dir, CHECKPOINT_FILE);
    this.compactEvery = Math.max(1, opts.compactEvery ?? 1000);
    this.wallNow = opts.wallNow ?? Date.now;
  }

  /** fdatasync calls on the log so far: appends / syncCount is the group-commit factor. */
  get syncCount(): number {
    return this.syncs;
  }

  open(): Promise<RecoveredState> {
    if (this.phase !== 'new') return Promise.reject(new Error(`data dir ${this.dir}: the store was already opened or closed`));
    this.phase = 'opening';
    this.opening = this.recover().catch((err: unknown) => {
      this.phase = 'closed';
      throw err;
    });
    return this.opening;
  }

  private async recover(): Promise<RecoveredState> {
    const warnings: string[] = [];
    try {
      if (await makeDataDir(this.dir)) await syncDir(dirname(this.dir));
      this.releaseLock = await acquireLock(this.dir);
    } catch (err) {
      throw unusableDataDir(this.dir, err);
    }
    try {
      // Leftovers of a compaction cut short by a crash; the renamed files are authoritative.
      for (const file of [`${this.snapshotFile}.tmp`, `${this.logFile}.tmp`]) await unlink(file).catch(() => undefined);
      const snapshotText = await readIfExists(this.snapshotFile);
      const snapshot = snapshotText === null ? null : decodeSnapshot(this.snapshotFile, snapshotText.toString('utf8'));
      const logData = await readIfExists(this.logFile);
      const state = replayLog(this.logFile, logData ?? Buffer.alloc(0), snapshot);
      const checkpointData = await readIfExists(this.checkpointFile);
      const acknowledged = checkpointData === null ? null : decodeCheckpoint(checkpointData);
      if (checkpointData !== null && checkpointData.length > 0 && acknowledged === null) {
        throw new CheckupsError(
          'DATA_CORRUPT',
          `data file ${this.checkpointFile} is damaged (no valid slot), so it cannot tell whether acknowledged changes are missing. ` +
            `Nothing was loaded. If ${LOG_FILE} and ${SNAPSHOT_FILE} are known to be complete, remove ${this.checkpointFile} and start again.`,
        );
      }
      // Checked before the torn tail is set aside: a torn record below the acknowledged seq is a loss, not a crash mid-write.
      if (acknowledged !== null && acknowledged > state.lastSeq) throw this.lostAcknowledged(acknowledged, state.lastSeq, state.tornTail);
      if (state.tornTail !== null && logData !== null) warnings.push(await this.setAsideTornTail(logData, state.tornTail.offset));
      this.log = await open(this.logFile, 'a', FILE_MODE);
      // Not 'a': slots are written in place, and O_APPEND would ignore the position.
      this.checkpoint = await open(this.checkpointFile, checkpointData === null ? 'w+' : 'r+', FILE_MODE);
      if (acknowledged !== state.lastSeq) await writeCheckpoint(this.checkpoint, state.lastSeq);
      if (logData === null || checkpointData === null) await syncDir(this.dir);
      this.upstreams = state.upstreams;
      this.durableSeq = this.issuedSeq = state.lastSeq;
      this.durableAt = state.lastAt;
      this.sinceSnapshot = state.recordsAfterSnapshot;
    } catch (err) {
      await this.log?.close();
      await this.checkpoint?.close();
      this.log = this.checkpoint = undefined;
      await this.releaseLock();
      throw unusableDataDir(this.dir, err);
    }
    this.phase = 'open';
    return { upstreams: new Map(this.upstreams), lastSeq: this.durableSeq, warnings };
  }

  private lostAcknowledged(acknowledged: number, lastSeq: number, torn: { readonly offset: number; readonly bytes: number } | null): CheckupsError {
    const missing = acknowledged - lastSeq;
    const tail = torn === null ? '' : `, followed by an incomplete record (${torn.bytes} bytes at byte ${torn.offset})`;
    return new CheckupsError(
      'DATA_CORRUPT',
      `data dir ${this.dir}: ${missing} acknowledged change${missing === 1 ? ' is' : 's are'} missing. ${CHECKPOINT_FILE} says seq ${acknowledged} ` +
        `was acknowledged, but ${SNAPSHOT_FILE} and ${LOG_FILE} end at seq ${lastSeq}${tail}: the log was cut short or replaced by an older copy. ` +
        `Nothing was loaded. Restore ${this.logFile} (and ${SNAPSHOT_FILE}) from a backup; or, to start from what is left and lose ` +
        `seq ${lastSeq + 1}..${acknowledged} for good, remove ${this.checkpointFile}.`,
    );
  }

  /**
   * A crash during a write (kill -9 can stop a large write at a page boundary) leaves an
   * unterminated last line. It was never acknowledged, so it is not a lost change; it is still
   * kept, in a file next to the log, and reported, rather than thrown away or left to block the start.
   */
  private async setAsideTornTail(data: Buffer, offset: number): Promise<string> {
    const aside = `${this.logFile}.torn-${new Date(this.wallNow()).toISOString().replace(/[:.]/g, '-')}`;
    const fh = await open(aside, 'w', FILE_MODE);
    try {
      await fh.writeFile(data.subarray(offset));
      await fh.sync();
    } finally {
      await fh.close();
    }
    await truncate(this.logFile, offset);
    const log = await open(this.logFile, 'r+');
    try {
      await log.sync();
    } finally {
      await log.close();
    }
    await syncDir(this.dir);
    return (
      `data file ${this.logFile} ended in an incomplete record (${data.length - offset} bytes at byte ${offset}), ` +
      `written when checkups was stopped mid-write; it was never acknowledged. Set aside in ${aside}; every acknowledged change was loaded.`
    );
  }

  append(op: StoreOp): Promise<number> {
    if (this.phase !== 'open') {
      const why = this.phase === 'new' || this.phase === 'opening' ? 'is not open yet' : 'is closed';
      return Promise.reject(new Error(`data dir ${this.dir} ${why}: change to ${op.skey} not stored`));
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    // Recovery rejects such records as corrupt, so they must never be written.
    const badDoc = op.op === 'put' && (typeof op.upstream !== 'object' || op.upstream === null || Array.isArray(op.upstream));
    if (typeof op.skey !== 'string' || op.skey === '' || badDoc) {
      return Promise.reject(new TypeError(`data dir ${this.dir}: not a valid change (skey ${JSON.stringify(op.skey)}, op ${op.op})`));
    }
    const seq = this.issuedSeq + 1;
    const at = this.wallNow();
    let record: LogRecord;
    let line: Buffer;
    try {
      // A private copy: the caller may reuse its object, the snapshot must see what was logged.
      record = op.op === 'put' ? { seq, at, op: 'put', skey: op.skey, upstream: structuredClone(op.upstream) } : { seq, at, op: 'delete', skey: op.skey };
      line = encodeRecord(record);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // Seqs are handed out in call order, only once the record is encoded, so they never skip.
    this.issuedSeq = seq;
    return new Promise<number>((resolve, reject) => {
      this.queue.push({ record, line, resolve, reject });
      if (this.flushing === undefined) this.flushing = this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    // Yield once, so appends issued in the same tick share the first write and sync.
    await Promise.resolve();
    while (this.queue.length > 0 && this.failure === undefined) {
      const batch = this.queue;
      this.queue = [];
      try {
        await this.commit(batch);
      } catch (err) {
        this.fail(err, batch);
      }
    }
    // Cleared in the same synchronous step as the empty-queue check, so no append is stranded.
    this.flushing = undefined;
  }

  private async commit(batch: readonly Pending[]): Promise<void> {
    const log = this.log!;
    // One write(2) per batch: each record is inside a single write call unless the kernel cuts it short.
    const data = batch.length === 1 ? batch[0]!.line : Buffer.concat(batch.map((p) => p.line));
    await onFile(this.logFile, async () => {
      // A short write (the disk filling up) is continued, so the real error (ENOSPC) surfaces.
      for (let off = 0; off < data.length; ) {
        const { bytesWritten } = await log.write(data, off);
        if (bytesWritten <= 0) throw new Error(`short write to ${this.logFile} (${off} of ${data.length} bytes)`);
        off += bytesWritten;
      }
      await log.datasync();
    });
    this.syncs++;
    await onFile(this.checkpointFile, () => writeCheckpoint(this.checkpoint!, batch[batch.length - 1]!.record.seq));
    for (const { record } of batch) this.upstreams.set(record.skey, record.op === 'put' ? record.upstream : null);
    const last = batch[batch.length - 1]!.record;
    this.durableSeq = last.seq;
    this.durableAt = last.at;
    this.sinceSnapshot += batch.length;
    for (const p of batch) p.resolve(p.record.seq);
    if (this.sinceSnapshot >= this.compactEvery) await this.compact();
  }

  /**
   * Snapshot, then a fresh log. Each step is atomic (temp file, fsync, rename, fsync dir), and
   * a crash between them is harmless: the old log's records are all <= the snapshot's lastSeq,
   * so recovery skips them.
   */
  private async compact(): Promise<void> {
    const snapshotTemp = `${this.snapshotFile}.tmp`;
    await onFile(snapshotTemp, () => writeSynced(snapshotTemp, encodeSnapshot({ upstreams: this.upstreams, lastSeq: this.durableSeq, lastAt: this.durableAt })));
    await rename(snapshotTemp, this.snapshotFile);
    await syncDir(this.dir);
    const logTemp = `${this.logFile}.tmp`;
    await onFile(logTemp, () => writeSynced(logTemp, ''));
    // Opened before the rename: the handle follows the file to its new name.
    const fresh = await open(logTemp, 'a', FILE_MODE);
    try {
      await rename(logTemp, this.logFile);
    } catch (err) {
      await fresh.close();
      throw err;
    }
    const old = this.log!;
    this.log = fresh;
    await old.close();
    await syncDir(this.dir);
    this.sinceSnapshot = 0;
  }

  private fail(err: unknown, batch: readonly Pending[]): void {
    const cause = err instanceof Error ? err : new Error(String(err));
    this.failure = new Error(
      `data dir ${this.dir}: writing ${(cause as NodeJS.ErrnoException).path ?? this.logFile} failed (${cause.message}); no further admin change is ` +
        `accepted until checkups restarts and recovers from disk`,
      { cause },
    );
    // Promises of a batch already acknowledged (compaction failed after it) stay resolved.
    for (const p of [...batch, ...this.queue]) p.reject(this.failure);
    this.queue = [];
  }

  close(): Promise<void> {
    if (this.closing === undefined) {
      // Synchronously, so an append issued right after close() is already refused.
      if (this.phase === 'open') this.phase = 'closing';
      this.closing = this.shutdown();
    }
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    await this.opening?.catch(() => undefined);
    if (this.phase !== 'open' && this.phase !== 'closing') {
      this.phase = 'closed';
      return;
    }
    this.phase = 'closing';
    // Appends accepted before close() still get written and acknowledged.
    while (this.flushing !== undefined) await this.flushing;
    try {
      await this.log?.close();
      await this.checkpoint?.close();
    } finally {
      this.log = this.checkpoint = undefined;
      this.phase = 'closed';
      await this.releaseLock?.();
    }
  }
}
