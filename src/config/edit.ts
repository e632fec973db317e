/**
 * Peer operations (ngx_dynamic_upstream add / remove / update / down / up) as edits of an
 * upstream's config document. The server applies them before validating and storing the result;
 * `checkups ... --dry-run` applies the same edit to a fetched document to show the difference.
 * Errors are CheckupsErrors with stable codes; nothing is validated here beyond what the edit
 * itself needs (the caller validates the whole document afterwards).
 */
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import { peerId } from '../core/model.ts';
import { CheckupsError } from '../util/errors.ts';

/** An upstream document with its clusters as a map (as GetUpstream and the store hold it). */
export type StoredUpstream = RawUpstream & { cluster: Record<string, RawCluster> };

export type PeerEdit =
  /** Adds a server to a cluster (level "1" when unset); a new level or named cluster is created. */
  | { readonly op: 'add'; readonly cluster?: string | undefined; readonly server: RawServer }
  /** Removes host:port from one cluster, or from every cluster listing it. */
  | { readonly op: 'remove'; readonly host: string; readonly port: number; readonly cluster?: string | undefined }
  /** Changes balancing parameters everywhere host:port is listed. */
  | { readonly op: 'update'; readonly host: string; readonly port: number; readonly weight?: number | undefined; readonly max_fails?: number | undefined; readonly fail_timeout?: number | undefined }
  /** Takes host:port out of rotation (`down: true`) or puts it back, everywhere it is listed. */
  | { readonly op: 'down' | 'up'; readonly host: string; readonly port: number };

export function checkHostPort(host: string, port: number): void {
  if (host === '') throw new CheckupsError('INVALID_ARGUMENT', 'host: is required');
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new CheckupsError('INVALID_ARGUMENT', 'port: must be an integer 1..65535');
}

/** Applies `edit` to every listing of host:port; UNKNOWN_PEER when there is none. */
function editServer(doc: StoredUpstream, skey: string, host: string, port: number, edit: (s: RawServer) => RawServer): void {
  const id = peerId(host, port);
  let found = false;
  for (const c of Object.values(doc.cluster)) {
    c.servers = (c.servers ?? []).map((s) => {
      if (peerId(s.host, s.port) !== id) return s;
      found = true;
      return edit(s);
    });
  }
  if (!found) throw new CheckupsError('UNKNOWN_PEER', `unknown peer ${id} in upstream ${skey}`);
}

/** The document after `edit` (the input is not changed). */
export function applyPeerEdit(skey: string, current: StoredUpstream, edit: PeerEdit): StoredUpstream {
  const doc = structuredClone(current);
  switch (edit.op) {
    case 'add': {
      checkHostPort(edit.server.host, edit.server.port);
      const cluster = (doc.cluster[edit.cluster === undefined || edit.cluster === '' ? '1' : edit.cluster] ??= { servers: [] });
      (cluster.servers ??= []).push({ ...edit.server });
      return doc;
    }
    case 'remove': {
      checkHostPort(edit.host, edit.port);
      const id = peerId(edit.host, edit.port);
      const keys = edit.cluster === undefined || edit.cluster === '' ? Object.keys(doc.cluster) : [edit.cluster];
      let removed = 0;
      for (const key of keys) {
        const c = doc.cluster[key];
        if (c === undefined) throw new CheckupsError('UNKNOWN_CLUSTER', `unknown cluster ${key} in upstream ${skey}`);
        const before = c.servers ?? [];
        const after = before.filter((s) => peerId(s.host, s.port) !== id);
        if (after.length === before.length) continue;
        if (after.length === 0) {
          throw new CheckupsError('FAILED_PRECONDITION', `${id} is the last server of cluster ${key} in upstream ${skey}: replace the cluster map with UpdateUpstream, or delete the upstream`);
        }
        c.servers = after;
        removed++;
      }
      if (removed === 0) throw new CheckupsError('UNKNOWN_PEER', `unknown peer ${id} in upstream ${skey}`);
      return doc;
    }
    case 'update': {
      checkHostPort(edit.host, edit.port);
      if (edit.weight === undefined && edit.max_fails === undefined && edit.fail_timeout === undefined) {
        throw new CheckupsError('INVALID_ARGUMENT', 'weight, max_fails or fail_timeout: set at least one');
      }
      editServer(doc, skey, edit.host, edit.port, (s) => ({
        ...s,
        ...(edit.weight !== undefined ? { weight: edit.weight } : {}),
        ...(edit.max_fails !== undefined ? { max_fails: edit.max_fails } : {}),
        ...(edit.fail_timeout !== undefined ? { fail_timeout: edit.fail_timeout } : {}),
      }));
      return doc;
    }
    case 'down':
      checkHostPort(edit.host, edit.port);
      editServer(doc, skey, edit.host, edit.port, (s) => ({ ...s, down: true }));
      return doc;
    case 'up':
      checkHostPort(edit.host, edit.port);
      editServer(doc, skey, edit.host, edit.port, ({ down: _down, ...s }) => s);
      return doc;
  }
}
