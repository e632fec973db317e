/**
 * Edits of a stored upstream document: ngx_dynamic_upstream's peer operations and the
 * cluster-only form of update_upstream. Pure functions from the current document to the new
 * one; the core write path validates the result, stores it and applies it (and runs the edit
 * again when another instance changed the upstream meanwhile).
 */
import { peerId } from '../core/model.ts';
import type { UpstreamDocument } from '../core/store/change-store.ts';
import { clip } from '../util/bounded-text.ts';
import { CheckupsError } from '../util/errors.ts';
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import { msToSeconds } from './units.ts';

type ClusterMap = Record<string, RawCluster>;
type EditableUpstream = RawUpstream & { cluster: ClusterMap };

export interface NewServer {
  readonly host: string;
  readonly port: number;
  /** 0: the default (1). */
  readonly weight: number;
  readonly maxFails: number;
  /** 0: the default. */
  readonly failTimeoutMs: number;
  readonly down: boolean;
}

export interface ServerChanges {
  readonly weight?: number;
  readonly maxFails?: number;
  readonly failTimeoutMs?: number;
}

function existing(skey: string, doc: UpstreamDocument | undefined): EditableUpstream {
  if (doc === undefined) throw new CheckupsError('UNKNOWN_SKEY', `unknown skey ${clip(skey)}`);
  // A private copy with the cluster map as an own, plain object (documents come from serialize.ts).
  return structuredClone(doc) as EditableUpstream;
}

/** The cluster `key` of `doc`, own properties only (a key like `constructor` is just a name). */
function ownCluster(doc: EditableUpstream, key: string): RawCluster | undefined {
  return Object.hasOwn(doc.cluster, key) ? doc.cluster[key] : undefined;
}

/** Applies `edit` to every listing of host:port; UNKNOWN_PEER when there is none. */
function editServer(skey: string, doc: UpstreamDocument | undefined, host: string, port: number, edit: (s: RawServer) => RawServer): EditableUpstream {
  const out = existing(skey, doc);
  const id = peerId(host, port);
  let found = false;
  for (const c of Object.values(out.cluster)) {
    c.servers = (c.servers ?? []).map((s) => {
      if (peerId(s.host, s.port) !== id) return s;
      found = true;
      return edit(s);
    });
  }
  if (!found) throw new CheckupsError('UNKNOWN_PEER', `unknown peer ${clip(id)} in upstream ${clip(skey)}`);
  return out;
}

/** update_upstream with only a cluster map/list: keeps the stored options (or creates the upstream). */
export const replaceClusters = (cluster: unknown) => (doc: UpstreamDocument | undefined): unknown => ({ ...(doc ?? {}), cluster });

/** Adds a server to cluster `clusterKey` ("" = level 1), creating the cluster when new. */
export const addServer = (skey: string, clusterKey: string, s: NewServer) => (doc: UpstreamDocument | undefined): unknown => {
  const out = existing(skey, doc);
  const key = clusterKey === '' ? '1' : clusterKey;
  let cluster = ownCluster(out, key);
  if (cluster === undefined) {
    cluster = { servers: [] };
    Object.defineProperty(out.cluster, key, { value: cluster, enumerable: true, writable: true, configurable: true });
  }
  (cluster.servers ??= []).push({
    host: s.host,
    port: s.port,
    weight: s.weight === 0 ? 1 : s.weight,
    max_fails: s.maxFails,
    ...(s.failTimeoutMs !== 0 ? { fail_timeout: msToSeconds(s.failTimeoutMs) } : {}),
    ...(s.down ? { down: true } : {}),
  });
  return out;
};

/** Removes host:port from cluster `clusterKey`, or from every cluster listing it (""). */
export const removeServer = (skey: string, host: string, port: number, clusterKey: string) => (doc: UpstreamDocument | undefined): unknown => {
  const out = existing(skey, doc);
  const id = peerId(host, port);
  const keys = clusterKey === '' ? Object.keys(out.cluster) : [clusterKey];
  let removed = 0;
  for (const key of keys) {
    const c = ownCluster(out, key);
    if (c === undefined) throw new CheckupsError('UNKNOWN_CLUSTER', `unknown cluster ${clip(key)} in upstream ${clip(skey)}`);
    const before = c.servers ?? [];
    const after = before.filter((s) => peerId(s.host, s.port) !== id);
    if (after.length === before.length) continue;
    if (after.length === 0) {
      throw new CheckupsError(
        'FAILED_PRECONDITION',
        `${id} is the last server of cluster ${key} in upstream ${skey}: replace the cluster map with UpdateUpstream, or delete the upstream`,
      );
    }
    c.servers = after;
    removed++;
  }
  if (removed === 0) throw new CheckupsError('UNKNOWN_PEER', `unknown peer ${clip(id)} in upstream ${clip(skey)}`);
  return out;
};

/** Changes weight, max_fails or fail_timeout of host:port everywhere it is listed. */
export const updateServer = (skey: string, host: string, port: number, changes: ServerChanges) => (doc: UpstreamDocument | undefined): unknown =>
  editServer(skey, doc, host, port, (s) => ({
    ...s,
    ...(changes.weight !== undefined ? { weight: changes.weight } : {}),
    ...(changes.maxFails !== undefined ? { max_fails: changes.maxFails } : {}),
    ...(changes.failTimeoutMs !== undefined ? { fail_timeout: msToSeconds(changes.failTimeoutMs) } : {}),
  }));

/** Takes host:port out of rotation (`down`) or puts it back, everywhere it is listed. */
export const setServerDown = (skey: string, host: string, port: number, down: boolean) => (doc: UpstreamDocument | undefined): unknown =>
  editServer(skey, doc, host, port, ({ down: _down, ...s }) => (down ? { ...s, down: true } : s));
