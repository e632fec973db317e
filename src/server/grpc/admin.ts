/**
 * checkups.v1.AdminService: update_upstream / delete_upstream / get_upstream of
 * lua-resty-checkups plus ngx_dynamic_upstream's peer operations.
 *
 * Every write: authenticate, then (one write at a time) build the new upstream document,
 * validate all of it (errors with field paths, nothing applied), append it to the durable store
 * (on disk before we answer), and only then put it in the registry. Peer operations are edits
 * of the stored document, so they are durable and validated the same way.
 */
import * as grpc from '@grpc/grpc-js';
import type { SelectionEngine } from '../../balance/selection-engine.ts';
import type { RawCluster, RawServer, RawUpstream } from '../../core/document.ts';
import { upstreamToRaw } from '../../config/serialize.ts';
import { parseUpstream } from '../../config/validate.ts';
import { peerId } from '../../core/model.ts';
import type { UpstreamRegistry } from '../../core/registry.ts';
import type { UpstreamStore } from '../../core/store/types.ts';
import type { AdminServiceHandlers } from '../../generated/checkups/v1/AdminService.ts';
import type { Clock } from '../../util/clock.ts';
import type { AdminAuth } from './auth.ts';
import { errorToWire } from '../../wire/errors.ts';
import { CheckupsError, invalidConfig } from '../../util/errors.ts';
import { clusterStatusesToWire } from '../../wire/upstream.ts';
import { countedHere } from './discovery.ts';
import { jsonToStruct, structToJson, valueToJson } from '../../wire/struct.ts';

export interface AdminDeps {
  readonly registry: UpstreamRegistry;
  readonly engine: SelectionEngine;
  readonly store: UpstreamStore | undefined;
  readonly auth: AdminAuth;
  readonly clock: Clock;
}

type ClusterMap = Record<string, RawCluster>;

function notFound(skey: string): CheckupsError {
  return new CheckupsError('UNKNOWN_SKEY', `unknown skey ${skey}`);
}

function checkSkey(skey: string): void {
  if (skey === '') throw new CheckupsError('INVALID_ARGUMENT', 'skey: is required');
}

function checkHostPort(host: string, port: number): void {
  if (host === '') throw new CheckupsError('INVALID_ARGUMENT', 'host: is required');
  if (port < 1 || port > 65535) throw new CheckupsError('INVALID_ARGUMENT', 'port: must be an integer 1..65535');
}

export function adminHandlers(deps: AdminDeps): AdminServiceHandlers {
  const { registry, store, auth } = deps;
  let queue: Promise<unknown> = Promise.resolve();

  /** Runs writes one at a time, so each sees the state the previous one left. */
  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  /** Authenticated, serialized write handler. */
  function write<Req, Res>(fn: (req: Req) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      try {
        auth.check(call.metadata);
      } catch (err) {
        callback(errorToWire(err));
        return;
      }
      serialized(() => fn(call.request)).then(
        (res) => callback(null, res),
        (err: unknown) => callback(errorToWire(err)),
      );
    };
  }

  function read<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      try {
        auth.check(call.metadata);
        callback(null, fn(call.request));
      } catch (err) {
        callback(errorToWire(err));
      }
    };
  }

  /** Validates `doc` as upstream `skey` and stores it durably, then applies it. */
  async function commit(skey: string, doc: unknown, path: readonly string[]): Promise<{ version: number }> {
    const parsed = parseUpstream(skey, doc, path);
    if (!parsed.ok) throw invalidConfig(parsed.errors);
    await store?.append({ op: 'put', skey, upstream: upstreamToRaw(parsed.value) });
    return { version: registry.put(parsed.value) };
  }

  function stored(skey: string): RawUpstream & { cluster: ClusterMap } {
    checkSkey(skey);
    const entry = registry.upstream(skey);
    if (entry === undefined) throw notFound(skey);
    return upstreamToRaw(entry.spec) as RawUpstream & { cluster: ClusterMap };
  }

  /** Applies `edit` to every listing of host:port; NOT_FOUND when none. */
  function editServer(doc: { cluster: ClusterMap }, skey: string, host: string, port: number, edit: (s: RawServer) => RawServer): void {
    checkHostPort(host, port);
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

  return {
    UpdateUpstream: write(async (req) => {
      checkSkey(req.skey);
      if (req.body === 'upstream') return commit(req.skey, structToJson(req.upstream), ['upstream']);
      if (req.body === 'cluster') {
        const existing = registry.upstream(req.skey);
        const base = existing === undefined ? {} : upstreamToRaw(existing.spec);
        return commit(req.skey, { ...base, cluster: valueToJson(req.cluster) }, []);
      }
      throw new CheckupsError('INVALID_ARGUMENT', 'upstream or cluster: one of them is required');
    }),

    DeleteUpstream: write(async (req) => {
      checkSkey(req.skey);
      if (registry.upstream(req.skey) === undefined) throw notFound(req.skey);
      await store?.append({ op: 'delete', skey: req.skey });
      registry.delete(req.skey);
      return { version: registry.currentRevision };
    }),

    GetUpstream: read((req) => {
      const doc = stored(req.skey);
      return { upstream: jsonToStruct(doc), version: registry.upstream(req.skey)!.version };
    }),

    ListUpstreams: read(() => ({
      upstreams: registry.skeys().map((skey) => {
        const e = registry.upstream(skey)!;
        return {
          skey,
          version: e.version,
          typ: e.spec.typ,
          mode: e.spec.mode,
          clusters: e.spec.clusters.length,
          servers: e.spec.clusters.reduce((n, c) => n + c.servers.length, 0),
        };
      }),
    })),

    GetServers: read((req) => {
      checkSkey(req.skey);
      const entry = registry.upstream(req.skey);
      if (entry === undefined) throw notFound(req.skey);
      return { version: entry.version, clusters: clusterStatusesToWire(entry, countedHere(deps.engine, req.skey)) };
    }),

    AddPeer: write(async (req) => {
      const doc = stored(req.skey);
      const s = req.server;
      if (s === null) throw new CheckupsError('INVALID_ARGUMENT', 'server: is required');
      checkHostPort(s.host, s.port);
      const key = req.cluster === '' ? '1' : req.cluster;
      const cluster = (doc.cluster[key] ??= { servers: [] });
      const servers = (cluster.servers ??= []);
      servers.push({
        host: s.host,
        port: s.port,
        weight: s.weight === 0 ? 1 : s.weight,
        max_fails: s.maxFails,
        ...(s.failTimeoutMs !== 0 ? { fail_timeout: s.failTimeoutMs / 1000 } : {}),
        ...(s.down ? { down: true } : {}),
      });
      return commit(req.skey, doc, []);
    }),

    RemovePeer: write(async (req) => {
      const doc = stored(req.skey);
      checkHostPort(req.host, req.port);
      const id = peerId(req.host, req.port);
      const keys = req.cluster === '' ? Object.keys(doc.cluster) : [req.cluster];
      let removed = 0;
      for (const key of keys) {
        const c = doc.cluster[key];
        if (c === undefined) throw new CheckupsError('UNKNOWN_CLUSTER', `unknown cluster ${key} in upstream ${req.skey}`);
        const before = c.servers ?? [];
        const after = before.filter((s) => peerId(s.host, s.port) !== id);
        if (after.length === before.length) continue;
        if (after.length === 0) {
          throw new CheckupsError(
            'FAILED_PRECONDITION',
            `${id} is the last server of cluster ${key} in upstream ${req.skey}: replace the cluster map with UpdateUpstream, or delete the upstream`,
          );
        }
        c.servers = after;
        removed++;
      }
      if (removed === 0) throw new CheckupsError('UNKNOWN_PEER', `unknown peer ${id} in upstream ${req.skey}`);
      return commit(req.skey, doc, []);
    }),

    UpdatePeer: write(async (req) => {
      const doc = stored(req.skey);
      if (req._weight === undefined && req._maxFails === undefined && req._failTimeoutMs === undefined) {
        throw new CheckupsError('INVALID_ARGUMENT', 'weight, max_fails or fail_timeout_ms: set at least one');
      }
      editServer(doc, req.skey, req.host, req.port, (s) => ({
        ...s,
        ...(req._weight !== undefined ? { weight: req.weight ?? 0 } : {}),
        ...(req._maxFails !== undefined ? { max_fails: req.maxFails ?? 0 } : {}),
        ...(req._failTimeoutMs !== undefined ? { fail_timeout: (req.failTimeoutMs ?? 0) / 1000 } : {}),
      }));
      return commit(req.skey, doc, []);
    }),

    SetPeerDown: write(async (req) => {
      const doc = stored(req.skey);
      editServer(doc, req.skey, req.host, req.port, (s) => ({ ...s, down: true }));
      return commit(req.skey, doc, []);
    }),

    SetPeerUp: write(async (req) => {
      const doc = stored(req.skey);
      editServer(doc, req.skey, req.host, req.port, ({ down: _down, ...s }) => s);
      return commit(req.skey, doc, []);
    }),
  };
}
