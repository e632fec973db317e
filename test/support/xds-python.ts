/**
 * Drives test/support/xds-python-client.py: gRPC C-core (Debian's python3-grpcio under
 * /usr/bin/python3) as an xDS client, one JSON answer per command line.
 */
import { spawnSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface, type Interface } from 'node:readline';

export const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./xds-python-client.py', import.meta.url));

/** Why C-core cannot run here, or undefined when it can. */
export function cCoreMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import grpc; print(grpc.__version__)'], { encoding: 'utf8' });
  if (probe.error !== undefined) return `${PYTHON}: ${probe.error.message}`;
  if (probe.status !== 0) return `python3-grpcio missing (apt-get install -y python3-grpcio): ${probe.stderr.trim().split('\n').at(-1)}`;
  return undefined;
}

export type PyAnswer = { ok?: string; code?: string; details?: string; ms?: number; counts?: Record<string, number>; grpc?: string };

export class PythonXdsClient {
  private readonly child: ChildProcess;
  private readonly lines: Interface;
  private readonly pending: Array<{ resolve: (answer: PyAnswer) => void; reject: (err: Error) => void; timer: NodeJS.Timeout }> = [];
  /** C-core's own log lines (printed by the test only when something fails). */
  readonly stderr: string[] = [];
  /** Resolves with the exit code or signal when the process ends. */
  readonly exited: Promise<number | string>;

  constructor(bootstrap: object) {
    this.child = spawn(PYTHON, [SCRIPT], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, GRPC_XDS_BOOTSTRAP_CONFIG: JSON.stringify(bootstrap), PYTHONUNBUFFERED: '1' },
    });
    this.child.stderr!.on('data', (d: Buffer) => this.stderr.push(d.toString()));
    this.exited = once(this.child, 'exit').then(([code, signal]) => {
      const how = (code as number | null) ?? (signal as string);
      for (const p of this.pending.splice(0)) {
        clearTimeout(p.timer);
        p.reject(new Error(`python client exited (${how})`));
      }
      return how;
    });
    this.lines = createInterface({ input: this.child.stdout! });
    this.lines.on('line', (line) => {
      const p = this.pending.shift();
      if (p === undefined) return;
      clearTimeout(p.timer);
      p.resolve(JSON.parse(line) as PyAnswer);
    });
  }

  command(line: string, timeoutMs = 15_000): Promise<PyAnswer> {
    return new Promise((resolve, reject) => {
      if (this.child.exitCode !== null || this.child.signalCode !== null) return reject(new Error(`python client exited (${this.child.exitCode ?? this.child.signalCode})`));
      const timer = setTimeout(() => reject(new Error(`python client: no answer to "${line}" in ${timeoutMs} ms; stderr:\n${this.stderr.join('').slice(-3000)}`)), timeoutMs);
      this.pending.push({ resolve, reject, timer });
      this.child.stdin!.write(`${line}\n`);
    });
  }

  async who(target: string, key?: string): Promise<string> {
    const a = await this.command(`who ${target}${key !== undefined ? ` ${key}` : ''}`);
    return a.ok ?? `!${a.code}`;
  }

  async spread(target: string, n: number, key?: string): Promise<Record<string, number>> {
    return (await this.command(`spread ${target} ${n}${key !== undefined ? ` ${key}` : ''}`)).counts!;
  }

  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.stdin!.end();
      const kill = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(kill);
    }
    this.lines.close();
  }
}
