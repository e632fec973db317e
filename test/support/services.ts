/**
 * Local Redis (127.0.0.1:6379) and MariaDB (127.0.0.1:3306) for integration tests: use them when
 * they answer, else start them through scripts/test-setup.sh (the one place that knows this
 * machine kind's start commands; `npm test` runs it first anyway), then wait (bounded) until
 * they answer. The wait covers a test file run on its own, without `npm test`.
 */
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const START_WAIT_MS = 15_000;
const TEST_SETUP = fileURLToPath(new URL('../../scripts/test-setup.sh', import.meta.url));
const startServices = () => run('bash', [TEST_SETUP, '--services']);

/** Connects, optionally writes `send`, and resolves true once the reply contains `expect`. */
function answers(port: number, send: string | null, expect: (reply: Buffer) => boolean, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    let reply = Buffer.alloc(0);
    const done = (ok: boolean) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.on('error', () => done(false));
    sock.on('connect', () => send !== null && sock.write(send));
    sock.on('data', (d) => {
      reply = Buffer.concat([reply, d]);
      if (expect(reply)) done(true);
    });
    sock.on('end', () => done(false));
  });
}

async function ensure(name: string, probe: () => Promise<boolean>, start: () => Promise<unknown>): Promise<void> {
  if (await probe()) return;
  await start();
  const deadline = Date.now() + START_WAIT_MS;
  while (Date.now() < deadline) {
    if (await probe()) return;
    await sleep(100);
  }
  throw new Error(`${name} did not answer on 127.0.0.1 within ${START_WAIT_MS} ms after starting it`);
}

/** True once a Redis on `port` answers PING with +PONG (NOAUTH counts too: it is up). */
export const redisAnswers = (port = 6379) => answers(port, 'PING\r\n', (r) => /^(\+PONG|-NOAUTH)/.test(r.toString()));

/** A MySQL server speaks first: a handshake packet whose payload starts with protocol version 10. */
const mariaDbAnswers = () => answers(3306, null, (r) => r.length >= 5 && r[4] === 10);

export function ensureRedis(): Promise<void> {
  return ensure('Redis', () => redisAnswers(), startServices);
}

export function ensureMariaDb(): Promise<void> {
  return ensure('MariaDB', mariaDbAnswers, startServices);
}
