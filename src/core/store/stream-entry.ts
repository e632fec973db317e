/**
 * The entries of a cluster's change stream (redis-keys.ts `changes`), encoding and strict
 * parsing. One stream carries every change that bumps a version:
 *
 * | kind      | written by                      | fields besides `rev`, `kind`, `at`, `skey` |
 * |-----------|---------------------------------|--------------------------------------------|
 * | `put`     | admin writes, config-file seeds | `origin` (file/admin), `upstream` (JSON), `by` |
 * | `delete`  | admin writes, config-file seeds | `origin`, `by`                              |
 * | `verdict` | the probe-shard owner (health/) | owned by the verdict module; kept as fields |
 *
 * `rev` is the entry's revision (also its stream id `<rev>-0`), `at` the epoch ms it was
 * written, `by` the instance that wrote it (absent in entries a reseed wrote). A reader never crashes on an entry it cannot read: parseStreamEntry says what is
 * wrong and where, the reader logs it, counts it and moves on (docs/cluster.md).
 */
import type { ChangeOrigin, UpstreamChange, UpstreamDocument } from './change-store.ts';

export const ENTRY_KINDS = ['put', 'delete', 'verdict'] as const;
export type EntryKind = (typeof ENTRY_KINDS)[number];

interface EntryHead {
  readonly rev: number;
  readonly at: number;
  readonly skey: string;
}

export type StreamEntry =
  | (EntryHead & { readonly kind: 'change'; readonly change: UpstreamChange; readonly by: string | undefined })
  /** A health verdict: the verdict module parses `fields` (every field of the entry). */
  | (EntryHead & { readonly kind: 'verdict'; readonly fields: ReadonlyMap<string, string> });

export type ParsedEntry = { readonly ok: true; readonly entry: StreamEntry } | { readonly ok: false; readonly error: string };

/** Longest piece of a bad entry quoted in an error. */
const QUOTE_MAX = 80;

const quote = (s: string): string => JSON.stringify(s.length > QUOTE_MAX ? `${s.slice(0, QUOTE_MAX)}...` : s);

/** The fields XADD writes for an admin or seed change by instance `by` (after `rev`, which the script adds). */
export function changeFields(change: UpstreamChange, at: number, by: string): string[] {
  const fields = ['kind', change.kind, 'at', String(at), 'skey', change.skey, 'origin', change.origin, 'by', by];
  if (change.kind === 'put') fields.push('upstream', JSON.stringify(change.upstream));
  return fields;
}

const isOrigin = (v: string | undefined): v is ChangeOrigin => v === 'file' || v === 'admin';

/**
 * Parses one stream entry as XREAD returns it (`id`, flat `[name, value, ...]`). `stream`
 * names the stream in error messages. Never throws.
 */
export function parseStreamEntry(stream: string, id: string, flat: readonly string[]): ParsedEntry {
  const bad = (what: string): ParsedEntry => ({ ok: false, error: `stream ${stream} entry ${quote(id)}: ${what}` });
  if (flat.length % 2 !== 0) return bad('odd number of fields');
  const fields = new Map<string, string>();
  for (let i = 0; i < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
  const revText = fields.get('rev');
  const rev = Number(revText);
  if (revText === undefined || !/^[1-9][0-9]{0,15}$/.test(revText) || !Number.isSafeInteger(rev)) return bad(`rev ${revText === undefined ? 'is missing' : `${quote(revText)} is not a positive integer`}`);
  if (id !== `${revText}-0`) return bad(`id does not match rev ${revText}`);
  const at = Number(fields.get('at'));
  if (!Number.isFinite(at) || at < 0) return bad('at is not a time (epoch ms)');
  const skey = fields.get('skey');
  if (skey === undefined || skey === '') return bad('skey is missing');
  const kind = fields.get('kind');
  const head = { rev, at, skey };
  const by = fields.get('by');
  if (kind === 'verdict') return { ok: true, entry: { ...head, kind: 'verdict', fields } };
  if (kind !== 'put' && kind !== 'delete') return bad(`unknown kind ${quote(kind ?? '')} (known: ${ENTRY_KINDS.join(', ')})`);
  const origin = fields.get('origin');
  if (!isOrigin(origin)) return bad(`origin ${quote(origin ?? '')} is not file or admin`);
  if (kind === 'delete') return { ok: true, entry: { ...head, kind: 'change', change: { kind, skey, origin }, by } };
  const text = fields.get('upstream');
  if (text === undefined) return bad('a put without an upstream document');
  let upstream: unknown;
  try {
    upstream = JSON.parse(text);
  } catch (err) {
    return bad(`upstream is not valid JSON (${(err as Error).message})`);
  }
  if (typeof upstream !== 'object' || upstream === null || Array.isArray(upstream)) return bad('upstream is not a JSON object');
  return { ok: true, entry: { ...head, kind: 'change', change: { kind, skey, origin, upstream: upstream as UpstreamDocument }, by } };
}
