/**
 * Registry state -> checkups.v1 messages. Watch, GetStatus and the admin listing all build
 * their answers here, so a peer looks the same whichever RPC shows it.
 */
import type { PassiveRecord } from '../../balance/passive.ts';
import { upstreamToRaw } from '../../config/serialize.ts';
import type { HeartbeatStatus, PassiveVerdict, PeerHealth, PeerId, ServerSpec } from '../../core/model.ts';
import { peerId, probeStatusOf } from '../../core/model.ts';
import type { UpstreamEntry } from '../../core/registry.ts';
import type { ClusterStatus } from '../../generated/checkups/v1/ClusterStatus.ts';
import type { HealthStatus } from '../../generated/checkups/v1/HealthStatus.ts';
import type { PeerHealth as PeerHealthMessage } from '../../generated/checkups/v1/PeerHealth.ts';
import type { Server } from '../../generated/checkups/v1/Server.ts';
import type { UpstreamSnapshot } from '../../generated/checkups/v1/UpstreamSnapshot.ts';
import { jsonToStruct } from './struct.ts';

const STATUS: Record<HeartbeatStatus, HealthStatus> = {
  unchecked: 'HEALTH_STATUS_UNCHECKED',
  ok: 'HEALTH_STATUS_OK',
  unstable: 'HEALTH_STATUS_UNSTABLE',
  err: 'HEALTH_STATUS_ERR',
};

export function healthStatusOf(status: HeartbeatStatus): HealthStatus {
  return STATUS[status];
}

export function serverMessage(s: ServerSpec): Server {
  return { host: s.host, port: s.port, weight: s.weight, maxFails: s.maxFails, failTimeoutMs: s.failTimeoutMs, down: s.down };
}

/** Health as selection sees it: unchecked when heartbeat is off or the peer was never probed. */
export function effectiveHealth(entry: UpstreamEntry, id: PeerId): PeerHealth | undefined {
  return entry.heartbeat ? entry.health(id) : undefined;
}

export function healthMessage(h: PeerHealth | undefined): PeerHealthMessage {
  if (h === undefined) return { status: 'HEALTH_STATUS_UNCHECKED', failNum: 0, msg: '', lastModifiedMs: 0, probeStatus: 'HEALTH_STATUS_UNCHECKED' };
  return {
    status: STATUS[h.status],
    failNum: h.failNum,
    msg: h.msg ?? '',
    lastModifiedMs: Math.round(h.lastModified),
    ...(h.extras !== undefined ? { extras: jsonToStruct(h.extras as Record<string, unknown>) } : {}),
    probeStatus: STATUS[probeStatusOf(h)],
    protected: h.protection !== undefined,
    protectedReason: h.protection?.reason ?? '',
    dampedUntilMs: h.dampedUntil ?? 0,
    flaps: h.flaps ?? 0,
  };
}

/** A peer's published passive state as the Peer and PeerStatus messages carry it. */
export function passiveFields(v: PassiveVerdict | undefined, countedNow = 0) {
  return v === undefined
    ? { passiveStatus: 'PASSIVE_STATUS_OK' as const, passiveFailedCount: countedNow, passiveUntilMs: 0 }
    : { passiveStatus: 'PASSIVE_STATUS_ERR' as const, passiveFailedCount: Math.max(v.failedCount, countedNow), passiveUntilMs: Math.round(v.untilWall) };
}

/** The upstream's options document without `cluster` (the clusters travel as typed messages). */
export function optionsStruct(entry: UpstreamEntry) {
  const { cluster: _cluster, ...options } = upstreamToRaw(entry.spec);
  return jsonToStruct(options as Record<string, unknown>);
}

export function snapshotMessage(entry: UpstreamEntry): UpstreamSnapshot {
  return {
    skey: entry.spec.skey,
    version: entry.version,
    config: optionsStruct(entry),
    heartbeat: entry.heartbeat,
    clusters: entry.spec.clusters.map((c) => ({
      key: String(c.key),
      peers: c.servers.map((s) => {
        const id = peerId(s.host, s.port);
        return { server: serverMessage(s), health: healthMessage(effectiveHealth(entry, id)), ...passiveFields(entry.passive(id)) };
      }),
      ...(c.try !== undefined ? { try: c.try } : {}),
    })),
  };
}

/**
 * Status of every peer: the published passive verdict (what every instance and client acts on),
 * with this process's count of failures in the current window when it has one.
 */
export function clusterStatuses(entry: UpstreamEntry, passive: (id: PeerId) => Readonly<PassiveRecord> | undefined): ClusterStatus[] {
  return entry.spec.clusters.map((c) => ({
    key: String(c.key),
    peers: c.servers.map((s) => {
      const id = peerId(s.host, s.port);
      return { server: serverMessage(s), health: healthMessage(effectiveHealth(entry, id)), ...passiveFields(entry.passive(id), passive(id)?.failedCount ?? 0) };
    }),
  }));
}
