/**
 * `--dry-run`: what a write would store, computed the way the server's write path computes it
 * (the same document edit from config/edit.ts, the same codec: validation and normalisation) from
 * the document it holds now. Nothing is sent but reads.
 */
import type { AdminClient } from '../client/admin.ts';
import { upstreamCodec } from '../config/codec.ts';
import type { StoredUpstream } from '../core/document.ts';
import type { DocumentEdit } from '../core/write-path.ts';
import { CheckupsError } from '../util/errors.ts';
import { CliError } from './client.ts';
import { EXIT } from './exit-codes.ts';

export interface Plan {
  readonly skey: string;
  /** The version held now (null when the upstream does not exist). */
  readonly version: number | null;
  readonly before: StoredUpstream | null;
  /** null: the write deletes it. */
  readonly after: StoredUpstream | null;
}

/** Validates a document as the server would; invalid input is exit 2 with every problem. */
export function normalized(skey: string, doc: unknown, source: string): StoredUpstream {
  const parsed = upstreamCodec.parse(skey, doc, [], 'write');
  if (!parsed.ok) {
    const n = parsed.errors.length;
    throw new CliError(`${source}: ${n} error${n === 1 ? '' : 's'}, nothing sent:\n  ${parsed.errors.join('\n  ')}`, EXIT.usage);
  }
  return upstreamCodec.toDocument(parsed.value) as StoredUpstream;
}

async function current(admin: AdminClient, skey: string): Promise<{ version: number; upstream: StoredUpstream } | null> {
  try {
    return await admin.get(skey);
  } catch (err) {
    if (err instanceof CheckupsError && err.code === 'UNKNOWN_SKEY') return null;
    throw err;
  }
}

/** The stored document after `edit` (an update, or a peer operation of config/edit.ts). */
export async function planEdit(admin: AdminClient, skey: string, edit: DocumentEdit, source: string): Promise<Plan> {
  const now = await current(admin, skey);
  return { skey, version: now?.version ?? null, before: now?.upstream ?? null, after: normalized(skey, edit(now?.upstream), source) };
}

export async function planDelete(admin: AdminClient, skey: string): Promise<Plan> {
  const now = await admin.get(skey);
  return { skey, version: now.version, before: now.upstream, after: null };
}
