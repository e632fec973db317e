/**
 * The config document's vocabulary as plain types: one entry of `upstreams:` in checkups.yaml,
 * with lua-resty-checkups' option names and units (seconds). Admin writes take it, GetUpstream
 * and the store return it, the SDK's admin client accepts it. Written without zod so the SDK can
 * use it; schema.ts checks at compile time that its validators produce exactly these types.
 */
import type { BalanceMode, ProbeType } from './model.ts';

/** An upstream as stored and as GetUpstream returns it: clusters as a map ("1", "2", ... and names). */
export type StoredUpstream = RawUpstream & { cluster: Record<string, RawCluster> };

export interface RawServer {
  host: string;
  port: number;
  weight?: number | undefined;
  max_fails?: number | undefined;
  /** Seconds. */
  fail_timeout?: number | undefined;
  down?: boolean | undefined;
}

export interface RawCluster {
  servers?: RawServer[] | undefined;
  try?: number | undefined;
  upstream?: string | undefined;
  upstream_only_backup?: boolean | undefined;
  upstream_skip_down?: boolean | undefined;
}

export interface RawHttpOptions {
  query?: string | undefined;
  statuses?: Record<string, boolean> | undefined;
  https?: boolean | undefined;
  sni?: string | undefined;
  verify?: boolean | undefined;
  body_match?: string | undefined;
}

export interface RawUpstream {
  enable?: boolean | undefined;
  typ?: ProbeType | undefined;
  /** Seconds, like every duration here. */
  timeout?: number | undefined;
  read_timeout?: number | undefined;
  send_timeout?: number | undefined;
  http_opts?: RawHttpOptions | undefined;
  sensibility?: number | undefined;
  rise?: number | undefined;
  unhealthy_interval?: number | undefined;
  /** A secret is given at most one way: its value, an environment variable, or a file. */
  redis_opts?: { password?: string | undefined; password_env?: string | undefined; password_file?: string | undefined; db?: number | undefined } | undefined;
  grpc_opts?: { service?: string | undefined } | undefined;
  protected?: boolean | undefined;
  /** Share (percent) of the upstream's peers passive health may exclude at once. */
  max_ejection_percent?: number | undefined;
  /** Seconds a peer that becomes usable ramps to its full weight (0 = off). */
  slow_start?: number | undefined;
  /** Shape of the ramp: > 0, 1 = linear (Envoy's `aggression`). */
  slow_start_aggression?: number | undefined;
  /** Share (percent) of its weight a ramping peer gets at least (Envoy's `min_weight_percent`). */
  slow_start_min_weight_percent?: number | undefined;
  /** Flap damping: status changes within flap_window (seconds) that hold a peer err (0 = off). */
  flap_threshold?: number | undefined;
  flap_window?: number | undefined;
  /** Seconds of the first hold; doubles per further flap up to flap_penalty_max. */
  flap_penalty?: number | undefined;
  flap_penalty_max?: number | undefined;
  mode?: BalanceMode | undefined;
  try?: number | undefined;
  try_timeout?: number | undefined;
  name?: string | undefined;
  user?: string | undefined;
  pass?: string | undefined;
  pass_env?: string | undefined;
  pass_file?: string | undefined;
  charset?: string | undefined;
  /** A list (level 1 first) or a map of levels ("1", "2", ...) and named clusters. */
  cluster: RawCluster[] | Record<string, RawCluster>;
}
