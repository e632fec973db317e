/**
 * Config document -> model, for a document already known to be valid (validate.ts checked it,
 * or a server that validated it sent it). Defaults and units are filled in here and only here.
 * No zod: the SDK uses this to read the options of Watch snapshots.
 */
import type { ClusterKey, ClusterSpec, FeedbackLimits, ServerSpec, UpstreamSpec } from '../core/model.ts';
import { DEFAULTS } from './defaults.ts';
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import { secondsToMs } from './units.ts';

/** `server.feedback` as given (snake_case, every field optional). */
export interface RawFeedbackLimits {
  readonly max_batch?: number | undefined;
  readonly caller_rate?: number | undefined;
  readonly caller_burst?: number | undefined;
  readonly peers_per_caller?: number | undefined;
}

/** The feedback limits with their defaults filled in. */
export function buildFeedbackLimits(raw: RawFeedbackLimits = {}): FeedbackLimits {
  const d = DEFAULTS.feedback;
  return {
    maxBatch: raw.max_batch ?? d.max_batch,
    callerRate: raw.caller_rate ?? d.caller_rate,
    callerBurst: raw.caller_burst ?? d.caller_burst,
    peersPerCaller: raw.peers_per_caller ?? d.peers_per_caller,
  };
}

/** Cluster keys that are priority levels. */
export const LEVEL_KEY = /^[1-9][0-9]{0,8}$/;

/** "1" -> 1 (a level), anything else stays a cluster name. */
export function clusterKeyOf(key: string): ClusterKey {
  return LEVEL_KEY.test(key) ? Number(key) : key;
}

export function buildServer(raw: RawServer): ServerSpec {
  return {
    host: raw.host,
    port: raw.port,
    weight: raw.weight ?? DEFAULTS.server.weight,
    maxFails: raw.max_fails ?? DEFAULTS.server.max_fails,
    failTimeoutMs: secondsToMs(raw.fail_timeout ?? DEFAULTS.server.fail_timeout),
    down: raw.down ?? DEFAULTS.server.down,
  };
}


export function buildClusters(raw: RawUpstream['cluster']): ClusterSpec[] {
  // Object key order already puts integer-like keys first, ascending: levels, then names as written.
  const entries: Array<[ClusterKey, RawCluster]> = Array.isArray(raw)
    ? raw.map((c, i) => [i + 1, c])
    : Object.entries(raw).map(([key, c]) => [clusterKeyOf(key), c]);
  return entries.map(([key, c]) => ({
    key,
    servers: (c.servers ?? []).map(buildServer),
    ...(c.try !== undefined ? { try: c.try } : {}),
    ...(c.upstream !== undefined ? { upstream: c.upstream } : {}),
    upstreamOnlyBackup: c.upstream_only_backup ?? false,
  }));
}

export function buildUpstream(skey: string, raw: RawUpstream): UpstreamSpec {
  const d = DEFAULTS.upstream;
  return {
    skey,
    ...(raw.enable !== undefined ? { enable: raw.enable } : {}),
    typ: raw.typ ?? d.typ,
    timeoutMs: secondsToMs(raw.timeout ?? d.timeout),
    ...(raw.read_timeout !== undefined ? { readTimeoutMs: secondsToMs(raw.read_timeout) } : {}),
    ...(raw.send_timeout !== undefined ? { sendTimeoutMs: secondsToMs(raw.send_timeout) } : {}),
    http: {
      ...(raw.http_opts?.query !== undefined ? { query: raw.http_opts.query } : {}),
      ...(raw.http_opts?.statuses !== undefined ? { statuses: { ...raw.http_opts.statuses } } : {}),
      ...(raw.http_opts?.https !== undefined ? { https: raw.http_opts.https } : {}),
      ...(raw.http_opts?.sni !== undefined ? { sni: raw.http_opts.sni } : {}),
      ...(raw.http_opts?.verify !== undefined ? { verify: raw.http_opts.verify } : {}),
      ...(raw.http_opts?.body_match !== undefined ? { bodyMatch: raw.http_opts.body_match } : {}),
    },
    sensibility: raw.sensibility ?? d.sensibility,
    rise: raw.rise ?? d.rise,
    ...(raw.unhealthy_interval !== undefined ? { unhealthyIntervalMs: secondsToMs(raw.unhealthy_interval) } : {}),
    protected: raw.protected ?? d.protected,
    maxEjectionPercent: raw.max_ejection_percent ?? d.max_ejection_percent,
    slowStart: {
      windowMs: secondsToMs(raw.slow_start ?? d.slow_start),
      aggression: raw.slow_start_aggression ?? d.slow_start_aggression,
      minWeightPercent: raw.slow_start_min_weight_percent ?? d.slow_start_min_weight_percent,
    },
    flapDamping: {
      threshold: raw.flap_threshold ?? d.flap_threshold,
      windowMs: secondsToMs(raw.flap_window ?? d.flap_window),
      penaltyMs: secondsToMs(raw.flap_penalty ?? d.flap_penalty),
      maxPenaltyMs: secondsToMs(Math.max(raw.flap_penalty_max ?? d.flap_penalty_max, raw.flap_penalty ?? d.flap_penalty)),
    },
    mode: raw.mode ?? d.mode,
    ...(raw.try !== undefined ? { try: raw.try } : {}),
    tryTimeoutMs: secondsToMs(raw.try_timeout ?? d.try_timeout),
    mysql: {
      ...(raw.name !== undefined ? { name: raw.name } : {}),
      ...(raw.user !== undefined ? { user: raw.user } : {}),
      ...(raw.pass !== undefined ? { pass: raw.pass } : {}),
      ...(raw.pass_env !== undefined ? { passEnv: raw.pass_env } : {}),
      ...(raw.pass_file !== undefined ? { passFile: raw.pass_file } : {}),
      ...(raw.charset !== undefined ? { charset: raw.charset } : {}),
    },
    redis: {
      ...(raw.redis_opts?.password !== undefined ? { password: raw.redis_opts.password } : {}),
      ...(raw.redis_opts?.password_env !== undefined ? { passwordEnv: raw.redis_opts.password_env } : {}),
      ...(raw.redis_opts?.password_file !== undefined ? { passwordFile: raw.redis_opts.password_file } : {}),
      ...(raw.redis_opts?.db !== undefined ? { db: raw.redis_opts.db } : {}),
    },
    grpc: { ...raw.grpc_opts },
    clusters: buildClusters(raw.cluster),
  };
}

