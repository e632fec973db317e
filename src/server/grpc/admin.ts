/**
 * checkups.v1.AdminService: update_upstream / delete_upstream / get_upstream of
 * lua-resty-checkups plus ngx_dynamic_upstream's peer operations.
 *
 * This layer only translates: it authenticates, checks the request's shape, and calls the core
 * write path (core/write-path.ts), which validates, stores (durably, with the version check of
 * a shared store) and applies. Peer operations are edits of the stored document
 * (config/edit.ts), so they are validated and stored the same way.
 */
import * as grpc from '@grpc/grpc-js';
import type { SelectionEngine } from '../../balance/selection-engine.ts';
import { addServer, removeServer, replaceClusters, setServerDown, updateServer } from '../../config/edit.ts';
import type { UpstreamRegistry } from '../../core/registry.ts';
import type { UpstreamWritePath } from '../../core/write-path.ts';
import type { AdminServiceHandlers } from '../../generated/checkups/v1/AdminService.ts';
import { diffUpstream } from '../../core/diff.ts';
import type { Event } from '../../generated/checkups/v1/Event.ts';
import { parseEventKinds, type Actor, type CheckupsEvent, type EventKind, type EventLog } from '../../observability/events.ts';
import { streamsOpen } from '../../observability/metrics.ts';
import type { Clock } from '../../util/clock.ts';
import { keepStoredSecrets, redactUpstream } from '../../config/redact.ts';
import { clip } from '../../util/bounded-text.ts';
import { CheckupsError } from '../../util/errors.ts';
import { errorToWire } from '../../wire/errors.ts';
import { jsonToStruct, structToJson, valueToJson } from '../../wire/struct.ts';
import { clusterStatusesToWire } from '../../wire/upstream.ts';
import type { Authenticator } from './auth.ts';
import { recordAdminChange } from '../audit.ts';
import { countedHere } from './discovery.ts';

export interface AdminDeps {
  readonly registry: UpstreamRegistry;
  readonly engine: SelectionEngine;
  readonly writes: UpstreamWritePath;
  readonly auth: Authenticator;
  readonly clock: Clock;
  /** The event trail: admin changes are recorded here, WatchEvents reads it. */
  readonly events: EventLog;
}

/** Longest WatchEvents message, in events (the backlog is sent in chunks of this size). */
const EVENTS_PER_MESSAGE = 256;

function eventMessage(e: CheckupsEvent): Event {
  return {
    seq: e.seq,
    timeMs: Math.round(e.at),
    kind: e.kind,
    message: e.message,
    skey: e.skey ?? '',
    peer: e.peer ?? '',
    details: jsonToStruct(e.details as Record<string, unknown>),
  };
}

function notFound(skey: string): CheckupsError {
  return new CheckupsError('UNKNOWN_SKEY', `unknown skey ${clip(skey)}`);
}

function checkSkey(skey: string): void {
  if (skey === '') throw new CheckupsError('INVALID_ARGUMENT', 'skey: is required');
}

function checkHostPort(host: string, port: number): void {
  if (host === '') throw new CheckupsError('INVALID_ARGUMENT', 'host: is required');
  if (port < 1 || port > 65535) throw new CheckupsError('INVALID_ARGUMENT', 'port: must be an integer 1..65535');
}

export function adminHandlers(deps: AdminDeps): AdminServiceHandlers {
  const { registry, writes, auth } = deps;

  let queue: Promise<unknown> = Promise.resolve();
  /** Runs this server's writes one at a time, so each one's before/after diff is its own. */
  function serialized<T>(fn: () => Promise<T>): Promise<T> {
    const run = queue.then(fn, fn);
    queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Authenticated write handler; the write path validates, stores and answers with the new
   * version. Each write is recorded in the event trail with what changed, the new version and
   * who made it.
   */
  function write<Req extends { skey: string }>(fn: (req: Req) => Promise<number>): grpc.handleUnaryCall<Req, { version: number }> {
    return (call, callback) => {
      let actor: Actor;
      try {
        actor = auth.check(call, 'admin');
      } catch (err) {
        callback(errorToWire(err));
        return;
      }
      const skey = call.request.skey;
      serialized(async () => {
        const before = registry.upstream(skey)?.spec;
        const version = await fn(call.request);
        const method = call.getPath().split('/').pop() ?? call.getPath();
        recordAdminChange(deps.events, { method, skey, version, diff: diffUpstream(before, registry.upstream(skey)?.spec), actor });
        return version;
      }).then(
        (version) => callback(null, { version }),
        (err: unknown) => callback(errorToWire(err)),
      );
    };
  }

  function read<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
    return (call, callback) => {
      try {
        auth.check(call, 'admin');
        callback(null, fn(call.request));
      } catch (err) {
        callback(errorToWire(err));
      }
    };
  }

  return {
    UpdateUpstream: write((req) => {
      checkSkey(req.skey);
      if (req.body === 'upstream') return writes.edit(req.skey, keepStoredSecrets(req.skey, structToJson(req.upstream), ['upstream']), ['upstream']);
      if (req.body === 'cluster') return writes.edit(req.skey, replaceClusters(valueToJson(req.cluster)));
      throw new CheckupsError('INVALID_ARGUMENT', 'upstream or cluster: one of them is required');
    }),

    DeleteUpstream: write((req) => {
      checkSkey(req.skey);
      return writes.delete(req.skey);
    }),

    GetUpstream: read((req) => {
      checkSkey(req.skey);
      const doc = writes.document(req.skey);
      if (doc === undefined) throw notFound(req.skey);
      return { upstream: jsonToStruct(redactUpstream(doc.upstream, 'mark')), version: doc.version };
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

    AddPeer: write((req) => {
      checkSkey(req.skey);
      const s = req.server;
      if (s === null) throw new CheckupsError('INVALID_ARGUMENT', 'server: is required');
      checkHostPort(s.host, s.port);
      return writes.edit(req.skey, addServer(req.skey, req.cluster, s));
    }),

    RemovePeer: write((req) => {
      checkSkey(req.skey);
      checkHostPort(req.host, req.port);
      return writes.edit(req.skey, removeServer(req.skey, req.host, req.port, req.cluster));
    }),

    UpdatePeer: write((req) => {
      checkSkey(req.skey);
      if (req._weight === undefined && req._maxFails === undefined && req._failTimeoutMs === undefined) {
        throw new CheckupsError('INVALID_ARGUMENT', 'weight, max_fails or fail_timeout_ms: set at least one');
      }
      checkHostPort(req.host, req.port);
      return writes.edit(
        req.skey,
        updateServer(req.skey, req.host, req.port, {
          ...(req._weight !== undefined ? { weight: req.weight ?? 0 } : {}),
          ...(req._maxFails !== undefined ? { maxFails: req.maxFails ?? 0 } : {}),
          ...(req._failTimeoutMs !== undefined ? { failTimeoutMs: req.failTimeoutMs ?? 0 } : {}),
        }),
      );
    }),

    SetPeerDown: write((req) => {
      checkSkey(req.skey);
      checkHostPort(req.host, req.port);
      return writes.edit(req.skey, setServerDown(req.skey, req.host, req.port, true));
    }),

    SetPeerUp: write((req) => {
      checkSkey(req.skey);
      checkHostPort(req.host, req.port);
      return writes.edit(req.skey, setServerDown(req.skey, req.host, req.port, false));
    }),

    WatchEvents: (call) => {
      const events = deps.events;
      let kinds: Set<EventKind> | undefined;
      try {
        auth.check(call, 'admin');
        try {
          kinds = parseEventKinds(call.request.kinds);
        } catch (err) {
          throw new CheckupsError('INVALID_ARGUMENT', (err as Error).message);
        }
      } catch (err) {
        call.emit('error', errorToWire(err));
        return;
      }
      const { follow, afterSeq, last } = call.request;
      const backlog = afterSeq > 0 ? events.since(afterSeq, Infinity, kinds) : events.since(0, last, kinds);
      let missed = afterSeq > 0 && afterSeq + 1 < events.firstSeq ? events.firstSeq - afterSeq - 1 : 0;
      for (let i = 0; i < backlog.length; i += EVENTS_PER_MESSAGE) {
        call.write({ events: backlog.slice(i, i + EVENTS_PER_MESSAGE).map(eventMessage), missed });
        missed = 0;
      }
      if (!follow) {
        call.end();
        return;
      }
      const follower = events.follow({
        afterSeq: backlog.at(-1)?.seq ?? Math.max(afterSeq, events.lastSeq),
        ...(kinds !== undefined ? { kinds } : {}),
        write: (e, skipped) => call.write({ events: [eventMessage(e)], missed: skipped }),
      });
      streamsOpen.inc({ kind: 'events' });
      call.on('drain', () => follower.resume());
      const done = () => {
        if (follower.closed) return;
        follower.close();
        streamsOpen.dec({ kind: 'events' });
      };
      call.on('cancelled', done);
      call.on('close', done);
      call.on('error', done);
    },
  };
}
