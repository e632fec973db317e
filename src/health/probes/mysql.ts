/**
 * `mysql` probe (docs/compat.md): log in with the upstream's name, user,
 * pass and charset, then `SELECT 1`. The original stops after the handshake; the query also
 * proves the server answers commands, at the cost of one round trip.
 *
 * mysql2's destroy() only half-closes its socket (stream.end()), which keeps the fd open against
 * a peer that never answers; the probe destroys the socket itself and settles after its close.
 */
import type { Socket } from 'node:net';
import { createConnection } from 'mysql2';
import { resolveSecret } from './secret.ts';
import { errorText, OK, TIMEOUT } from './tcp.ts';
import type { Probe } from './types.ts';

export const mysqlProbe: Probe = async (target, spec, ctx) => {
  if (ctx.signal.aborted) return TIMEOUT;
  const { name, user, charset } = spec.mysql;
  const pass = resolveSecret('mysql pass', { value: spec.mysql.pass, env: spec.mysql.passEnv, file: spec.mysql.passFile });
  const conn = createConnection({
    host: target.host,
    port: target.port,
    ...(user !== undefined ? { user } : {}),
    ...(pass !== undefined ? { password: pass } : {}),
    ...(name !== undefined ? { database: name } : {}),
    ...(charset !== undefined ? { charset } : {}),
    connectTimeout: Math.max(1, Math.ceil(ctx.timeoutMs)),
  });
  // Errors reach the query's promise; the connection-level event would otherwise be unhandled.
  conn.on('error', () => {});
  // Typed `any` in mysql2's typings; it is the net.Socket the connection was built on.
  const stream = (conn as unknown as { stream: Socket }).stream;
  const closed = new Promise<void>((resolve) => (stream.closed ? resolve() : stream.once('close', () => resolve())));
  const onAbort = () => stream.destroy();
  ctx.signal.addEventListener('abort', onAbort, { once: true });
  let ok = false;
  try {
    await conn.promise().query('SELECT 1');
    ok = true;
    return OK;
  } catch (err) {
    return ctx.signal.aborted ? TIMEOUT : { status: 'err', msg: errorText(err) };
  } finally {
    // A clean COM_QUIT after success keeps the server from logging an aborted connection.
    if (ok) conn.end(() => stream.destroy());
    else stream.destroy();
    await closed;
    ctx.signal.removeEventListener('abort', onAbort);
  }
};
