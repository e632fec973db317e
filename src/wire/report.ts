/**
 * The one JSON vocabulary people and scripts see: `checkups ... --json`, the SDK's status and
 * change events, and GetStatus as the SDK returns it. It is the config's vocabulary (checkups.yaml,
 * `get`, HTTP /status): snake_case names, durations in the config's unit (seconds), statuses as
 * short words (`ok`, `err`, `unstable`, `unchecked`). Times are epoch milliseconds (`*_ms`).
 * Decoders from checkups.v1 messages live here, so a field is named once.
 */
import type { SelectedPeer } from '../balance/peer.ts';
import type { HeartbeatStatus, PassiveVerdict, PeerHealth, ServerSpec } from '../core/model.ts';
import { peerId } from '../core/model.ts';
import { msToSeconds } from '../config/units.ts';
import type { ClusterStatus__Output } from '../generated/checkups/v1/ClusterStatus.ts';
import type { Event__Output } from '../generated/checkups/v1/Event.ts';
import type { GetStatusResponse__Output } from '../generated/checkups/v1/GetStatusResponse.ts';
import type { SelectedPeer__Output } from '../generated/checkups/v1/SelectedPeer.ts';
import type { UpstreamSummary__Output } from '../generated/checkups/v1/UpstreamSummary.ts';
import { clusterKeyOf } from '../config/build.ts';
import { healthFromWire, passiveFromWire, type PassiveWord } from './status.ts';
import { structToJson, type Json } from './struct.ts';
import { healthFromWireMessage, type DecodedSnapshot } from './upstream.ts';

/** A server as configured: the fields of a `servers:` entry, defaults filled in. */
export interface ServerReport {
  host: string;
  port: number;
  weight: number;
  max_fails: number;
  /** Seconds. */
  fail_timeout: number;
  down: boolean;
}

export interface PeerReport extends ServerReport {
  /** Heartbeat status (`unchecked` when heartbeat is off or not probed yet). */
  status: HeartbeatStatus;
  /** Consecutive failed probes. */
  fail_num: number;
  /** Last probe's error, null after a success. */
  msg: string | null;
  /** Epoch ms of the last status change (0 if never probed). */
  last_modified_ms: number;
  /** Probe-specific facts (redis_version, replication, ...). */
  extras?: { [key: string]: Json };
  /** Passive (max_fails / fail_timeout) state; absent where the server did not send it. */
  passive?: { status: PassiveWord; failed_count: number; /** Epoch ms when an exclusion ends (0 when ok). */ until_ms: number };
  /** The peer's own probe result, when `protected` or flap damping made `status` say otherwise. */
  probe_status?: HeartbeatStatus;
  /** `protected` keeps this failing peer selectable; why. */
  protected?: true;
  protected_reason?: string;
  /** Flap damping: epoch ms until which the peer is held err. */
  damped_until_ms?: number;
  /** Flap damping: status changes in the current window. */
  flaps?: number;
}

/** The fields protection and flap damping add to a peer (absent when they do not apply). */
function healthNotes(h: PeerHealth | undefined): Pick<PeerReport, 'probe_status' | 'protected' | 'protected_reason' | 'damped_until_ms' | 'flaps'> {
  if (h === undefined) return {};
  return {
    ...(h.probeStatus !== undefined ? { probe_status: h.probeStatus } : {}),
    ...(h.protection !== undefined ? { protected: true as const, protected_reason: h.protection.reason } : {}),
    ...(h.dampedUntil !== undefined ? { damped_until_ms: h.dampedUntil } : {}),
    ...(h.flaps !== undefined ? { flaps: h.flaps } : {}),
  };
}

export interface ClusterReport {
  /** "1", "2", ... for levels; names for named clusters. */
  key: string;
  peers: PeerReport[];
}

export interface UpstreamReport {
  skey: string;
  version: number;
  /** False when heartbeat is disabled for the upstream. */
  heartbeat: boolean;
  clusters: ClusterReport[];
}

export interface CheckerReport {
  alive: boolean;
  /** Epoch ms of the last probe result (0 = none yet). */
  last_check_time_ms: number;
  targets: number;
  running: number;
  hung: number;
  lateness_p50_ms: number;
  lateness_p99_ms: number;
}

export interface XdsNodeReport {
  node_id: string;
  user_agent: string;
  streams: number;
  types: { type_url: string; sent_version: string; acked_version: string; nacked: boolean; last_nack: string }[];
}

/** One entry of the event and audit trail, as `GET /events` sends it too. */
export interface EventReport {
  seq: number;
  /** Epoch ms. */
  at: number;
  /** health, admin, auth, config. */
  kind: string;
  message: string;
  skey?: string;
  peer?: string;
  details: { [key: string]: Json };
}

/** GetStatus in the vocabulary. */
export interface StatusReport {
  /** The server's version (empty from servers older than 0.1). */
  server_version: string;
  upstreams: UpstreamReport[];
  checker: CheckerReport | null;
  start_time_ms: number;
  conf_hash: string;
  revision: number;
  xds_nodes: XdsNodeReport[];
}

/** One line of ListUpstreams. */
export interface UpstreamSummaryReport {
  skey: string;
  version: number;
  typ: string;
  mode: string;
  clusters: number;
  servers: number;
}

export function serverReport(s: ServerSpec): ServerReport {
  return { host: s.host, port: s.port, weight: s.weight, max_fails: s.maxFails, fail_timeout: msToSeconds(s.failTimeoutMs), down: s.down };
}

function peerReport(s: ServerSpec, h: PeerHealth | undefined, p: PassiveVerdict | undefined): PeerReport {
  return {
    ...serverReport(s),
    status: h?.status ?? 'unchecked',
    fail_num: h?.failNum ?? 0,
    msg: h?.msg ?? null,
    last_modified_ms: h?.lastModified ?? 0,
    ...(h?.extras !== undefined ? { extras: h.extras as { [key: string]: Json } } : {}),
    ...healthNotes(h),
    passive: p === undefined ? { status: 'ok', failed_count: 0, until_ms: 0 } : { status: 'err', failed_count: p.failedCount, until_ms: p.untilWall },
  };
}

export function clustersReport(clusters: readonly ClusterStatus__Output[]): ClusterReport[] {
  return clusters.map((c) => ({
    key: c.key,
    peers: c.peers.map((p) => {
      const s = p.server;
      const h = p.health;
      return {
        host: s?.host ?? '',
        port: s?.port ?? 0,
        weight: s?.weight ?? 0,
        max_fails: s?.maxFails ?? 0,
        fail_timeout: msToSeconds(s?.failTimeoutMs ?? 0),
        down: s?.down ?? false,
        status: healthFromWire(h?.status),
        fail_num: h?.failNum ?? 0,
        msg: h === null || h.msg === '' ? null : h.msg,
        last_modified_ms: h?.lastModifiedMs ?? 0,
        ...(h?.extras != null ? { extras: structToJson(h.extras) } : {}),
        ...healthNotes(healthFromWireMessage(h)),
        passive: { status: passiveFromWire(p.passiveStatus), failed_count: p.passiveFailedCount, until_ms: p.passiveUntilMs },
      };
    }),
  }));
}

export function statusReport(res: GetStatusResponse__Output): StatusReport {
  const c = res.checker;
  return {
    server_version: res.serverVersion,
    upstreams: res.upstreams.map((u) => ({ skey: u.skey, version: u.version, heartbeat: u.heartbeat, clusters: clustersReport(u.clusters) })),
    checker:
      c === null
        ? null
        : {
            alive: c.alive,
            last_check_time_ms: c.lastCheckTimeMs,
            targets: c.targets,
            running: c.running,
            hung: c.hung,
            lateness_p50_ms: c.latenessP50Ms,
            lateness_p99_ms: c.latenessP99Ms,
          },
    start_time_ms: res.startTimeMs,
    conf_hash: res.confHash,
    revision: res.revision,
    xds_nodes: res.xdsNodes.map((n) => ({
      node_id: n.nodeId,
      user_agent: n.userAgent,
      streams: n.streams,
      types: n.types.map((t) => ({ type_url: t.typeUrl, sent_version: t.sentVersion, acked_version: t.ackedVersion, nacked: t.nacked, last_nack: t.lastNack })),
    })),
  };
}

export function eventReport(e: Event__Output): EventReport {
  return {
    seq: e.seq,
    at: e.timeMs,
    kind: e.kind,
    message: e.message,
    ...(e.skey !== '' ? { skey: e.skey } : {}),
    ...(e.peer !== '' ? { peer: e.peer } : {}),
    details: structToJson(e.details),
  };
}

export function summaryReport(u: UpstreamSummary__Output): UpstreamSummaryReport {
  return { skey: u.skey, version: u.version, typ: u.typ, mode: u.mode, clusters: u.clusters, servers: u.servers };
}

export function selectedReport(p: SelectedPeer__Output): SelectedPeer {
  return { host: p.host, port: p.port, cluster: clusterKeyOf(p.cluster), weight: p.weight, status: healthFromWire(p.status) };
}

/** A decoded Watch snapshot in the vocabulary (what the SDK's change events carry). */
export function snapshotReport(s: DecodedSnapshot): UpstreamReport {
  return {
    skey: s.skey,
    version: s.version,
    heartbeat: s.heartbeat,
    clusters: s.spec.clusters.map((c) => ({ key: String(c.key), peers: c.servers.map((srv) => peerReport(srv, s.health.get(peerId(srv.host, srv.port)), s.passive.get(peerId(srv.host, srv.port)))) })),
  };
}
