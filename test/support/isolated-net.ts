/**
 * A private network namespace with only loopback (`unshare --user --map-root-user --net`, so
 * root is not needed): commands run in it through nsenter and may bind fixed ports such as the
 * README's 127.0.0.1:7600 without meeting another test, a demo left running or another checkout
 * on the same machine. The namespace lives while its holder process does; the holder ends when
 * our stdin pipe closes, so a crashed test leaves nothing behind but the processes it started,
 * which `close()` ends.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { once } from 'node:events';

export interface Ran {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly output: string;
  readonly timedOut: boolean;
}

export interface Background {
  readonly child: ChildProcess;
  /** stdout and stderr so far. */
  output(): string;
  /** Resolves when the process has ended. */
  readonly exited: Promise<void>;
}

const STOP_GRACE_MS = 10_000;

export class IsolatedNet {
  private readonly background = new Set<Background>();

  private constructor(private readonly holder: ChildProcess) {}

  static async create(): Promise<IsolatedNet> {
    const holder = spawn('unshare', ['--user', '--map-root-user', '--net', '--', 'sh', '-c', 'ip link set lo up && echo up && exec cat >/dev/null'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let said = '';
    holder.stderr!.on('data', (d: Buffer) => (said += d.toString()));
    const up = new Promise<void>((resolve, reject) => {
      holder.stdout!.on('data', (d: Buffer) => ((said += d.toString()), said.includes('up\n') && resolve()));
      holder.once('error', reject);
      holder.once('exit', (code) => reject(new Error(`unshare --user --net failed (exit ${code}): ${said.trim()}`)));
    });
    await up;
    return new IsolatedNet(holder);
  }

  private spawnIn(command: string, args: readonly string[], opts: SpawnOptions): ChildProcess {
    const target = String(this.holder.pid);
    return spawn('nsenter', ['--target', target, '--user', '--net', '--preserve-credentials', '--', command, ...args], opts);
  }

  /** Runs a command to its end (killed after timeoutMs); output is stdout and stderr interleaved. */
  async run(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<Ran> {
    const child = this.spawnIn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child, 'SIGKILL');
    }, opts.timeoutMs);
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    clearTimeout(timer);
    return { code, signal, output, timedOut };
  }

  /** Starts a long-running command in its own process group; `close()` stops it if still running. */
  start(command: string, args: readonly string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Background {
    const child = this.spawnIn(command, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const bg: Background = { child, output: () => output, exited: once(child, 'close').then(() => undefined) };
    this.background.add(bg);
    void bg.exited.then(() => this.background.delete(bg));
    return bg;
  }

  /**
   * Resolves once host:port accepts a TCP connection inside the namespace; rejects when `bg`
   * ends first or after timeoutMs. The connects run in one bash inside the namespace.
   */
  async waitForListener(host: string, port: number, bg: Background, timeoutMs: number): Promise<void> {
    const tries = Math.ceil(timeoutMs / 100);
    const probe = this.run('bash', ['-c', `for _ in $(seq ${tries}); do (exec 3<>/dev/tcp/${host}/${port}) 2>/dev/null && exit 0; sleep 0.1; done; exit 1`], {
      cwd: '/',
      env: process.env,
      timeoutMs: timeoutMs + 5000,
    });
    const ran = await Promise.race([probe, bg.exited.then(() => 'exited' as const)]);
    if (ran === 'exited') throw new Error(`exited (code ${bg.child.exitCode}, signal ${bg.child.signalCode}) before ${host}:${port} accepted connections`);
    if (ran.code !== 0) throw new Error(`${host}:${port} did not accept connections within ${timeoutMs} ms`);
  }

  /** SIGTERM to the process group, SIGKILL after a grace period; resolves when it has ended. */
  async stop(bg: Background): Promise<void> {
    if (bg.child.exitCode !== null || bg.child.signalCode !== null) return;
    killGroup(bg.child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(bg.child, 'SIGKILL'), STOP_GRACE_MS);
    await bg.exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await Promise.all([...this.background].map((bg) => this.stop(bg)));
    this.holder.stdin!.end();
    if (this.holder.exitCode === null) await once(this.holder, 'exit');
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  try {
    process.kill(-child.pid!, signal);
  } catch {
    // Already gone.
  }
}
