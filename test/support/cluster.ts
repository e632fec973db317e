/**
 * Cluster-mode test support: a real redis-server on a free loopback port in its own dir (never
 * the shared 6379), and `checkups serve --store` instances as separate processes, each
 * reporting its addresses and warnings through its JSON log on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { freePort } from './net.ts';

export interface RedisProcess {
  readonly port: number;
  readonly url: string;
  /** A client for the test's own reads and writes. */
  client(): Redis;
  /** SIGKILL (no shutdown save), resolves when the process is gone. */
  kill(): Promise<void>;
  /** Starts it again on the same port and dir (AOF replayed when persistence is on). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Waits for a line matching `re` on a child's stdout (or rejects when it exits first or after `ms`). */
function waitLine(child: ChildProcess, re: RegExp, ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(() => done(new Error(`${what}: no line matching ${re} within ${ms} ms`)), ms);
    const onExit = (code: number | null) => done(new Error(`${what} exited (${code}) before ${re}`));
    function done(err: Error | null, line?: string): void {
      clearTimeout(timer);
      lines.removeListener('line', onLine);
      child.removeListener('exit', onExit);
      if (err !== null) reject(err);
      else resolve(line!);
    }
    function onLine(line: string): void {
      if (re.test(line)) done(null, line);
    }
    lines.on('line', onLine);
    child.once('exit', onExit);
  });
}

/** Starts redis-server on a free port; `persistent`: AOF with appendfsync always. */
export async function startRedis(dir: string, opts: { persistent: boolean; extra?: readonly string[] }): Promise<RedisProcess> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const args = [
    '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '',
    ...(opts.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
    ...(opts.extra ?? []),
  ];
  let child: ChildProcess;
  const start = async () => {
    child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    await waitLine(child, /Ready to accept connections/, 15_000, `redis-server on ${port}`);
    child.stdout!.resume();
  };
  await start();
  const gone = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    client: () => new Redis({ port, host: '127.0.0.1', lazyConnect: false, maxRetriesPerRequest: 1 }),
    kill: gone,
    restart: start,
    stop: gone,
  };
}

export interface Instance {
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  /** Every log line so far, parsed. */
  readonly logs: Array<{ level: number; msg: string } & Record<string, unknown>>;
  /** Resolves with the first log line (now or later) whose message matches. */
  logged(re: RegExp, ms?: number): Promise<string>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The log line of a server that is up (`checkups <version> serving`). */
const SERVING = /^checkups (?:\S+ )?serving$/;

/** `checkups serve --store URL --cluster NAME` in a child process, on free loopback ports. */
export async function startInstance(configFile: string, store: string, cluster: string, extra: readonly string[] = []): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', configFile, '--store', store, '--cluster', cluster, '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', ...extra],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CHECKUPS_ADMIN_TOKEN: '' } },
  );
  const logs: Instance['logs'] = [];
  const watchers = new Set<{ re: RegExp; resolve: (msg: string) => void }>();
  createInterface({ input: child.stdout! }).on('line', (line) => {
    let entry: Instance['logs'][number];
    try {
      entry = JSON.parse(line) as Instance['logs'][number];
    } catch {
      return;
    }
    logs.push(entry);
    for (const w of watchers) {
      if (w.re.test(entry.msg)) {
        watchers.delete(w);
        w.resolve(entry.msg);
      }
    }
  });
  const logged = (re: RegExp, ms = 20_000): Promise<string> => {
    const seen = logs.find((l) => re.test(l.msg));
    if (seen !== undefined) return Promise.resolve(seen.msg);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no log matching ${re} within ${ms} ms; got:\n${logs.map((l) => l.msg).join('\n')}`)), ms);
      watchers.add({ re, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  };
  const exited = once(child, 'exit');
  await Promise.race([logged(SERVING, 60_000), exited.then(([code]) => Promise.reject(new Error(`checkups serve exited (${String(code)}) before serving:\n${logs.map((l) => l.msg).join('\n')}`)))]);
  const serving = logs.find((l) => SERVING.test(l.msg))!;
  return {
    child,
    grpc: serving['grpc'] as string,
    http: serving['http'] as string,
    logs,
    logged,
    kill: async (signal = 'SIGKILL') => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
