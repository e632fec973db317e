/**
 * Cluster-mode test support: `checkups serve --store URL --cluster NAME` instances as separate
 * processes (the CLI, as operators run it), each reporting its addresses and warnings through
 * its JSON log on stdout; and TCP backends that count every connection made to them (= probes,
 * counted at the backends). The one way tests and benches start a cluster instance; the Redis
 * they share comes from redis-server.ts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import { createInterface } from 'node:readline';
import { listen } from './net.ts';

/** One parsed pino line of an instance. */
export type InstanceLogLine = { readonly level: number; readonly msg: string } & Readonly<Record<string, unknown>>;

export interface InstanceOptions {
  /** The config file (`--config`). */
  readonly config: string;
  /** The store URL (`--store`). */
  readonly store: string;
  /** The cluster name (`--cluster`). */
  readonly cluster: string;
  /** `--instance-id`; absent: the default (host name and pid). */
  readonly id?: string;
  /** `--data-dir`; absent: the default. */
  readonly dataDir?: string;
  /** More `checkups serve` arguments (`--log-level debug`, ...). */
  readonly args?: readonly string[];
  /** Arguments of node itself, before the script (`--cpu-prof`, ...). */
  readonly nodeArgs?: readonly string[];
}

export interface Instance {
  /** The id it was given, or undefined (then the default, host name and pid). */
  readonly id: string | undefined;
  readonly child: ChildProcess;
  readonly grpc: string;
  readonly http: string;
  /** Every log line so far, parsed. */
  readonly logs: InstanceLogLine[];
  /**
   * Resolves with the first log line (already logged or later) whose message matches `match`
   * (a RegExp) or for which `match` holds; rejects after `ms` or when the instance exits first.
   */
  logged(match: RegExp | ((line: InstanceLogLine) => boolean), ms?: number): Promise<InstanceLogLine>;
  /** Sends `signal` (default SIGKILL) and resolves once the process is gone (at once if it is). Not for SIGSTOP/SIGHUP: use child.kill. */
  kill(signal?: NodeJS.Signals): Promise<void>;
}

/** The log line of a server that is up (`checkups <version> serving`). */
const SERVING = /^checkups (?:\S+ )?serving$/;

/** Starts one instance on free loopback ports; resolves once it serves. */
export async function startInstance(opts: InstanceOptions): Promise<Instance> {
  const child = spawn(
    process.execPath,
    [
      ...(opts.nodeArgs ?? []), '--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', opts.config, '--store', opts.store, '--cluster', opts.cluster,
      '--grpc-listen', '127.0.0.1:0', '--http-listen', '127.0.0.1:0',
      ...(opts.id !== undefined ? ['--instance-id', opts.id] : []),
      ...(opts.dataDir !== undefined ? ['--data-dir', opts.dataDir] : []),
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, CHECKUPS_ADMIN_TOKEN: '' } },
  );
  const name = `instance ${opts.id ?? `pid ${child.pid}`}`;
  const exited = once(child, 'exit');
  const logs: InstanceLogLine[] = [];
  const waiters = new Set<{ test: (l: InstanceLogLine) => boolean; resolve: (l: InstanceLogLine) => void }>();
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: InstanceLogLine;
    try {
      line = JSON.parse(text) as InstanceLogLine;
    } catch {
      return;
    }
    logs.push(line);
    for (const w of waiters) {
      if (w.test(line)) {
        waiters.delete(w);
        w.resolve(line);
      }
    }
  });
  const logged = (match: RegExp | ((l: InstanceLogLine) => boolean), ms = 20_000): Promise<InstanceLogLine> => {
    const test = match instanceof RegExp ? (l: InstanceLogLine) => match.test(String(l.msg)) : match;
    const seen = logs.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const fail = (why: string) => {
        waiters.delete(w);
        clearTimeout(timer);
        reject(new Error(`${name}: no log line matching ${String(match)} ${why}; got:\n${logs.map((l) => l.msg).join('\n')}`));
      };
      const timer = setTimeout(() => fail(`within ${ms} ms`), ms);
      timer.unref();
      const w = {
        test,
        resolve: (l: InstanceLogLine) => {
          clearTimeout(timer);
          resolve(l);
        },
      };
      waiters.add(w);
      void exited.then(() => waiters.has(w) && fail(`before it exited (${child.exitCode ?? child.signalCode})`));
    });
  };
  // Generous: a cold start transpiles every module (tsx), slow on a loaded 2-core machine.
  const serving = await logged((l) => SERVING.test(String(l.msg)), 300_000);
  return {
    id: opts.id,
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
