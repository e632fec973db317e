/**
 * The shape of `checkups.yaml` as people write it: lua-resty-checkups' option names and units
 * (seconds), checked field by field. Rules that span fields (duplicate servers, level keys,
 * non-empty updates) live in validate.ts. Semantics: docs/compat.md
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { BALANCE_MODES, MAX_WEIGHT, PROBE_TYPES } from '../core/model.ts';
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import { bodyMatchProblem } from '../health/probes/body-match.ts';
import { clip } from '../util/bounded-text.ts';
import { MIN_TOKEN_LENGTH } from './security.ts';

function integer(min: number, max: number) {
  const error = `must be an integer ${min}..${max}`;
  return z.int({ error }).min(min, { error }).max(max, { error });
}

/** Node runs a timer longer than 2^31-1 ms at once (TimeoutOverflowWarning): no duration may exceed it. */
export const MAX_DURATION_SECONDS = Math.floor((2 ** 31 - 1) / 1000);
/** Shortest duration: anything shorter rounds to 0 ms, which no restart would accept. */
export const MIN_DURATION_SECONDS = 0.001;
/** Shortest probe interval: shorter ones turn one target into a busy loop. */
export const MIN_INTERVAL_SECONDS = 0.1;

const tooLong = { error: `must be at most ${MAX_DURATION_SECONDS} (about 24.8 days, the longest timer)` };

/**
 * A duration in seconds, kept as whole milliseconds: at least 1 ms (intervals: 100 ms), so what
 * is accepted never rounds to 0 and loads again after a restart. `allowZero`: 0 means "off".
 */
function seconds(opts: { allowZero?: boolean; interval?: boolean } = {}) {
  const min = opts.interval === true ? MIN_INTERVAL_SECONDS : MIN_DURATION_SECONDS;
  const minText = `must be at least ${min} (${min * 1000} ms)${opts.allowZero === true ? ', or 0' : ''}`;
  return z
    .number({ error: 'must be a number of seconds' })
    .refine((n) => Number.isFinite(n) && ((opts.allowZero === true && n === 0) || n >= min), { error: minText })
    .refine((n) => n <= MAX_DURATION_SECONDS, tooLong);
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

const host = z
  .string({ error: 'must be a host name or IP address' })
  .refine((h) => isIP(h) !== 0 || HOSTNAME.test(h), { error: 'must be a host name or IP address' });

/** Upstream names (skeys). */
export const SKEY_PATTERN = /^[A-Za-z0-9_.-]{1,128}$/;

const boolean = z.boolean({ error: 'must be true or false' });

export const serverSchema = z.strictObject({
  host,
  port: integer(1, 65535),
  weight: integer(1, MAX_WEIGHT).optional(),
  max_fails: integer(0, 1_000_000).optional(),
  fail_timeout: seconds().optional(),
  down: boolean.optional(),
});

export const clusterSchema = z.strictObject({
  servers: z.array(serverSchema, { error: 'must be a list of servers' }).max(65_535, { error: 'must list at most 65535 servers' }).optional(),
  try: integer(0, 10_000).optional(),
  upstream: z.string({ error: 'must be a string' }).optional(),
  upstream_only_backup: boolean.optional(),
  upstream_skip_down: boolean.optional(),
});

/** Status codes are string keys ("502"); YAML's `502: false` arrives as "502" too. */
const statuses = z.record(
  z.string().regex(/^[1-5][0-9][0-9]$/, { error: 'status keys must be HTTP status codes 100..599' }),
  z.boolean({ error: 'must be true or false' }),
);

/** A raw HTTP/1 request: `METHOD target [HTTP/x.y]` CRLF, headers, blank line, optional body. */
const HTTP_QUERY = /^[A-Z][A-Z-]* \S+(?: HTTP\/\d\.\d)?\r?\n/;

const httpOpts = z.strictObject({
  query: z
    .string({ error: 'must be a raw HTTP request string' })
    .regex(HTTP_QUERY, { error: 'must be a raw HTTP request, e.g. "GET /status HTTP/1.1\\r\\nHost: localhost\\r\\n\\r\\n"' })
    .optional(),
  statuses: statuses.optional(),
  https: boolean.optional(),
  sni: z.string({ error: 'must be a string' }).min(1, { error: 'must not be empty' }).optional(),
  verify: boolean.optional(),
  body_match: z
    .string({ error: 'must be a regular expression' })
    .max(4096, { error: 'must be at most 4096 characters' })
    .check((ctx) => {
      const problem = bodyMatchProblem(ctx.value);
      if (problem !== undefined) {
        ctx.issues.push({ code: 'custom', input: ctx.value, message: `must be an RE2 regular expression (no backreferences or lookarounds): ${clip(problem, 120)}` });
      }
    })
    .optional(),
});

/** An environment variable name (pass_env, password_env). */
const envName = z.string({ error: 'must be an environment variable name' }).regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, { error: 'must be an environment variable name' });
const filePath = z.string({ error: 'must be a file path' }).min(1, { error: 'must be a file path' }).max(4096, { error: 'must be a file path' });

const redisOpts = z.strictObject({
  password: z.string({ error: 'must be a string' }).optional(),
  password_env: envName.optional(),
  password_file: filePath.optional(),
  db: integer(0, 65_535).optional(),
});

const grpcOpts = z.strictObject({
  service: z.string({ error: 'must be a string' }).optional(),
});

/** `cluster:` is a list (level 1 first) or a map of levels (numeric keys) and named clusters. */
const clusters = z.union([z.array(clusterSchema), z.record(z.string(), clusterSchema)], {
  error: 'must be a list of levels or a map of levels/named clusters',
});

export const upstreamSchema = z.strictObject({
  enable: boolean.optional(),
  typ: z.enum(PROBE_TYPES, { error: `must be one of ${PROBE_TYPES.join(', ')}` }).optional(),
  timeout: seconds().optional(),
  read_timeout: seconds().optional(),
  send_timeout: seconds().optional(),
  http_opts: httpOpts.optional(),
  sensibility: integer(1, 1000).optional(),
  rise: integer(1, 1000).optional(),
  unhealthy_interval: seconds({ interval: true }).optional(),
  redis_opts: redisOpts.optional(),
  grpc_opts: grpcOpts.optional(),
  protected: boolean.optional(),
  max_ejection_percent: integer(0, 100).optional(),
  slow_start: seconds({ allowZero: true }).optional(),
  slow_start_aggression: z
    .number({ error: 'must be a number greater than 0 and at most 100' })
    .refine((n) => Number.isFinite(n) && n > 0 && n <= 100, { error: 'must be a number greater than 0 and at most 100' })
    .optional(),
  slow_start_min_weight_percent: z
    .number({ error: 'must be a number 0..100' })
    .refine((n) => Number.isFinite(n) && n >= 0 && n <= 100, { error: 'must be a number 0..100' })
    .optional(),
  flap_threshold: integer(0, 1000).optional(),
  flap_window: seconds({ allowZero: false }).optional(),
  flap_penalty: seconds({ allowZero: false }).optional(),
  flap_penalty_max: seconds({ allowZero: false }).optional(),
  mode: z.enum(BALANCE_MODES, { error: `must be one of ${BALANCE_MODES.join(', ')}` }).optional(),
  try: integer(0, 10_000).optional(),
  try_timeout: seconds({ allowZero: true }).optional(),
  name: z.string({ error: 'must be a string' }).optional(),
  user: z.string({ error: 'must be a string' }).optional(),
  pass: z.string({ error: 'must be a string' }).optional(),
  pass_env: envName.optional(),
  pass_file: filePath.optional(),
  charset: z.string({ error: 'must be a string' }).optional(),
  cluster: clusters,
});

export const globalSchema = z.strictObject({
  checkup_timer_interval: seconds({ interval: true }).optional(),
  checkup_timer_overtime: seconds().optional(),
  default_heartbeat_enable: boolean.optional(),
  checkup_shd_sync_enable: boolean.optional(),
  shd_config_timer_interval: seconds({ interval: true }).optional(),
  ups_status_sync_enable: boolean.optional(),
  ups_status_timer_interval: seconds({ interval: true }).optional(),
  conf_hash: z.union([z.string(), z.number(), z.null()], { error: 'must be a string or number' }).optional(),
});

const token = z.string({ error: 'must be a string' }).min(MIN_TOKEN_LENGTH, { error: `must be at least ${MIN_TOKEN_LENGTH} characters` });

/** Process settings (`checkups serve`); command-line flags override them. */
export const settingsSchema = z.strictObject({
  grpc_listen: z.string({ error: 'must be host:port' }).optional(),
  http_listen: z.string({ error: 'must be host:port' }).optional(),
  data_dir: z.string({ error: 'must be a directory path' }).optional(),
  store: z.string({ error: 'must be a store URL (redis://HOST:PORT/DB)' }).regex(/^rediss?:\/\//, { error: 'must be a store URL (redis://HOST:PORT/DB)' }).optional(),
  cluster: z.string({ error: 'must be a cluster name' }).regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'cluster names use letters, digits, _ . - (1..64)' }).optional(),
  admin_token: token.optional(),
  read_token: token.optional(),
  feedback_token: token.optional(),
  discovery_auth: z.enum(['auto', 'required', 'off'], { error: 'must be auto, required or off' }).optional(),
  feedback: z
    .strictObject({
      max_batch: integer(1, 100_000).optional(),
      caller_rate: integer(1, 10_000_000).optional(),
      caller_burst: integer(1, 10_000_000).optional(),
      peers_per_caller: integer(0, 1_000_000).optional(),
    })
    .optional(),
  allow_insecure_admin: boolean.optional(),
  tls_cert: z.string({ error: 'must be a file path' }).optional(),
  tls_key: z.string({ error: 'must be a file path' }).optional(),
  tls_client_ca: z.string({ error: 'must be a file path' }).optional(),
  max_message_bytes: integer(1024, 64 * 1024 * 1024).optional(),
  metrics_per_peer: boolean.optional(),
  event_buffer: integer(100, 1_000_000).optional(),
  /** Seconds a Watch or xDS stream may leave a message unread before it is closed. */
  stream_stall_timeout: seconds().optional(),
  /** Bytes: GetStatus pages and xDS responses stay under it where they can (gRPC clients' default limit is 4 MiB). */
  max_response_bytes: integer(64 * 1024, 64 * 1024 * 1024).optional(),
  /** New Watch and xDS streams admitted per second (rate) and at once (burst). */
  stream_admission: z.strictObject({ rate: integer(1, 1_000_000), burst: integer(1, 10_000_000), per_connection: integer(1, 1_000_000).optional() }).optional(),
  /** Seconds (±10% jitter) after which a client connection is asked to reconnect (0: never). */
  max_connection_age: seconds({ allowZero: true }).optional(),
  /** Seconds the streams of such a connection may go on before it is closed. */
  max_connection_age_grace: seconds().optional(),
});

export const configSchema = z.strictObject({
  global: globalSchema.optional(),
  server: settingsSchema.optional(),
  upstreams: z.record(
    z.string().regex(SKEY_PATTERN, { error: 'upstream names (skeys) use letters, digits, _ . - (1..128)' }),
    upstreamSchema,
    { error: 'must be a map of skey -> upstream' },
  ),
});

// The validators produce exactly the plain types of document.ts (which the SDK uses without zod).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sameShape = <T extends true>(): T | undefined => undefined;
sameShape<Same<z.infer<typeof serverSchema>, RawServer>>();
sameShape<Same<z.infer<typeof clusterSchema>, RawCluster>>();
sameShape<Same<z.infer<typeof upstreamSchema>, RawUpstream>>();
export type RawGlobal = z.infer<typeof globalSchema>;
export type RawConfig = z.infer<typeof configSchema>;
export type RawServerSettings = z.infer<typeof settingsSchema>;
