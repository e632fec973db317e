/**
 * The one place that knows which options are secrets, and how they are kept from leaving the
 * server. Every reader of upstream documents outside the server goes through here:
 *
 * - `omit`: Watch, GetStatus, /status, logs, events: the secret is not there at all, not even
 *   the fact that one is set (those readers need no credential, or only a read one).
 * - `mark`: an authenticated admin read (GetUpstream): `"<redacted>"` shows that one is set.
 *   Writing the marker back means "keep the stored secret", so read-modify-write works.
 *
 * `pass_env`/`pass_file` and their redis twins name where a secret is, not the secret: they are
 * shown as they are.
 */
import type { RawUpstream } from '../core/document.ts';
import { invalidConfig } from '../util/errors.ts';

export const REDACTED = '<redacted>';

/** Paths of the secret options inside an upstream document. */
const SECRET_PATHS: ReadonlyArray<readonly [string] | readonly [string, string]> = [['pass'], ['redis_opts', 'password']];

type Doc = Record<string, unknown>;

const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A copy of `doc` with every secret removed (`omit`) or replaced by REDACTED (`mark`). */
export function redactUpstream(doc: RawUpstream, how: 'omit' | 'mark'): RawUpstream {
  const out: Doc = { ...doc };
  for (const path of SECRET_PATHS) {
    if (path.length === 1) {
      if (out[path[0]] === undefined) continue;
      if (how === 'omit') delete out[path[0]];
      else out[path[0]] = REDACTED;
      continue;
    }
    const [outer, inner] = path;
    const nested = out[outer];
    if (!isDoc(nested) || nested[inner] === undefined) continue;
    const copy: Doc = { ...nested };
    if (how === 'omit') delete copy[inner];
    else copy[inner] = REDACTED;
    if (Object.keys(copy).length === 0) delete out[outer];
    else out[outer] = copy;
  }
  return out as unknown as RawUpstream;
}

/**
 * The admin write of a whole document as an edit of the stored one (config/edit.ts style): the
 * REDACTED marker keeps the stored secret; a marker with nothing stored is INVALID_CONFIG.
 */
export const keepStoredSecrets = (skey: string, incoming: unknown, path: readonly string[]) => (current: RawUpstream | undefined): unknown => {
  const restored = restoreRedacted(incoming, current, skey, path);
  if (restored.errors.length > 0) throw invalidConfig(restored.errors);
  return restored.doc;
};

/**
 * Replaces REDACTED in an incoming admin document with the secret stored for that upstream.
 * Returns the document to validate, or the errors (`path: ...`) when there is nothing to keep.
 */
export function restoreRedacted(incoming: unknown, stored: RawUpstream | undefined, skey: string, prefix: readonly string[]): { doc: unknown; errors: string[] } {
  if (!isDoc(incoming)) return { doc: incoming, errors: [] };
  const errors: string[] = [];
  const doc: Doc = { ...incoming };
  const old = (stored ?? {}) as Doc;
  for (const path of SECRET_PATHS) {
    const [outer, inner] = path.length === 1 ? [undefined, path[0]] : path;
    const into = outer === undefined ? doc : isDoc(doc[outer]) ? (doc[outer] = { ...(doc[outer] as Doc) }) : undefined;
    if (into === undefined || into[inner] !== REDACTED) continue;
    const from = outer === undefined ? old : isDoc(old[outer]) ? (old[outer] as Doc) : {};
    if (typeof from[inner] === 'string') into[inner] = from[inner];
    else errors.push(`${[...prefix, ...path].join('.')}: "${REDACTED}" stands for the stored secret, and ${skey} has none; send the secret itself`);
  }
  return { doc, errors };
}
