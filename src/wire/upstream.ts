/**
 * Upstreams on the wire, both ways: the model (UpstreamSpec, PeerHealth) <-> checkups.v1
 * Server, PeerHealth, ClusterState, UpstreamSnapshot, PeerStatus. The server encodes Watch,
 * GetStatus and GetServers answers here; the SDK decodes Watch snapshots here straight into the
 * model (no validator: the server validated the document before it stored it).
 *
 * Adding a field to a peer or an upstream (passive state, flags): encode it in `peerToWire` /
 * `peerStatusToWire` (per peer) or the `*HeadToWire` functions (per upstream or cluster),
 * decode it in `snapshotFromWire`, and show it in report.ts. Nowhere else. A per-peer field
 * must come from a field of `PeerInputs`: upstream-encoding.ts encodes a peer again only when
 * one of its inputs is another value.
 */
import { buildUpstream, clusterKeyOf } from '../config/build.ts';
import { upstreamToRaw } from '../config/serialize.ts';
import type { ClusterSpec, PassiveVerdict, PeerHealth, PeerId, ServerSpec, UpstreamSpec } from '../core/model.ts';
import { peerId, probeStatusOf, serverPeerId } from '../core/model.ts';
import type { ClusterState } from '../generated/checkups/v1/ClusterState.ts';
import type { ClusterStatus } from '../generated/checkups/v1/ClusterStatus.ts';
import type { Peer } from '../generated/checkups/v1/Peer.ts';
import type { PeerStatus } from '../generated/checkups/v1/PeerStatus.ts';
import type { UpstreamStatus } from '../generated/checkups/v1/UpstreamStatus.ts';
import type { PeerHealth as PeerHealthMessage, PeerHealth__Output } from '../generated/checkups/v1/PeerHealth.ts';
import type { Server, Server__Output } from '../generated/checkups/v1/Server.ts';
import type { Struct } from '../generated/google/protobuf/Struct.ts';
import type { UpstreamSnapshot, UpstreamSnapshot__Output } from '../generated/checkups/v1/UpstreamSnapshot.ts';
import { healthFromWire, healthToWire, passiveFromWire, passiveToWire } from './status.ts';
import { jsonToStruct, structToJson, type Json } from './struct.ts';
import { redactUpstream } from '../config/redact.ts';

/** What the server knows of one upstream (the registry's UpstreamEntry is one). */
export interface UpstreamState {
  readonly spec: UpstreamSpec;
  readonly version: number;
  /** False when heartbeat is off for the upstream: every peer then reads unchecked. */
  readonly heartbeat: boolean;
  health(id: PeerId): PeerHealth | undefined;
  /** The published passive exclusion of a peer (absent = passively ok). */
  passive(id: PeerId): PassiveVerdict | undefined;
  /** Slow start: when the peer's ramp began (server clock), while it may still ramp. */
  rampStart?(id: PeerId): number | undefined;
  /**
   * Changes on every write of a peer's health or passive record, even one that keeps `version`
   * (the registry's UpstreamEntry has it). Absent: not tracked, so a status of the upstream is
   * put together again on every call.
   */
  readonly peersRevision?: number;
  /**
   * Peers whose health or passive record was written after `peersRevision` (undefined: not
   * known, read every peer). Absent: not tracked.
   */
  peersTouchedSince?(peersRevision: number): Iterable<PeerId> | undefined;
}

export function serverToWire(s: ServerSpec): Server {
  return { host: s.host, port: s.port, weight: s.weight, maxFails: s.maxFails, failTimeoutMs: s.failTimeoutMs, down: s.down };
}

export function serverFromWire(s: Server__Output): ServerSpec {
  return { host: s.host, port: s.port, weight: s.weight, maxFails: s.maxFails, failTimeoutMs: s.failTimeoutMs, down: s.down };
}

/** Health as selection sees it: none when heartbeat is off or the peer was never probed. */
export function effectiveHealth(u: UpstreamState, id: PeerId): PeerHealth | undefined {
  return u.heartbeat ? u.health(id) : undefined;
}

export function healthToWireMessage(h: PeerHealth | undefined): PeerHealthMessage {
  if (h === undefined) return { status: healthToWire('unchecked'), failNum: 0, msg: '', lastModifiedMs: 0, probeStatus: healthToWire('unchecked') };
  return {
    status: healthToWire(h.status),
    failNum: h.failNum,
    msg: h.msg ?? '',
    lastModifiedMs: Math.round(h.lastModified),
    ...(h.extras !== undefined ? { extras: jsonToStruct(h.extras) } : {}),
    probeStatus: healthToWire(probeStatusOf(h)),
    protected: h.protection !== undefined,
    protectedReason: h.protection?.reason ?? '',
    dampedUntilMs: h.dampedUntil ?? 0,
    flaps: h.flaps ?? 0,
  };
}

/** undefined for a peer never probed (the engine treats it as unchecked). */
export function healthFromWireMessage(h: PeerHealth__Output | null): PeerHealth | undefined {
  if (h === null || healthFromWire(h.status) === 'unchecked') return undefined;
  const status = healthFromWire(h.status);
  const probeStatus = healthFromWire(h.probeStatus);
  return {
    status,
    failNum: h.failNum,
    lastModified: h.lastModifiedMs,
    msg: h.msg === '' ? null : h.msg,
    ...(h.extras !== null ? { extras: structToJson(h.extras) } : {}),
    ...(probeStatus !== 'unchecked' && probeStatus !== status ? { probeStatus } : {}),
    ...(h.protected ? { protection: { reason: h.protectedReason } } : {}),
    ...(Number(h.dampedUntilMs) > 0 ? { dampedUntil: Number(h.dampedUntilMs) } : {}),
    ...(h.flaps > 0 ? { flaps: h.flaps } : {}),
  };
}

/** A peer's published passive state as Peer and PeerStatus carry it; `countedNow` is this process's own count. */
export function passiveToWireFields(v: PassiveVerdict | undefined, countedNow = 0) {
  return v === undefined
    ? { passiveStatus: passiveToWire('ok'), passiveFailedCount: countedNow, passiveUntilMs: 0 }
    : { passiveStatus: passiveToWire('err'), passiveFailedCount: Math.max(v.failedCount, countedNow), passiveUntilMs: Math.round(v.untilWall) };
}

/** The upstream's options document without `cluster` (the clusters travel as typed messages). */
export function optionsToWire(spec: UpstreamSpec): Struct {
  let options = optionsOf.get(spec);
  if (options === undefined) {
    // Watch and GetStatus need no admin right: secrets are left out, not even marked as set. The
    // servers are left out before the conversion: at 10,000 of them, converting them only to
    // drop them was most of the cost of a Watch snapshot's or a status's head.
    const { cluster: _cluster, ...raw } = redactUpstream(upstreamToRaw({ ...spec, clusters: [] }), 'omit');
    options = jsonToStruct(raw);
    optionsOf.set(spec, options);
  }
  return options;
}

/** optionsToWire per spec (specs are immutable: the registry replaces them, never changes them); read only by the encoders. */
const optionsOf = new WeakMap<UpstreamSpec, Struct>();

/**
 * One upstream as Watch sends it. Ramp starts are on the server's clock: the Watch message that
 * carries the snapshot also carries that clock's reading when it was written
 * (`server_clock_ms`), so a snapshot encoded once and sent later still says the right thing.
 */
export function snapshotToWire(u: UpstreamState): UpstreamSnapshot {
  return { ...snapshotHeadToWire(u), clusters: u.spec.clusters.map((c) => ({ ...clusterHeadToWire(c), peers: c.servers.map((s) => peerToWire(peerInputs(u, s))) })) };
}

/** A snapshot's fields besides `clusters` (upstream-encoding.ts encodes the clusters in parts). */
export function snapshotHeadToWire(u: UpstreamState): Omit<UpstreamSnapshot, 'clusters'> {
  return { skey: u.spec.skey, version: u.version, config: optionsToWire(u.spec), heartbeat: u.heartbeat };
}

/** A ClusterState's fields besides `peers`. */
export function clusterHeadToWire(c: ClusterSpec): Omit<ClusterState, 'peers'> {
  return { key: String(c.key), ...(c.try !== undefined ? { try: c.try } : {}) };
}

/**
 * Everything one peer of a snapshot depends on. All immutable values (the registry replaces a
 * health or verdict object, never changes it), so equal inputs make equal bytes
 * (upstream-encoding.ts encodes a peer again only when one of them is another object).
 */
export interface PeerInputs {
  readonly server: ServerSpec;
  readonly health: PeerHealth | undefined;
  readonly passive: PassiveVerdict | undefined;
  readonly rampStart: number | undefined;
}

export function peerInputs(u: UpstreamState, s: ServerSpec): PeerInputs {
  const id = serverPeerId(s);
  return { server: s, health: effectiveHealth(u, id), passive: u.passive(id), rampStart: u.rampStart?.(id) };
}

/** One peer of a snapshot. */
export function peerToWire(p: PeerInputs): Peer {
  return {
    server: serverToWire(p.server),
    health: healthToWireMessage(p.health),
    ...passiveToWireFields(p.passive),
    ...(p.rampStart !== undefined ? { slowStartClockMs: Math.floor(p.rampStart) } : {}),
  };
}

/** One Watch snapshot in the model's terms. */
export interface DecodedSnapshot {
  readonly skey: string;
  readonly version: number;
  readonly heartbeat: boolean;
  readonly spec: UpstreamSpec;
  /** Probed peers only. */
  readonly health: ReadonlyMap<PeerId, PeerHealth>;
  /** Peers the server excludes passively. */
  readonly passive: ReadonlyMap<PeerId, PassiveVerdict>;
  /** Slow start: when each ramping peer's ramp began, on the receiver's clock (see ClockPair). */
  readonly rampStarts: ReadonlyMap<PeerId, number>;
  /** Equal fingerprints mean an equal configuration (only health changed). */
  readonly fingerprint: string;
}

/**
 * The server's clock reading of the Watch message (`server_clock_ms`) and the receiver's own
 * clock when it arrived: a ramp that began `server - start` ms before the message began that
 * long before `local` here. Network delay makes it look younger by the transit time.
 */
export interface ClockPair {
  readonly server: number;
  readonly local: number;
}

/**
 * Decodes a snapshot. When `previous` has the same configuration its spec object is reused, so
 * the SDK's balancer keeps its round-robin and passive state (the server does the same).
 * Without `clocks` (or from a server that sends no clock), ramp starts are left out.
 */
export function snapshotFromWire(s: UpstreamSnapshot__Output, previous?: Pick<DecodedSnapshot, 'fingerprint' | 'spec'>, clocks?: ClockPair): DecodedSnapshot {
  const options = structToJson(s.config);
  const health = new Map<PeerId, PeerHealth>();
  const passive = new Map<PeerId, PassiveVerdict>();
  const rampStarts = new Map<PeerId, number>();
  const withRamps = clocks !== undefined;
  const clusters: ClusterSpec[] = s.clusters.map((c) => ({
    key: clusterKeyOf(c.key),
    servers: c.peers.map((p) => {
      if (p.server === null) throw new Error(`snapshot of ${s.skey}: cluster ${c.key} has a peer without a server`);
      const server = serverFromWire(p.server);
      const id = peerId(server.host, server.port);
      const h = healthFromWireMessage(p.health);
      if (h !== undefined) health.set(id, h);
      if (passiveFromWire(p.passiveStatus) === 'err') passive.set(id, { failedCount: p.passiveFailedCount, untilWall: p.passiveUntilMs });
      if (withRamps && p._slowStartClockMs === 'slowStartClockMs') rampStarts.set(id, clocks.local - Math.max(0, clocks.server - p.slowStartClockMs!));
      return server;
    }),
    ...(c._try === 'try' ? { try: c.try } : {}),
    upstreamOnlyBackup: false,
  }));
  const fingerprint = JSON.stringify([options, clusters]);
  const spec = previous?.fingerprint === fingerprint ? previous.spec : { ...buildUpstream(s.skey, { ...(options as Record<string, Json>), cluster: [] }), clusters };
  return { skey: s.skey, version: s.version, heartbeat: s.heartbeat, spec, health, passive, rampStarts, fingerprint };
}

/**
 * Status of every peer (GetStatus, GetServers): the published passive verdict (what every
 * instance and client acts on), with this process's count of failures in the current window.
 */
export function clusterStatusesToWire(u: UpstreamState, countedHere: (id: PeerId) => number): ClusterStatus[] {
  return u.spec.clusters.map((c) => ({ ...clusterStatusHeadToWire(c), peers: c.servers.map((s) => peerStatusToWire(peerStatusInputs(u, s, countedHere))) }));
}

/** An UpstreamStatus's fields besides `clusters` (upstream-encoding.ts encodes the clusters in parts). */
export function upstreamStatusHeadToWire(u: UpstreamState): Omit<UpstreamStatus, 'clusters'> {
  return { skey: u.spec.skey, version: u.version, heartbeat: u.heartbeat };
}

/** A ClusterStatus's fields besides `peers`. */
export function clusterStatusHeadToWire(c: ClusterSpec): Omit<ClusterStatus, 'peers'> {
  return { key: String(c.key) };
}

/** What one peer's status depends on: a snapshot peer's inputs plus this process's own count. */
export interface PeerStatusInputs extends PeerInputs {
  readonly countedHere: number;
}

export function peerStatusInputs(u: UpstreamState, s: ServerSpec, countedHere: (id: PeerId) => number): PeerStatusInputs {
  const id = serverPeerId(s);
  return { server: s, health: effectiveHealth(u, id), passive: u.passive(id), rampStart: undefined, countedHere: countedHere(id) };
}

export function peerStatusToWire(p: PeerStatusInputs): PeerStatus {
  return { server: serverToWire(p.server), health: healthToWireMessage(p.health), ...passiveToWireFields(p.passive, p.countedHere) };
}
