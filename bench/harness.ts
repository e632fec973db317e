/**
 * Tiny benchmark harness: time-boxed batches, median of rounds, a printed table and a JSON file
 * under bench/results/. Ratios are meant to be read within one run (the machine is noisy).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { createInterface, type Interface } from 'node:readline';

export interface Measurement {
  /** Median nanoseconds per operation. */
  readonly nsPerOp: number;
  readonly opsPerSec: number;
  readonly rounds: number;
}

/** Runs `batch(n)` (n operations) in rounds of about `roundMs`; returns the median cost per op. */
export function measure(batch: (n: number) => void, opts: { roundMs?: number; rounds?: number } = {}): Measurement {
  const roundMs = opts.roundMs ?? 150;
  const rounds = opts.rounds ?? 5;
  let n = 64;
  // Calibrate a batch size that takes about roundMs / 4.
  for (;;) {
    const t = performance.now();
    batch(n);
    const dt = performance.now() - t;
    if (dt > roundMs / 4 || n > 1e9) break;
    n *= 2;
  }
  const samples: number[] = [];
  for (let r = 0; r < rounds; r++) {
    let ops = 0;
    const t = performance.now();
    while (performance.now() - t < roundMs) {
      batch(n);
      ops += n;
    }
    samples.push(((performance.now() - t) * 1e6) / ops);
  }
  samples.sort((a, b) => a - b);
  const nsPerOp = samples[Math.floor(samples.length / 2)]!;
  return { nsPerOp, opsPerSec: 1e9 / nsPerOp, rounds };
}

/**
 * Measures several cases side by side: every round runs each case once (for about roundMs), in
 * turn, so drift in machine load hits all of them alike. Medians per case.
 */
export function measureInterleaved(cases: Record<string, (n: number) => void>, opts: { roundMs?: number; rounds?: number } = {}): Record<string, Measurement> {
  const roundMs = opts.roundMs ?? 100;
  const rounds = opts.rounds ?? 7;
  const sizes: Record<string, number> = {};
  for (const [name, batch] of Object.entries(cases)) {
    let n = 64;
    for (;;) {
      const t = performance.now();
      batch(n);
      if (performance.now() - t > roundMs / 4 || n > 1e9) break;
      n *= 2;
    }
    sizes[name] = n;
  }
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
  for (let r = 0; r < rounds; r++) {
    for (const [name, batch] of Object.entries(cases)) {
      const n = sizes[name]!;
      let ops = 0;
      const t = performance.now();
      while (performance.now() - t < roundMs) {
        batch(n);
        ops += n;
      }
      samples[name]!.push(((performance.now() - t) * 1e6) / ops);
    }
  }
  const out: Record<string, Measurement> = {};
  for (const [name, list] of Object.entries(samples)) {
    list.sort((a, b) => a - b);
    const nsPerOp = list[Math.floor(list.length / 2)]!;
    out[name] = { nsPerOp, opsPerSec: 1e9 / nsPerOp, rounds };
  }
  return out;
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  const cols = Object.keys(rows[0] ?? {});
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v);
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]!).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padStart(widths[i]!)).join('  ');
  console.log(`\n${title}`);
  console.log(line(cols));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(cols.map((c) => cell(r[c]!))));
}

export function writeResult(name: string, data: unknown): string {
  mkdirSync('bench/results', { recursive: true });
  const path = `bench/results/${name}.json`;
  const env = { node: process.version, cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, date: new Date().toISOString() };
  writeFileSync(path, `${JSON.stringify({ benchmark: name, env, ...(data as object) }, null, 2)}\n`);
  return path;
}

/** Keeps results observable so the JIT cannot drop the work. */
export let sink = 0;
export function consume(x: number): void {
  sink = (sink + x) | 0;
}

export interface ClosedLoopResult {
  /** Completed calls per second. */
  readonly perSec: number;
  /** Latencies of successful calls, ms, sorted. */
  readonly latencies: number[];
  readonly errors: number;
}

/** `callers` loops, each issuing its next call when the previous one completes, for `ms`. */
export async function closedLoop(callers: number, ms: number, call: (done: (err: unknown) => void) => void): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  let errors = 0;
  const start = performance.now();
  const end = start + ms;
  await Promise.all(
    Array.from(
      { length: callers },
      () =>
        new Promise<void>((resolve) => {
          const next = () => {
            if (performance.now() >= end) return resolve();
            const t = performance.now();
            call((err) => {
              if (err) errors++;
              else latencies.push(performance.now() - t);
              next();
            });
          };
          next();
        }),
    ),
  );
  latencies.sort((a, b) => a - b);
  return { perSec: (latencies.length * 1000) / (performance.now() - start), latencies, errors };
}

/** The q-quantile of sorted values. */
export function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

/** Linux USER_HZ: /proc counts CPU time in 1/100 s. */
const CLK_TCK = 100;

/** CPU seconds (user + system) a process used so far, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

/**
 * CPU seconds the whole machine spent busy so far (every core, every process: user, nice,
 * system, irq, softirq), from /proc/stat. Over a window divided by its length: busy cores.
 */
export function machineBusySeconds(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  return (f[0]! + f[1]! + f[2]! + f[5]! + f[6]!) / CLK_TCK;
}

/** A child process answering one JSON line per command line (the benches' helper processes). */
export class LineChild {
  private readonly lines: Interface;
  private readonly queue: string[] = [];
  private waiter: ((l: string) => void) | undefined;
  constructor(readonly child: ChildProcess) {
    this.lines = createInterface({ input: child.stdout! });
    this.lines.on('line', (l) => {
      if (this.waiter !== undefined) {
        const w = this.waiter;
        this.waiter = undefined;
        w(l);
      } else this.queue.push(l);
    });
  }
  next(): Promise<string> {
    const l = this.queue.shift();
    return l !== undefined ? Promise.resolve(l) : new Promise((r) => (this.waiter = r));
  }
  async ask<T>(cmd: string): Promise<T> {
    this.child.stdin!.write(`${cmd}\n`);
    return JSON.parse(await this.next()) as T;
  }
}

