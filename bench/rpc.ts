/**
 * `npm run bench -- rpc`: what a SelectPeer costs the server, against a no-op unary RPC
 * (grpc.health.v1.Health/Check) on the same server, in alternating rounds. The server runs in a
 * child process and the load comes from other processes (LOAD_PROCESSES × CALLERS_EACH callers,
 * a channel each), so the callers' own work is not counted: the server's CPU per call is read
 * from /proc/<pid>/stat over each round.
 * Targets: SelectPeer throughput >= 90% of the no-op's, and its server CPU per call <= 1.5x the
 * no-op's (all that SelectPeer adds to a gRPC call is one pick).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { cpuSeconds, printTable, quantile, writeResult } from './harness.ts';

const LOAD_PROCESSES = 2;
const CALLERS_EACH = 32;
const ROUND_MS = 2000;
const ROUNDS = 3;

interface Round {
  readonly calls: number;
  readonly errors: number;
  readonly latencies: number[];
  readonly serverCpuS: number;
  readonly wallS: number;
}

async function round(address: string, method: 'select' | 'noop', serverPid: number): Promise<Round> {
  const children = Array.from({ length: LOAD_PROCESSES }, () =>
    spawn(process.execPath, ['--import', 'tsx', 'bench/rpc-load-child.ts', address, method, String(CALLERS_EACH), String(ROUND_MS)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const readers = children.map((c) => createInterface({ input: c.stdout! })[Symbol.asyncIterator]());
  // Every generator warmed up: start them together and count the server's CPU from there.
  for (const r of readers) assert.equal((await r.next()).value, 'ready');
  const cpu0 = cpuSeconds(serverPid);
  const t0 = performance.now();
  for (const c of children) c.stdin!.end('go');
  const results = await Promise.all(readers.map(async (r) => JSON.parse((await r.next()).value as string) as { calls: number; errors: number; latencies: number[] }));
  const cpu1 = cpuSeconds(serverPid);
  const wallS = (performance.now() - t0) / 1000;
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : undefined)));
  return {
    calls: results.reduce((a, r) => a + r.calls, 0),
    errors: results.reduce((a, r) => a + r.errors, 0),
    latencies: results.flatMap((r) => r.latencies),
    serverCpuS: cpu1 - cpu0,
    wallS,
  };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-rpc-'));
  const servers = Array.from({ length: 100 }, (_, i) => `{ host: 10.0.${i >> 8}.${i & 255}, port: 8080, weight: ${1 + (i % 5)} }`).join(', ');
  writeFileSync(join(dir, 'c.yaml'), `upstreams:\n  api:\n    cluster:\n      - servers: [ ${servers} ]\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve-child.ts', join(dir, 'c.yaml'), join(dir, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const address = (JSON.parse(line) as { grpc: string }).grpc;
  try {
    const acc = new Map<string, { calls: number; errors: number; lat: number[]; cpu: number; wall: number; measuredCalls: number }>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, method] of [['no-op (Health/Check)', 'noop'], ['SelectPeer', 'select']] as const) {
        const res = await round(address, method, child.pid!);
        const a = acc.get(name) ?? { calls: 0, errors: 0, lat: [], cpu: 0, wall: 0, measuredCalls: 0 };
        a.calls += res.calls;
        a.errors += res.errors;
        a.lat.push(...res.latencies);
        a.cpu += res.serverCpuS;
        a.wall += res.wallS;
        acc.set(name, a);
      }
    }
    const rows = [...acc].map(([name, a]) => {
      const sorted = a.lat.sort((x, y) => x - y);
      return {
        rpc: name,
        'calls/s': Math.round(a.calls / a.wall),
        'p50 ms': quantile(sorted, 0.5),
        'p99 ms': quantile(sorted, 0.99),
        'server CPU µs/call': Math.round((a.cpu * 1e6) / a.calls),
        'server cores': Number((a.cpu / a.wall).toFixed(2)),
        errors: a.errors,
      };
    });
    printTable(`rpc: ${LOAD_PROCESSES} load processes × ${CALLERS_EACH} callers, ${ROUNDS} alternating rounds of ${ROUND_MS} ms`, rows);
    const throughput = (rows[1]!['calls/s'] as number) / (rows[0]!['calls/s'] as number);
    const cpu = (rows[1]!['server CPU µs/call'] as number) / (rows[0]!['server CPU µs/call'] as number);
    console.log(`SelectPeer / no-op throughput: ${(throughput * 100).toFixed(1)}% (target >= 90%: ${throughput >= 0.9 ? 'ok' : 'MISSED'})`);
    console.log(`SelectPeer / no-op server CPU per call: ${cpu.toFixed(2)}x (target <= 1.5x: ${cpu <= 1.5 ? 'ok' : 'MISSED'})`);
    console.log(`written: ${writeResult('rpc', { loadProcesses: LOAD_PROCESSES, callersEach: CALLERS_EACH, rows, throughputRatio: throughput, cpuPerCallRatio: cpu })}`);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}
