/**
 * `checkups serve` instances of one cluster as separate processes (the CLI, as operators run
 * it), and TCP backends that count every connection made to them (= probes, counted at the
 * backends).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { listen } from './net.ts';

export interface Instance {
  readonly id: string;
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  /** Parsed JSON log lines so far. */
  readonly logs: Array<Record<string, unknown>>;
  /** Resolves when a log line matching `pred` arrives (or one already did). */
  logged(pred: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  kill(signal: NodeJS.Signals): void;
  exited: Promise<unknown>;
}

export async function startInstance(opts: { id: string; config: string; dataDir: string; redisUrl: string; cluster: string }): Promise<Instance> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', opts.config, '--data-dir', opts.dataDir, '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0', '--store', opts.redisUrl, '--cluster', opts.cluster, '--instance-id', opts.id],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CHECKUPS_ADMIN_TOKEN: '' } },
  );
  const exited = once(child, 'exit');
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<{ pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      return;
    }
    logs.push(line);
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]!.pred(line)) waiters.splice(i, 1)[0]!.resolve(line);
  });
  const logged = (pred: (l: Record<string, unknown>) => boolean, ms = 20_000) => {
    const seen = logs.find(pred);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`instance ${opts.id}: no such log line within ${ms} ms`)), ms);
      timer.unref();
      waiters.push({
        pred,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void exited.then(() => reject(new Error(`instance ${opts.id} exited (${child.exitCode ?? child.signalCode})`)));
    });
  };
  // Generous: a cold start transpiles every module (tsx), slow on a loaded 2-core machine.
  const serving = await logged((l) => l['msg'] === 'checkups serving', 120_000);
  return { id: opts.id, child, grpc: serving['grpc'] as string, http: serving['http'] as string, logs, logged, kill: (s) => void child.kill(s), exited };
}

/** TCP listeners that accept and close; each connection is one probe, timestamped. */
export class CountingBackends {
  readonly ports: number[] = [];
  /** Ports closed by closePort(): nothing is counted there any more. */
  readonly closed = new Set<number>();
  /** port -> connection times (performance.now()). */
  readonly hits = new Map<number, number[]>();
  private readonly servers: Server[] = [];

  static async start(n: number): Promise<CountingBackends> {
    const b = new CountingBackends();
    for (let i = 0; i < n; i++) await b.add();
    return b;
  }

  private async add(): Promise<void> {
    const times: number[] = [];
    const server = createServer((s) => {
      times.push(performance.now());
      s.destroy();
    });
    const port = await listen(server);
    this.ports.push(port);
    this.hits.set(port, times);
    this.servers.push(server);
  }

  /** Connections to `port` in [from, to). */
  count(port: number, from: number, to = Infinity): number {
    return this.hits.get(port)!.filter((t) => t >= from && t < to).length;
  }

  /** Stops accepting on one port (connections are refused from now on). */
  async closePort(port: number): Promise<void> {
    const i = this.ports.indexOf(port);
    this.closed.add(port);
    await new Promise((r) => this.servers[i]!.close(r));
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((s) => new Promise((r) => s.close(r))));
  }
}
