/**
 * checkups.v1.DiscoveryService: Watch (WatchHub), SelectPeer / Feedback / GetUpsTimeout (the
 * SelectionEngine, exactly as in process) and GetStatus.
 */
import * as grpc from '@grpc/grpc-js';
import type { SelectionEngine } from '../../balance/selection-engine.ts';
import type { PeerId } from '../../core/model.ts';
import type { UpstreamRegistry } from '../../core/registry.ts';
import type { DiscoveryServiceHandlers } from '../../generated/checkups/v1/DiscoveryService.ts';
import type { GetStatusResponse } from '../../generated/checkups/v1/GetStatusResponse.ts';
import type { HealthChecker } from '../../health/health-checker.ts';
import type { NodeStatus } from '../xds/status.ts';
import { feedbackOutcomes } from '../../observability/metrics.ts';
import type { Clock } from '../../util/clock.ts';
import { CheckupsError } from '../../util/errors.ts';
import { errorToWire } from '../../wire/errors.ts';
import { clusterStatusesToWire } from '../../wire/upstream.ts';
import { healthToWire } from '../../wire/status.ts';
import type { WatchHub } from './watch.ts';
import type { ChangeStore } from '../../core/store/change-store.ts';
import type { StoreStatus } from '../../generated/checkups/v1/StoreStatus.ts';
import { clip } from '../../util/bounded-text.ts';

export interface DiscoveryDeps {
  readonly registry: UpstreamRegistry;
  readonly engine: SelectionEngine;
  readonly watch: WatchHub;
  readonly checker: HealthChecker | undefined;
  readonly clock: Clock;
  readonly startedAt: number;
  /** The server's checkups version (GetStatus.server_version). */
  readonly version: string;
  /** xDS node status (CSDS-like), when the xDS server runs. */
  readonly xdsNodes?: () => NodeStatus[];
  /** The store of admin changes, for its sync state. */
  readonly store?: Pick<ChangeStore, 'kind' | 'location' | 'syncState'>;
}

/** Wraps a synchronous unary handler: thrown errors become gRPC statuses. */
export function unary<Req, Res>(fn: (req: Req) => Res): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    try {
      callback(null, fn(call.request));
    } catch (err) {
      callback(errorToWire(err));
    }
  };
}

/** This process's count of failures in a peer's current passive window (GetStatus, GetServers). */
export function countedHere(engine: SelectionEngine, skey: string): (id: PeerId) => number {
  return (id) => engine.passive(skey, id)?.failedCount ?? 0;
}

function requireSkey(skey: string): string {
  if (skey === '') throw new CheckupsError('INVALID_ARGUMENT', 'skey: is required');
  return skey;
}

function storeStatusToWire(store: Pick<ChangeStore, 'kind' | 'location' | 'syncState'>): StoreStatus {
  const sync = store.syncState();
  return { kind: store.kind, location: store.location, synced: sync.synced, unsyncedSinceMs: sync.synced ? 0 : Math.round(sync.since), reason: sync.synced ? '' : sync.reason };
}

export function statusResponse(deps: Omit<DiscoveryDeps, 'watch'>): GetStatusResponse {
  const { registry, engine, checker, clock } = deps;
  const now = clock.now();
  const st = checker?.status();
  const confHash = registry.global.confHash;
  return {
    upstreams: registry.skeys().map((skey) => {
      const entry = registry.upstream(skey)!;
      return { skey, version: entry.version, heartbeat: entry.heartbeat, clusters: clusterStatusesToWire(entry, countedHere(engine, skey)) };
    }),
    checker: {
      lastCheckTimeMs: Math.round(st?.lastCheckAt ?? 0),
      alive: st?.alive ?? false,
      targets: st?.scheduler.targets ?? 0,
      running: st?.scheduler.running ?? 0,
      hung: st?.scheduler.hung ?? 0,
      latenessP50Ms: st?.scheduler.lateness.p50 ?? 0,
      latenessP99Ms: st?.scheduler.lateness.p99 ?? 0,
    },
    startTimeMs: Math.round(deps.startedAt),
    confHash: confHash === null ? '' : String(confHash),
    revision: registry.currentRevision,
    serverVersion: deps.version,
    ...(deps.store !== undefined ? { store: storeStatusToWire(deps.store) } : {}),
    xdsNodes: (deps.xdsNodes?.() ?? []).map((n) => ({
      nodeId: n.nodeId,
      userAgent: n.userAgent,
      streams: n.streams,
      types: [...n.types.values()].map((t) => ({
        typeUrl: t.typeUrl,
        sentVersion: t.sentVersion ?? '',
        ackedVersion: t.ackedVersion ?? '',
        nacked: t.nacked,
        lastNack: t.lastNack === undefined ? '' : JSON.stringify(t.lastNack),
      })),
    })),
  };
}

export function discoveryHandlers(deps: DiscoveryDeps): DiscoveryServiceHandlers {
  const { engine } = deps;
  return {
    Watch: (call) => deps.watch.handle(call as unknown as Parameters<WatchHub['handle']>[0]),
    SelectPeer: unary((req) => {
      const peer = engine.selectPeer(requireSkey(req.skey), {
        ...(req.hashKey !== '' ? { hashKey: req.hashKey } : {}),
        ...(req.clusterKey.length > 0 ? { clusterKey: req.clusterKey } : {}),
        ...(req.request !== null
          ? {
              request: {
                ...(req.request.path !== '' ? { path: req.request.path } : {}),
                ...(req.request.clientIp !== '' ? { clientIp: req.request.clientIp } : {}),
                ...(req.request.headerHashKey !== '' ? { headerHashKey: req.request.headerHashKey } : {}),
              },
            }
          : {}),
      });
      return { peer: { host: peer.host, port: peer.port, cluster: String(peer.cluster), weight: peer.weight, status: healthToWire(peer.status) } };
    }),
    Feedback: unary((req) => {
      try {
        if (req.port < 1 || req.port > 65535) throw new CheckupsError('INVALID_ARGUMENT', 'port: must be an integer 1..65535');
        engine.feedback(requireSkey(req.skey), req.host, req.port, req.failed);
      } catch (err) {
        feedbackOutcomes.inc({ result: 'rejected' });
        throw err;
      }
      feedbackOutcomes.inc({ result: 'applied' });
      return {};
    }),
    FeedbackBatch: unary((req) => {
      let applied = 0;
      const rejected: string[] = [];
      for (const o of req.outcomes) {
        try {
          engine.feedback(requireSkey(o.skey), o.host, o.port, o.failed);
          applied++;
        } catch (err) {
          rejected.push(`${o.skey} ${o.host}:${o.port}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      feedbackOutcomes.inc({ result: 'applied' }, applied);
      feedbackOutcomes.inc({ result: 'rejected' }, rejected.length);
      return { applied, rejected };
    }),
    GetStatus: unary(() => statusResponse(deps)),
    GetUpsTimeout: unary((req) => {
      const t = engine.getUpsTimeout(requireSkey(req.skey));
      if (t === undefined) throw new CheckupsError('UNKNOWN_SKEY', `unknown skey ${clip(req.skey)}`);
      return t;
    }),
  };
}
