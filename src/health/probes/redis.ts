/**
 * `redis` probe (docs/compat.md): connect (AUTH/SELECT when configured),
 * PING, then INFO replication + INFO server. `redis_version` and the replication fields go
 * into the result's extras; a replica whose master link is down is `unstable`.
 *
 * The client is ioredis with every retry and queue switched off, so a probe is exactly one
 * connection attempt, and its socket is closed before the probe settles.
 */
import type { Socket } from 'node:net';
import { Redis } from 'ioredis';
import type { ProbeResult } from '../state-machine.ts';
import { errorText, TIMEOUT } from './tcp.ts';
import { resolveSecret } from './secret.ts';
import type { Probe } from './types.ts';

const REPLICATION_KEYS = ['role', 'master_host', 'master_port', 'master_link_status', 'master_link_down_since_seconds', 'master_last_io_seconds_ago'];
const LOOKUP = new Map(REPLICATION_KEYS.map((k) => [k.toLowerCase(), k]));

/** Scans `key:value` lines of INFO output: replication fields and redis_version, all strings. */
export function parseInfo(text: string): { redisVersion?: string; replication: Record<string, string> } {
  const replication: Record<string, string> = {};
  let redisVersion: string | undefined;
  for (const m of text.matchAll(/^([A-Za-z_]+):(.*?)\r?$/gm)) {
    const key = m[1]!.toLowerCase();
    const value = m[2]!;
    const name = LOOKUP.get(key);
    if (name !== undefined) replication[name] = value;
    else if (key === 'redis_version') redisVersion = value;
  }
  return { ...(redisVersion !== undefined ? { redisVersion } : {}), replication };
}

export const redisProbe: Probe = async (target, spec, ctx) => {
  if (ctx.signal.aborted) return { ...TIMEOUT, extras: { replication: null } };
  const client = new Redis({
    host: target.host,
    port: target.port,
    lazyConnect: true,
    connectTimeout: ctx.timeoutMs,
    commandTimeout: ctx.timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    reconnectOnError: () => false,
    enableOfflineQueue: false,
    // The ready check is an extra INFO round trip; the probe sends its own INFO.
    enableReadyCheck: false,
    autoResubscribe: false,
    // CLIENT SETINFO is two more commands per probe; the connection lives for one PING.
    disableClientInfo: true,
    disconnectTimeout: 0,
  });
  // connect() rejects with a bare "Connection is closed."; the cause arrives as an 'error' event.
  let cause: unknown;
  client.on('error', (err) => (cause ??= err));
  const onAbort = () => void shut(client);
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  try {
    const password = resolveSecret('redis password', { value: spec.redis.password, env: spec.redis.passwordEnv, file: spec.redis.passwordFile });
    return await check(client, password, spec.redis.db, ctx.signal);
  } catch (err) {
    const text = ctx.signal.aborted ? 'timeout' : errorText(cause ?? err);
    return { status: 'err', msg: text === 'Command timed out' ? 'timeout' : text, extras: { replication: null } };
  } finally {
    ctx.signal.removeEventListener('abort', onAbort);
    await shut(client);
  }
};

/**
 * ioredis' disconnect() only half-closes the socket and destroys it after `disconnectTimeout`
 * (2 s), and emits 'end' before the socket is gone; so the probe destroys the socket itself and
 * waits for its close.
 */
function shut(client: Redis): Promise<void> {
  client.disconnect();
  const stream = client.stream as Socket | undefined;
  if (stream === undefined || stream.closed) return Promise.resolve();
  stream.destroy();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

/** Matches the reply of a server without requirepass to AUTH (Redis >= 6, then older). */
const NO_PASSWORD_SET = /without any password configured|no password is set/i;

async function check(client: Redis, password: string | undefined, db: number | undefined, signal: AbortSignal): Promise<ProbeResult> {
  await client.connect();
  // AUTH and SELECT are sent here, not by ioredis: ioredis console.warns when a password is
  // configured but the server has none; the probe tolerates that case quietly, as ioredis does.
  if (password !== undefined) {
    await client.call('AUTH', password).catch((err: unknown) => {
      if (!(err instanceof Error && NO_PASSWORD_SET.test(err.message))) throw err;
    });
  }
  if (db !== undefined && db !== 0) await client.select(db);
  await client.ping();
  let text: string;
  try {
    text = (await client.info('replication')) + '\r\n' + (await client.info('server').catch(() => ''));
  } catch (err) {
    if (signal.aborted) throw err;
    try {
      text = await client.info();
    } catch (err) {
      if (signal.aborted) throw err;
      // As the original: PING worked, so the peer is ok even if INFO is refused (renamed command, ACL).
      return { status: 'ok', msg: null, extras: { replication: { err: errorText(err) } } };
    }
  }
  const { redisVersion, replication } = parseInfo(text);
  const extras = { ...(redisVersion !== undefined ? { redis_version: redisVersion } : {}), replication };
  if (replication.master_link_status === 'down') return { status: 'unstable', msg: 'master link status: down', extras };
  return { status: 'ok', msg: null, extras };
}
