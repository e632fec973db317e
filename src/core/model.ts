/**
 * The data model of checkups, defined once. Config loading produces these types, the registry
 * holds them, balancing and health read them, the servers encode them.
 *
 * Units: every duration is in milliseconds here (the YAML config keeps lua-resty-checkups'
 * seconds; `config/` converts). Semantics: docs/compat.md.
 */

export const PROBE_TYPES = ['general', 'http', 'redis', 'mysql', 'grpc'] as const;
/** `typ`: which heartbeat probes the upstream's servers (and, for http, how results classify). */
export type ProbeType = (typeof PROBE_TYPES)[number];

export const BALANCE_MODES = ['wrr', 'hash', 'url_hash', 'ip_hash', 'header_hash'] as const;
/** `mode`: smooth weighted round robin, or consistent hash keyed as the mode says. */
export type BalanceMode = (typeof BALANCE_MODES)[number];

/** A numeric key is a priority level (1 first); a string key names a cluster. */
export type ClusterKey = number | string;

/**
 * Largest server weight: lua-resty-checkups' full range (its own tests use 3,200,000). Smooth WRR
 * is exact for it (float64 holds Σweights of 65,535 such servers exactly); the hash ring and xDS
 * scale weights within their own limits (docs/compat.md).
 */
export const MAX_WEIGHT = 2 ** 31 - 1;

export interface ServerSpec {
  readonly host: string;
  readonly port: number;
  /** 1..MAX_WEIGHT. */
  readonly weight: number;
  /** Failures within `failTimeoutMs` that mark the peer down passively; 0 turns accounting off. */
  readonly maxFails: number;
  readonly failTimeoutMs: number;
  /** Taken out of rotation by an operator (ngx_dynamic_upstream `down`). */
  readonly down: boolean;
}

export interface ClusterSpec {
  readonly key: ClusterKey;
  readonly servers: readonly ServerSpec[];
  /** Highest number of failed attempts in this cluster before falling through (see docs/compat.md). */
  readonly try?: number;
  /** nginx `upstream{}` block name: accepted for compatibility, has no effect here. */
  readonly upstream?: string;
  readonly upstreamOnlyBackup: boolean;
}

export interface HttpOptions {
  /** Raw request sent by the http probe; without it the probe is a TCP connect. */
  readonly query?: string;
  /** Status code (as a string) -> usable. Only an explicit `false` marks a failure. */
  readonly statuses?: Readonly<Record<string, boolean>>;
  /** Probe over TLS. */
  readonly https?: boolean;
  /** TLS server name (SNI); defaults to the Host header, else the server's host. */
  readonly sni?: string;
  /** Verify the server certificate (default true). */
  readonly verify?: boolean;
  /** Regular expression the response body must match (checked on the first 64 KiB). */
  readonly bodyMatch?: string;
}

/**
 * A secret is given in one of three ways: its value in the config (`password`), the name of an
 * environment variable, or a file; the probe resolves it when it runs. Only the value is a
 * secret: variable names and paths are shown like any other option.
 */
export interface RedisOptions {
  readonly password?: string;
  readonly passwordEnv?: string;
  readonly passwordFile?: string;
  readonly db?: number;
}

export interface GrpcOptions {
  /** Service name asked in grpc.health.v1.Health/Check ("" = the whole server). */
  readonly service?: string;
}

export interface MysqlOptions {
  readonly name?: string;
  readonly user?: string;
  readonly pass?: string;
  /** Alternatives to `pass` (see RedisOptions). */
  readonly passEnv?: string;
  readonly passFile?: string;
  readonly charset?: string;
}

export interface UpstreamSpec {
  readonly skey: string;
  /** Heartbeat switch; unset follows `global.defaultHeartbeatEnable`. */
  readonly enable?: boolean;
  readonly typ: ProbeType;
  readonly timeoutMs: number;
  readonly readTimeoutMs?: number;
  readonly sendTimeoutMs?: number;
  readonly http: HttpOptions;
  /** Consecutive failed probes needed before the recorded status leaves ok. */
  readonly sensibility: number;
  /** Consecutive successful probes needed before a failing peer is ok again (1 = at once). */
  readonly rise: number;
  /** Probe interval for peers that are not ok; unset = the global interval. */
  readonly unhealthyIntervalMs?: number;
  /** Keep the first server `unstable` (selectable) when every probe of the upstream fails. */
  readonly protected: boolean;
  /** Share of the upstream's peers passive health may exclude at once (balance/ejection-cap.ts). */
  readonly maxEjectionPercent: number;
  /** Slow start: a peer that becomes usable ramps up to its full weight (balance/slow-start.ts). */
  readonly slowStart: SlowStartSpec;
  readonly flapDamping: FlapDampingSpec;
  readonly mode: BalanceMode;
  /** Highest number of failed attempts per call; unset = number of servers tried. */
  readonly try?: number;
  /** Budget for the summed duration of failed attempts; 0 = unlimited. */
  readonly tryTimeoutMs: number;
  readonly mysql: MysqlOptions;
  readonly redis: RedisOptions;
  readonly grpc: GrpcOptions;
  /** Levels ascending, then named clusters in the order they were written. */
  readonly clusters: readonly ClusterSpec[];
}

/**
 * Slow start (Envoy's SlowStartConfig): a peer that becomes usable - added to an existing
 * upstream, back from heartbeat err, or set up again by an operator - is picked with
 * `weight * max(minWeightPercent / 100, (elapsed / windowMs) ^ (1 / aggression))` until
 * `windowMs` has passed (balance/slow-start.ts).
 */
export interface SlowStartSpec {
  /** 0 = off. */
  readonly windowMs: number;
  /** > 0; 1 ramps linearly, larger ramps faster early on, smaller holds back longer. */
  readonly aggression: number;
  /** 0..100: the share of its weight a ramping peer gets at least. */
  readonly minWeightPercent: number;
}

/**
 * Flap damping: a peer whose own status changes more than `threshold` times within `windowMs`
 * is held err for a penalty that starts at `penaltyMs`, doubles on each further flap up to
 * `maxPenaltyMs`, and halves for every quiet window (health/flap-damping.ts).
 */
export interface FlapDampingSpec {
  /** 0 = off. */
  readonly threshold: number;
  readonly windowMs: number;
  readonly penaltyMs: number;
  readonly maxPenaltyMs: number;
}

export interface GlobalSpec {
  readonly checkupTimerIntervalMs: number;
  readonly checkupTimerOvertimeMs: number;
  readonly defaultHeartbeatEnable: boolean;
  readonly shdConfigTimerIntervalMs: number;
  readonly upsStatusSyncEnable: boolean;
  readonly upsStatusTimerIntervalMs: number;
  readonly confHash: string | number | null;
}

/**
 * `auto`: a token is needed on a port that listens beyond loopback, when some token is
 * configured; `required`: always; `off`: never (admin calls still need the admin token).
 */
export type DiscoveryAuthMode = 'auto' | 'required' | 'off';

/** Limits on reported request outcomes (server.feedback; docs/security.md). */
export interface FeedbackLimits {
  /** Most outcomes in one FeedbackBatch; larger batches are refused whole. */
  readonly maxBatch: number;
  /** Outcomes per second one caller may report (token bucket refill). */
  readonly callerRate: number;
  /** Outcomes one caller may report at once (token bucket size). */
  readonly callerBurst: number;
  /**
   * Peers of one upstream that one caller's failures alone may bring to max_fails within
   * fail_timeout; for further peers its failures count up to max_fails - 1.
   */
  readonly peersPerCaller: number;
}

/** Process settings from the config's `server:` section (flags override them). */
export interface ServerSettings {
  readonly grpcListen?: string;
  readonly httpListen?: string;
  readonly dataDir?: string;
  /** Cluster mode: redis://HOST:PORT/DB holding the shared record (docs/cluster.md). */
  readonly store?: string;
  /** Cluster name (key prefix in the store). */
  readonly cluster?: string;
  readonly adminToken?: string;
  /** Token with the read right (Watch, SelectPeer, GetStatus, GetUpsTimeout, xDS, HTTP status). */
  readonly readToken?: string;
  /** Token with the read and feedback rights (also Feedback, FeedbackBatch). */
  readonly feedbackToken?: string;
  /** Whether the read and feedback rights need a token (docs/security.md). */
  readonly discoveryAuth?: DiscoveryAuthMode;
  /** Bounds on Feedback/FeedbackBatch per call, per caller and per peer. */
  readonly feedback?: FeedbackLimits;
  readonly allowInsecureAdmin?: boolean;
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  readonly tlsClientCa?: string;
  readonly maxMessageBytes?: number;
  /** Export `checkups_peer_up` per peer (default true; off for very large fleets). */
  readonly metricsPerPeer?: boolean;
  /** Events the in-memory event ring keeps (default 10000). */
  readonly eventBuffer?: number;
  /** A Watch or xDS stream whose client leaves a message unread this long is closed (default 30 s). */
  readonly streamStallTimeoutMs?: number;
  /** Largest GetStatus response (more upstreams go on further pages) and xDS response (split where xDS allows); default 4 MiB. */
  readonly maxResponseBytes?: number;
  /** New Watch and xDS streams admitted per second and at once (server/stream-admission.ts). */
  readonly streamAdmission?: { readonly rate: number; readonly burst: number; readonly perConnection?: number };
  /** A client connection is asked to reconnect after this long, ±10% (0: never; default: 30 min in cluster mode, else never). */
  readonly maxConnectionAgeMs?: number;
  /** Its streams may go on this long after that before the connection is closed (default 30 s). */
  readonly maxConnectionAgeGraceMs?: number;
}

export interface CheckupsConfig {
  readonly global: GlobalSpec;
  readonly server: ServerSettings;
  /** skey -> upstream, in file order. */
  readonly upstreams: ReadonlyMap<string, UpstreamSpec>;
}

export const HEARTBEAT_STATUSES = ['unchecked', 'ok', 'unstable', 'err'] as const;
/**
 * Active health of one peer. `unchecked`: heartbeat disabled or not probed yet (selectable);
 * `unstable`: failing but selectable; `err`: not selectable.
 */
export type HeartbeatStatus = (typeof HEARTBEAT_STATUSES)[number];

/** Heartbeat record of one peer, shared by every cluster of the upstream that lists it. */
export interface PeerHealth {
  readonly status: HeartbeatStatus;
  /** Consecutive non-ok probes. */
  readonly failNum: number;
  /** Wall-clock ms of the last status change (or of the record's creation). */
  readonly lastModified: number;
  /** Last probe's error text, null after a success. */
  readonly msg: string | null;
  /** Probe-specific fields shown in status (redis_version, replication, ...). */
  readonly extras?: Readonly<Record<string, unknown>>;
  /** The last few probe results, oldest first. */
  readonly recent?: readonly ProbeRecord[];
  /**
   * The peer's own status from its probes, set when the upstream-wide rules (`protected`, "any ok
   * makes unstable err") or flap damping override it: status surfaces show both.
   */
  readonly probeStatus?: HeartbeatStatus;
  /** Set while `protected` keeps this failing peer selectable (`status` unstable, `probeStatus` err). */
  readonly protection?: PeerProtection;
  /** Flap damping: wall-clock ms until which the peer is held err (absent when not damped). */
  readonly dampedUntil?: number;
  /** Flap damping: the peer's own status changes counted in the current window. */
  readonly flaps?: number;
}

/** The peer's own status from its probes, whatever protection or damping made of it. */
export function probeStatusOf(h: PeerHealth): HeartbeatStatus {
  return h.probeStatus ?? h.status;
}

export interface PeerProtection {
  readonly reason: string;
}

/**
 * A published passive (max_fails / fail_timeout) exclusion of one peer. Absent = passively ok.
 * Wall-clock, because it travels between processes (instances, SDKs).
 */
export interface PassiveVerdict {
  /** Failures counted in the window that led to the exclusion. */
  readonly failedCount: number;
  /** Wall-clock ms when the exclusion ends. */
  readonly untilWall: number;
}

/** One probe result as kept in a peer's history. */
export interface ProbeRecord {
  /** Wall-clock ms. */
  readonly at: number;
  readonly status: 'ok' | 'unstable' | 'err';
  readonly msg: string | null;
  /** How long the probe took, ms (when the prober measured it). */
  readonly latencyMs?: number;
}

/** `host:port`, the identity of a peer within one upstream (IPv6 hosts are bracketed). */
export type PeerId = string;

export function peerId(host: string, port: number): PeerId {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * The id of a server entry, made once per entry object (server entries are never changed, only
 * replaced): status encoding reads every peer of an upstream on each call, and building 10,000
 * fresh strings (each then hashed again by every Map it is looked up in) cost more than the
 * lookups themselves.
 */
const serverIds = new WeakMap<ServerSpec, PeerId>();

export function serverPeerId(s: ServerSpec): PeerId {
  let id = serverIds.get(s);
  if (id === undefined) {
    id = peerId(s.host, s.port);
    serverIds.set(s, id);
  }
  return id;
}

/** Heartbeat is on unless the upstream says `enable: false`, or leaves it unset and the global default is off. */
export function heartbeatEnabled(spec: UpstreamSpec, global: Pick<GlobalSpec, 'defaultHeartbeatEnable'>): boolean {
  return spec.enable ?? global.defaultHeartbeatEnable;
}

/** Every distinct peer of an upstream, in cluster order then server order. */
export function distinctPeers(spec: UpstreamSpec): ServerSpec[] {
  const seen = new Set<PeerId>();
  const out: ServerSpec[] = [];
  for (const cluster of spec.clusters) {
    for (const server of cluster.servers) {
      const id = peerId(server.host, server.port);
      if (!seen.has(id)) {
        seen.add(id);
        out.push(server);
      }
    }
  }
  return out;
}
