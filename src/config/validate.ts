/**
 * Turns untrusted input (a parsed file, an admin write) into the model, or into the complete
 * list of problems, each `path: rule`. Nothing is half-applied: callers get a value only when
 * there is no error at all.
 */
import type { z } from 'zod';
import type {
  CheckupsConfig,
  ClusterKey,
  ClusterSpec,
  GlobalSpec,
  ServerSpec,
  UpstreamSpec,
} from '../core/model.ts';
import { peerId } from '../core/model.ts';
import { clip } from '../util/bounded-text.ts';
import { DEFAULTS } from './defaults.ts';
import { buildFeedbackLimits, buildUpstream, LEVEL_KEY } from './build.ts';
import { secondsToMs } from './units.ts';
import { configSchema, SKEY_PATTERN, upstreamSchema, type RawGlobal } from './schema.ts';

export type Parsed<T> = { ok: true; value: T } | { ok: false; errors: string[] };

type PathItem = PropertyKey;

export function formatPath(path: readonly PathItem[]): string {
  let out = '';
  for (const item of path) {
    if (typeof item === 'number') out += `[${item}]`;
    else {
      const key = String(item);
      out += /^[A-Za-z0-9_-]+$/.test(key) ? (out === '' ? key : `.${key}`) : `[${JSON.stringify(key)}]`;
    }
  }
  return out;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a map';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  return `${typeof value} ${clip(String(value), 40)}`;
}

/**
 * Names that cannot be keys of a plain object: a `__proto__` key would replace the object's
 * prototype instead of adding an entry. Refused wherever it appears, before anything else reads
 * the input (zod would silently drop it). `constructor`, `toString` and the like are ordinary names.
 */
const RESERVED_KEYS = new Set(['__proto__']);

function checkReservedKeys(input: unknown, path: readonly PathItem[], errors: string[], depth = 0): void {
  if (typeof input !== 'object' || input === null || depth > 64) return;
  if (Array.isArray(input)) {
    input.forEach((v, i) => checkReservedKeys(v, [...path, i], errors, depth + 1));
    return;
  }
  for (const key of Object.keys(input)) {
    if (RESERVED_KEYS.has(key)) errors.push(`${formatPath([...path, key])}: ${JSON.stringify(key)} is a reserved name; choose another`);
    else checkReservedKeys((input as Record<string, unknown>)[key], [...path, key], errors, depth + 1);
  }
}

/** Each secret is given at most one way (its value, an environment variable, or a file). */
const SECRET_ALTERNATIVES: ReadonlyArray<{ readonly at: readonly string[]; readonly keys: readonly string[] }> = [
  { at: [], keys: ['pass', 'pass_env', 'pass_file'] },
  { at: ['redis_opts'], keys: ['password', 'password_env', 'password_file'] },
];

function checkSecretAlternatives(upstream: unknown, path: readonly PathItem[], errors: string[]): void {
  for (const { at, keys } of SECRET_ALTERNATIVES) {
    let node: unknown = upstream;
    for (const k of at) node = isRecord(node) ? node[k] : undefined;
    if (!isRecord(node)) continue;
    const given = keys.filter((k) => node[k] !== undefined);
    if (given.length > 1) errors.push(`${formatPath([...path, ...at, given[1]!])}: use only one of ${keys.join(', ')}`);
  }
}

/** Flattens zod issues into `path: rule` lines, descending into the union branch that fits the input. */
function zodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PathItem[], out: string[]): void {
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length === 2 && 'input' in issue) {
      // cluster: [list branch, map branch]
      const branch = Array.isArray(issue.input) ? issue.errors[0] : typeof issue.input === 'object' && issue.input !== null ? issue.errors[1] : undefined;
      if (branch !== undefined) {
        zodIssues(branch, path, out);
        continue;
      }
    }
    if (issue.code === 'invalid_key') {
      out.push(`${formatPath(path)}: ${issue.issues[0]?.message ?? 'invalid key'}`);
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(`${formatPath([...path, key])}: unknown field`);
      continue;
    }
    const input = 'input' in issue ? issue.input : undefined;
    if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && input === undefined) {
      out.push(`${path.length === 0 ? '(document)' : formatPath(path)}: is required`);
      continue;
    }
    const got = issue.code === 'invalid_type' || issue.code === 'invalid_value' ? ` (got ${describe(input)})` : '';
    const message = issue.code === 'invalid_type' && issue.message.startsWith('Invalid input') ? `must be ${EXPECTED[issue.expected] ?? issue.expected}` : issue.message;
    out.push(`${path.length === 0 ? '(document)' : formatPath(path)}: ${message}${got}`);
  }
}

const EXPECTED: Record<string, string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  record: 'a map',
};


interface ClusterCheck {
  /** Admin writes (update_upstream) must not carry empty levels. */
  requireServers: boolean;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Rules that span fields, run on the raw input whatever the schema said, so one bad port does not
 * hide a duplicate server elsewhere: level keys, empty levels in updates, duplicate servers per level.
 */
function checkClusters(raw: unknown, path: readonly PathItem[], check: ClusterCheck, errors: string[]): void {
  const entries: Array<[PathItem, unknown]> = [];
  if (Array.isArray(raw)) raw.forEach((c, i) => entries.push([i, c]));
  else if (isRecord(raw)) {
    for (const [key, c] of Object.entries(raw)) {
      if (!LEVEL_KEY.test(key) && /^[+-]?[0-9.]*$/.test(key)) {
        errors.push(`${formatPath([...path, key])}: level keys must be positive integers (1, 2, ...); cluster names must not look like numbers`);
      }
      entries.push([key, c]);
    }
  } else return;
  if (check.requireServers && entries.length === 0) {
    errors.push(`${formatPath(path)}: an update must list at least one level with servers (as lua-resty-checkups refuses "can not set empty upstream"); to remove the upstream, delete it`);
  }
  for (const [at, cluster] of entries) {
    if (!isRecord(cluster)) continue;
    const servers = cluster['servers'];
    const spath = [...path, at, 'servers'];
    if (check.requireServers && (!Array.isArray(servers) || servers.length === 0)) {
      errors.push(`${formatPath(spath)}: must list at least one server in an update`);
    }
    if (!Array.isArray(servers)) continue;
    const firstAt = new Map<string, number>();
    servers.forEach((s: unknown, i) => {
      if (!isRecord(s) || typeof s['host'] !== 'string' || typeof s['port'] !== 'number') return;
      const id = peerId(s['host'].toLowerCase(), s['port']);
      const prev = firstAt.get(id);
      if (prev !== undefined) errors.push(`${formatPath([...spath, i])}: duplicate server ${id} in one level (first at servers[${prev}])`);
      else firstAt.set(id, i);
    });
  }
}

function buildGlobal(raw: RawGlobal | undefined): GlobalSpec {
  const d = DEFAULTS.global;
  const interval = raw?.checkup_timer_interval ?? d.checkup_timer_interval;
  return {
    checkupTimerIntervalMs: secondsToMs(interval),
    checkupTimerOvertimeMs: secondsToMs(raw?.checkup_timer_overtime ?? d.checkup_timer_overtime),
    defaultHeartbeatEnable: raw?.default_heartbeat_enable ?? d.default_heartbeat_enable,
    shdConfigTimerIntervalMs: secondsToMs(raw?.shd_config_timer_interval ?? interval),
    upsStatusSyncEnable: raw?.ups_status_sync_enable ?? d.ups_status_sync_enable,
    upsStatusTimerIntervalMs: secondsToMs(raw?.ups_status_timer_interval ?? d.ups_status_timer_interval),
    confHash: raw?.conf_hash ?? d.conf_hash,
  };
}

/** Validates a whole config document (already parsed from YAML/JSON). */
export function parseConfig(input: unknown): Parsed<CheckupsConfig> {
  const errors: string[] = [];
  checkReservedKeys(input, [], errors);
  if (errors.length > 0) return { ok: false, errors };
  const res = configSchema.safeParse(input, { reportInput: true });
  if (!res.success) zodIssues(res.error.issues, [], errors);
  if (isRecord(input) && isRecord(input['upstreams'])) {
    for (const [skey, ups] of Object.entries(input['upstreams'])) {
      if (!isRecord(ups)) continue;
      checkClusters(ups['cluster'], ['upstreams', skey, 'cluster'], { requireServers: false }, errors);
      checkSecretAlternatives(ups, ['upstreams', skey], errors);
    }
  }
  const feedback = res.success && res.data.server?.feedback !== undefined ? buildFeedbackLimits(res.data.server.feedback) : undefined;
  // A batch larger than the bucket could never pass the rate limit.
  if (feedback !== undefined && feedback.maxBatch > feedback.callerBurst) {
    errors.push(`server.feedback.max_batch: must not exceed caller_burst (${feedback.callerBurst}): a batch of ${feedback.maxBatch} could never pass the rate limit`);
  }
  if (!res.success || errors.length > 0) return { ok: false, errors };
  const upstreams = new Map<string, UpstreamSpec>();
  for (const [skey, raw] of Object.entries(res.data.upstreams)) upstreams.set(skey, buildUpstream(skey, raw));
  const srv = res.data.server ?? {};
  const server = Object.fromEntries(
    Object.entries({
      grpcListen: srv.grpc_listen,
      httpListen: srv.http_listen,
      dataDir: srv.data_dir,
      store: srv.store,
      cluster: srv.cluster,
      adminToken: srv.admin_token,
      readToken: srv.read_token,
      feedbackToken: srv.feedback_token,
      discoveryAuth: srv.discovery_auth,
      feedback,
      allowInsecureAdmin: srv.allow_insecure_admin,
      tlsCert: srv.tls_cert,
      tlsKey: srv.tls_key,
      tlsClientCa: srv.tls_client_ca,
      maxMessageBytes: srv.max_message_bytes,
      metricsPerPeer: srv.metrics_per_peer,
      eventBuffer: srv.event_buffer,
      streamStallTimeoutMs: srv.stream_stall_timeout === undefined ? undefined : secondsToMs(srv.stream_stall_timeout),
      maxResponseBytes: srv.max_response_bytes,
      streamAdmission:
        srv.stream_admission === undefined
          ? undefined
          : { rate: srv.stream_admission.rate, burst: srv.stream_admission.burst, ...(srv.stream_admission.per_connection !== undefined ? { perConnection: srv.stream_admission.per_connection } : {}) },
      maxConnectionAgeMs: srv.max_connection_age === undefined ? undefined : secondsToMs(srv.max_connection_age),
      maxConnectionAgeGraceMs: srv.max_connection_age_grace === undefined ? undefined : secondsToMs(srv.max_connection_age_grace),
    }).filter(([, v]) => v !== undefined),
  );
  return { ok: true, value: { global: buildGlobal(res.data.global), server, upstreams } };
}

/**
 * Validates one upstream from an admin write (update_upstream): every level must list servers,
 * unless `requireServers` is false (state read back from a server, where a file may have had
 * empty levels). `path` prefixes error paths (for example ['upstream']).
 */
export function parseUpstream(skey: string, input: unknown, path: readonly PathItem[] = [], opts: { requireServers?: boolean } = {}): Parsed<UpstreamSpec> {
  const errors: string[] = [];
  if (!SKEY_PATTERN.test(skey)) errors.push('skey: upstream names (skeys) use letters, digits, _ . - (1..128)');
  else if (RESERVED_KEYS.has(skey)) errors.push(`skey: ${JSON.stringify(skey)} is a reserved name; choose another`);
  const reserved: string[] = [];
  checkReservedKeys(input, path, reserved);
  if (reserved.length > 0) return { ok: false, errors: [...errors, ...reserved] };
  const res = upstreamSchema.safeParse(input, { reportInput: true });
  if (!res.success) zodIssues(res.error.issues, path, errors);
  if (isRecord(input)) {
    checkClusters(input['cluster'], [...path, 'cluster'], { requireServers: opts.requireServers ?? true }, errors);
    checkSecretAlternatives(input, path, errors);
  }
  if (!res.success || errors.length > 0) return { ok: false, errors };
  return { ok: true, value: buildUpstream(skey, res.data) };
}
