/**
 * Model -> config document (the inverse of validate.ts): what GetUpstream returns and what the
 * durable store writes, so a stored upstream re-validates to the same model.
 */
import type { ClusterSpec, ServerSpec, UpstreamSpec } from '../core/model.ts';
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import { msToSeconds } from './units.ts';


export function serverToRaw(s: ServerSpec): RawServer {
  return {
    host: s.host,
    port: s.port,
    weight: s.weight,
    max_fails: s.maxFails,
    fail_timeout: msToSeconds(s.failTimeoutMs),
    ...(s.down ? { down: true } : {}),
  };
}

function clusterToRaw(c: ClusterSpec): RawCluster {
  return {
    servers: c.servers.map(serverToRaw),
    ...(c.try !== undefined ? { try: c.try } : {}),
    ...(c.upstream !== undefined ? { upstream: c.upstream } : {}),
    ...(c.upstreamOnlyBackup ? { upstream_only_backup: true } : {}),
  };
}

/** The cluster map: levels under their numbers, named clusters under their names. */
export function clustersToRaw(clusters: readonly ClusterSpec[]): Record<string, RawCluster> {
  // Keyed by user-chosen names: no prototype, so a cluster named `constructor` is just a name.
  const out = Object.create(null) as Record<string, RawCluster>;
  for (const c of clusters) out[String(c.key)] = clusterToRaw(c);
  return out;
}

export function upstreamToRaw(spec: UpstreamSpec): RawUpstream {
  const { http, mysql, grpc } = spec;
  const { passwordEnv, passwordFile, ...redisRest } = spec.redis;
  const redis = { ...redisRest, ...(passwordEnv !== undefined ? { password_env: passwordEnv } : {}), ...(passwordFile !== undefined ? { password_file: passwordFile } : {}) };
  const { passEnv, passFile, ...mysqlRest } = mysql;
  const { bodyMatch, ...httpRest } = http;
  const httpOpts = { ...httpRest, ...(bodyMatch !== undefined ? { body_match: bodyMatch } : {}) };
  return {
    ...(spec.enable !== undefined ? { enable: spec.enable } : {}),
    typ: spec.typ,
    timeout: msToSeconds(spec.timeoutMs),
    ...(spec.readTimeoutMs !== undefined ? { read_timeout: msToSeconds(spec.readTimeoutMs) } : {}),
    ...(spec.sendTimeoutMs !== undefined ? { send_timeout: msToSeconds(spec.sendTimeoutMs) } : {}),
    ...(Object.keys(httpOpts).length > 0 ? { http_opts: httpOpts } : {}),
    sensibility: spec.sensibility,
    rise: spec.rise,
    ...(spec.unhealthyIntervalMs !== undefined ? { unhealthy_interval: msToSeconds(spec.unhealthyIntervalMs) } : {}),
    ...(Object.keys(redis).length > 0 ? { redis_opts: { ...redis } } : {}),
    ...(Object.keys(grpc).length > 0 ? { grpc_opts: { ...grpc } } : {}),
    protected: spec.protected,
    max_ejection_percent: spec.maxEjectionPercent,
    ...(spec.slowStart.windowMs > 0
      ? {
          slow_start: msToSeconds(spec.slowStart.windowMs),
          slow_start_aggression: spec.slowStart.aggression,
          slow_start_min_weight_percent: spec.slowStart.minWeightPercent,
        }
      : {}),
    ...(spec.flapDamping.threshold > 0
      ? {
          flap_threshold: spec.flapDamping.threshold,
          flap_window: msToSeconds(spec.flapDamping.windowMs),
          flap_penalty: msToSeconds(spec.flapDamping.penaltyMs),
          flap_penalty_max: msToSeconds(spec.flapDamping.maxPenaltyMs),
        }
      : {}),
    mode: spec.mode,
    ...(spec.try !== undefined ? { try: spec.try } : {}),
    try_timeout: msToSeconds(spec.tryTimeoutMs),
    ...mysqlRest,
    ...(passEnv !== undefined ? { pass_env: passEnv } : {}),
    ...(passFile !== undefined ? { pass_file: passFile } : {}),
    cluster: clustersToRaw(spec.clusters),
  };
}
