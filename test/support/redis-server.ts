/**
 * A private redis-server for tests (and benches) that need their own: loopback, a free port, its
 * own dir, no persistence unless asked, stopped by the caller. Never the shared 127.0.0.1:6379.
 * The one way tests start a redis-server (the isolated-network README test aside, which needs
 * 6379 inside its own namespace).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { freePort } from './net.ts';

export interface TestRedisOptions {
  /** Its working dir (AOF files); created if missing, left in place. Default: a temp dir removed by stop(). */
  readonly dir?: string;
  /**
   * AOF persistence with this `appendfsync` policy (`always`: every acknowledged write survives
   * kill -9). Absent: no persistence, so restart() after kill() brings it back empty.
   */
  readonly appendfsync?: 'always' | 'everysec' | 'no';
  /** More redis-server arguments (`--requirepass`, `--replicaof`, ...). */
  readonly args?: readonly string[];
}

export interface TestRedis {
  readonly port: number;
  /** `redis://127.0.0.1:PORT/0`, as a store URL. */
  readonly url: string;
  /** A new client of it for the test's own reads and writes (every one still open is closed by stop()). */
  client(): Redis;
  /** SIGKILL (no shutdown save); resolves when the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and dir (the AOF replayed when persistence is on). */
  restart(): Promise<void>;
  /** Kills it, closes its clients, removes its temp dir (not a dir the caller gave). */
  stop(): Promise<void>;
}

/** Resolves on the first stdout line of `child` matching `re`; rejects when it exits first or after `ms`. */
function waitLine(child: ChildProcess, re: RegExp, ms: number, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => done(new Error(`${what}: no line matching ${re} within ${ms} ms`)), ms);
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before ${re}`));
    function done(err: Error | null): void {
      clearTimeout(timer);
      lines.removeListener('line', onLine);
      lines.close();
      child.removeListener('exit', onExit);
      if (err !== null) reject(err);
      else resolve();
    }
    function onLine(line: string): void {
      if (re.test(line)) done(null);
    }
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

export async function startRedis(opts: TestRedisOptions = {}): Promise<TestRedis> {
  const ownDir = opts.dir === undefined ? mkdtempSync(join(tmpdir(), 'checkups-redis-')) : undefined;
  const dir = opts.dir ?? ownDir!;
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--daemonize', 'no',
    ...(opts.appendfsync !== undefined ? ['--appendonly', 'yes', '--appendfsync', opts.appendfsync] : ['--appendonly', 'no']),
    ...(opts.args ?? []),
  ];
  let child: ChildProcess;
  const kill = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const start = async () => {
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      // "Ready to accept connections" (7.x over TCP); also when it needs a password or is a replica.
      await waitLine(child, /ready to accept connections/i, 15_000, `redis-server on ${port}`);
    } catch (err) {
      await kill();
      throw err;
    }
    child.stdout!.resume();
  };
  const clients = new Set<Redis>();
  try {
    await start();
  } catch (err) {
    if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    client: () => {
      const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1 });
      // Errors reach the commands that fail; the event only says the connection dropped (kill()).
      c.on('error', () => undefined);
      c.on('end', () => clients.delete(c));
      clients.add(c);
      return c;
    },
    kill,
    restart: start,
    stop: async () => {
      for (const c of clients) c.disconnect();
      clients.clear();
      await kill();
      if (ownDir !== undefined) rmSync(ownDir, { recursive: true, force: true });
    },
  };
}
