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
import { upstreamToRaw } from '../../config/serialize.ts';
import { parseUpstream } from '../../config/validate.ts';
import type { UpstreamRegistry } from '../../core/registry.ts';
import type { UpstreamStore } from '../../core/store/types.ts';
import type { AdminServiceHandlers } from '../../generated/checkups/v1/AdminService.ts';
import type { Clock } from '../../util/clock.ts';
import type { AdminAuth } from './auth.ts';
import { errorToWire } from '../../wire/errors.ts';
import { CheckupsError, invalidConfig } from '../../util/errors.ts';
import { clusterStatusesToWire } from '../../wire/upstream.ts';
import { countedHere } from './discovery.ts';
import { jsonToStruct } from '../../wire/struct.ts';
import { addPeerFromWire, removePeerFromWire, updatePeerFromWire, updateUpstreamFromWire } from '../../wire/admin.ts';
import { applyPeerEdit, type StoredUpstream } from '../../config/edit.ts';

export interface AdminDeps {
  readonly registry: UpstreamRegistry;
  readonly engine: SelectionEngine;
  readonly store: UpstreamStore | undefined;
  readonly auth: AdminAuth;
  readonly clock: Clock;
}

function notFound(skey: string): CheckupsError {
  return new CheckupsError('UNKNOWN_SKEY', `unknown skey ${skey}`);
}

function checkSkey(skey: string): void {
  if (skey === '') throw new CheckupsError('INVALID_ARGUMENT', 'skey: is required');
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

  function stored(skey: string): StoredUpstream {
    checkSkey(skey);
    const entry = registry.upstream(skey);
    if (entry === undefined) throw notFound(skey);
    return upstreamToRaw(entry.spec) as StoredUpstream;
  }

  return {
    UpdateUpstream: write(async (req) => {
      checkSkey(req.skey);
      const body = updateUpstreamFromWire(req);
      if ('upstream' in body) return commit(req.skey, body.upstream, ['upstream']);
      const existing = registry.upstream(req.skey);
      const base = existing === undefined ? {} : upstreamToRaw(existing.spec);
      return commit(req.skey, { ...base, cluster: body.cluster }, []);
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

    AddPeer: write(async (req) => commit(req.skey, applyPeerEdit(req.skey, stored(req.skey), addPeerFromWire(req)), [])),
    RemovePeer: write(async (req) => commit(req.skey, applyPeerEdit(req.skey, stored(req.skey), removePeerFromWire(req)), [])),
    UpdatePeer: write(async (req) => commit(req.skey, applyPeerEdit(req.skey, stored(req.skey), updatePeerFromWire(req)), [])),
    SetPeerDown: write(async (req) => commit(req.skey, applyPeerEdit(req.skey, stored(req.skey), { op: 'down', host: req.host, port: req.port }), [])),
    SetPeerUp: write(async (req) => commit(req.skey, applyPeerEdit(req.skey, stored(req.skey), { op: 'up', host: req.host, port: req.port }), [])),
  };
}
