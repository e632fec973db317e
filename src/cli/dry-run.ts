/**
 * `--dry-run`: what a write would store, computed the way the server computes it (the same
 * document edit, the same validator, the same normalisation) from the document it holds now.
 * Nothing is sent but reads.
 */
import type { AdminClient } from '../client/admin.ts';
import { applyPeerEdit, type PeerEdit, type StoredUpstream } from '../config/edit.ts';
import { upstreamToRaw } from '../config/serialize.ts';
import { parseUpstream } from '../config/validate.ts';
import { CheckupsError } from '../util/errors.ts';
import type { UpstreamWrite } from '../wire/admin.ts';
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
  const parsed = parseUpstream(skey, doc);
  if (!parsed.ok) {
    const n = parsed.errors.length;
    throw new CliError(`${source}: ${n} error${n === 1 ? '' : 's'}, nothing sent:\n  ${parsed.errors.join('\n  ')}`, EXIT.usage);
  }
  return upstreamToRaw(parsed.value) as StoredUpstream;
}

async function current(admin: AdminClient, skey: string): Promise<{ version: number; upstream: StoredUpstream } | null> {
  try {
    return await admin.get(skey);
  } catch (err) {
    if (err instanceof CheckupsError && err.code === 'UNKNOWN_SKEY') return null;
    throw err;
  }
}

export async function planUpdate(admin: AdminClient, skey: string, body: UpstreamWrite, source: string): Promise<Plan> {
  const now = await current(admin, skey);
  const doc = 'upstream' in body ? body.upstream : { ...(now?.upstream ?? {}), cluster: body.cluster };
  return { skey, version: now?.version ?? null, before: now?.upstream ?? null, after: normalized(skey, doc, source) };
}

export async function planDelete(admin: AdminClient, skey: string): Promise<Plan> {
  const now = await admin.get(skey);
  return { skey, version: now.version, before: now.upstream, after: null };
}

export async function planPeerEdit(admin: AdminClient, skey: string, edit: PeerEdit): Promise<Plan> {
  const now = await admin.get(skey);
  return { skey, version: now.version, before: now.upstream, after: normalized(skey, applyPeerEdit(skey, now.upstream, edit), `peer ${edit.op}`) };
}
