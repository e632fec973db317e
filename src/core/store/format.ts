/**
 * The on-disk format of the data dir (docs/durability.md), encoding and strict decoding.
 *
 * changes.log: one record per line, `<crc32 of payload, 8 hex> <payload JSON>\n`. JSON.stringify
 * never emits a raw newline, so a line is a record and a missing final newline is a torn write.
 * snapshot.json: the whole state at `lastSeq`, with a CRC-32 over the rest of the document.
 *
 * Decoding never skips or repairs anything: bad data is a CheckupsError('DATA_CORRUPT') that
 * names the file, the place, what is wrong and what the operator can do, because silently
 * dropping a record would silently undo an acknowledged admin change.
 */
import type { RawUpstream } from '../document.ts';
import { CheckupsError } from '../../util/errors.ts';
import { dirname, join } from 'node:path';
import { CHECKPOINT_FILE } from './checkpoint.ts';
import { crc32Hex } from './crc32.ts';

export const LOG_FILE = 'changes.log';
export const SNAPSHOT_FILE = 'snapshot.json';
export const SNAPSHOT_VERSION = 1;

export type LogRecord =
  | { readonly seq: number; readonly at: number; readonly op: 'put'; readonly skey: string; readonly upstream: RawUpstream }
  | { readonly seq: number; readonly at: number; readonly op: 'delete'; readonly skey: string };

/** State rebuilt from the data dir. */
export interface Replayed {
  readonly upstreams: Map<string, RawUpstream | null>;
  readonly lastSeq: number;
  /** Epoch ms of the last change, null when there is none. */
  readonly lastAt: number | null;
  /** Log records newer than the snapshot: they count towards the next compaction. */
  readonly recordsAfterSnapshot: number;
}

export interface LogReplay extends Replayed {
  /**
   * A last line without its newline: a write cut short by a crash. Such a record was never
   * acknowledged (acks follow the sync of the whole line), so recovery sets it aside.
   */
  readonly tornTail: { readonly offset: number; readonly bytes: number } | null;
}

export function encodeRecord(record: LogRecord): Buffer {
  const payload = JSON.stringify(record);
  return Buffer.from(`${crc32Hex(payload)} ${payload}\n`, 'utf8');
}

export function encodeSnapshot(state: Omit<Replayed, 'recordsAfterSnapshot'>): string {
  const body = { version: SNAPSHOT_VERSION, lastSeq: state.lastSeq, lastAt: state.lastAt, upstreams: [...state.upstreams] };
  // The checksum covers JSON.stringify(body); a parse + stringify of the same JSON yields the
  // same text (key order and number formatting survive), which is how decodeSnapshot checks it.
  return `${JSON.stringify({ checksum: crc32Hex(JSON.stringify(body)), ...body })}\n`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function describeChange(seq: number, at: number | null): string {
  if (seq === 0) return 'there is no good change before it';
  return `the last good change is seq ${seq}${at === null ? '' : ` at ${new Date(at).toISOString()}`}`;
}

const RESET = 'or move the data dir away to start from the config file only (every admin change is then lost)';

function corrupt(message: string): CheckupsError {
  return new CheckupsError('DATA_CORRUPT', message);
}

/** Reads snapshot.json; throws DATA_CORRUPT on anything but a valid, checksummed snapshot. */
export function decodeSnapshot(file: string, text: string): Replayed {
  const bad = (what: string) =>
    corrupt(
      `data file ${file} is corrupt: ${what}. The change log only holds changes made after this snapshot, ` +
        `so nothing was loaded. Restore ${SNAPSHOT_FILE} from a backup, ${RESET}.`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw bad(`not valid JSON (${(err as Error).message}; ${text.length} bytes, truncated?)`);
  }
  if (!isObject(doc)) throw bad('not a snapshot object');
  const { checksum, ...body } = doc;
  const computed = crc32Hex(JSON.stringify(body));
  if (checksum !== computed) throw bad(`checksum mismatch (stored ${JSON.stringify(checksum)}, computed "${computed}")`);
  if (body['version'] !== SNAPSHOT_VERSION) throw bad(`unsupported version ${JSON.stringify(body['version'])}`);
  const { lastSeq, lastAt, upstreams } = body;
  if (!isSeq(lastSeq)) throw bad('lastSeq is not a sequence number');
  if (lastAt !== null && typeof lastAt !== 'number') throw bad('lastAt is not a time');
  if (!Array.isArray(upstreams)) throw bad('upstreams is not a list');
  const map = new Map<string, RawUpstream | null>();
  for (const [i, entry] of upstreams.entries()) {
    const ok = Array.isArray(entry) && entry.length === 2 && typeof entry[0] === 'string' && (entry[1] === null || isObject(entry[1]));
    if (!ok) throw bad(`upstreams[${i}] is not a [skey, document | null] pair`);
    map.set(entry[0] as string, entry[1] as RawUpstream | null);
  }
  return { upstreams: map, lastSeq, lastAt, recordsAfterSnapshot: 0 };
}

/** What is wrong with a parsed payload, or the record. */
function asRecord(v: unknown): LogRecord | string {
  if (!isObject(v)) return 'the payload is not an object';
  const { seq, at, op, skey, upstream } = v;
  if (!isSeq(seq) || seq === 0) return 'seq is not a positive integer';
  if (typeof at !== 'number') return 'at is not a time';
  if (typeof skey !== 'string' || skey === '') return 'skey is not a non-empty string';
  if (op === 'delete') return { seq, at, op, skey };
  if (op !== 'put') return `unknown op ${JSON.stringify(op)}`;
  if (!isObject(upstream)) return 'a put without an upstream document';
  return { seq, at, op, skey, upstream: upstream as unknown as RawUpstream };
}

const HEX8 = /^[0-9a-f]{8}$/;

/**
 * Applies changes.log on top of the snapshot (or of nothing). Records up to the snapshot's
 * lastSeq are skipped (a crash between writing the snapshot and starting the new log leaves
 * them); every record must follow the previous one by exactly one.
 */
export function replayLog(file: string, data: Buffer, base: Replayed | null): LogReplay {
  const upstreams = new Map(base?.upstreams ?? []);
  const baseSeq = base?.lastSeq ?? 0;
  let lastSeq = baseSeq;
  let lastAt = base?.lastAt ?? null;
  let prev: number | null = null;
  let after = 0;
  let offset = 0;
  for (let line = 1; offset < data.length; line++) {
    const where = `${file} is corrupt at byte ${offset} (line ${line})`;
    const good = describeChange(lastSeq, lastAt);
    const end = data.indexOf(0x0a, offset);
    if (end === -1) return { upstreams, lastSeq, lastAt, recordsAfterSnapshot: after, tornTail: { offset, bytes: data.length - offset } };
    const fail = (what: string) =>
      corrupt(
        `data file ${where}: ${what}. Nothing was loaded; ${good}. To keep the changes up to that one and lose ` +
          `this and every later record, cut the file there with \`truncate -s ${offset} ${file}\` and remove ` +
          `${join(dirname(file), CHECKPOINT_FILE)} (it records how far acknowledgements went), ${RESET}.`,
      );
    const text = data.subarray(offset, end);
    const hex = text.subarray(0, 8).toString('latin1');
    if (text.length < 10 || text[8] !== 0x20 || !HEX8.test(hex)) throw fail('not a record ("<crc32 hex> <json>")');
    const payload = text.subarray(9);
    const computed = crc32Hex(payload);
    if (computed !== hex) throw fail(`checksum mismatch (stored ${hex}, computed ${computed}): the record was altered or damaged`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(payload.toString('utf8'));
    } catch (err) {
      throw fail(`the payload is not valid JSON (${(err as Error).message})`);
    }
    const record = asRecord(parsed);
    if (typeof record === 'string') throw fail(record);
    if (prev !== null && record.seq !== prev + 1) {
      throw fail(`seq ${record.seq} follows seq ${prev}; ${record.seq > prev ? `records ${prev + 1}..${record.seq - 1} are missing` : 'seqs must increase by one'}`);
    }
    if (prev === null && record.seq > baseSeq + 1) {
      throw fail(`the log starts at seq ${record.seq} but the ${base ? 'snapshot ends' : 'store starts'} at seq ${baseSeq}; records ${baseSeq + 1}..${record.seq - 1} are missing`);
    }
    prev = record.seq;
    offset = end + 1;
    if (record.seq <= baseSeq) continue;
    upstreams.set(record.skey, record.op === 'put' ? record.upstream : null);
    lastSeq = record.seq;
    lastAt = record.at;
    after++;
  }
  return { upstreams, lastSeq, lastAt, recordsAfterSnapshot: after, tornTail: null };
}
