/**
 * A checkups server in a child process, for tests that kill it: prints one JSON line
 * {"grpc": "...", "http": "..."} once serving. argv: configFile dataDir [adminToken].
 * SERVE_CHILD_GRPC_LISTEN fixes the gRPC address, so a restarted server is found where it was.
 *
 * Benchmarks may ask about the server's own event loop, with lines on stdin (when it is a pipe):
 *   loop-start  -> {"ok": true}   starts measuring (again, from zero)
 *   loop-report -> {"loop": {"p99Ms", "maxMs", "meanMs", "utilization", "cpuMs", "cpuShare", "gcMs", "gcMaxMs", "gcMajorMs", "gcMajors"}}   since loop-start
 * The delay is how late the server's loop ran a timer (perf_hooks monitorEventLoopDelay): a
 * request arriving then waited that long before the server could start on it. It grows when the
 * server blocks on its own work and when the OS does not give it a core; `cpuShare` (CPU time of
 * the process / wall time) tells which: near 1 with a busy loop, the server used its core; far
 * below while the loop is late, it waited for one; `cpuMs` is that CPU time (the work done,
 * whatever the contention). Utilization: share of the time the loop was busy.
 * `gcMs` / `gcMaxMs`: garbage collection in all and its longest pause (a pause blocks the loop);
 * `gcMajorMs` / `gcMajors`: the part of it in full (mark-compact) collections, and how many.
 *   prof-start       -> {"ok": true}   starts a CPU profile (node:inspector)
 *   prof-stop FILE   -> {"ok": true}   stops it and writes it to FILE (.cpuprofile: Chrome DevTools, speedscope)
 * (the bench's server is killed with SIGKILL, so `node --cpu-prof` would never write its profile).
 */
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay, performance, PerformanceObserver, type EventLoopUtilization, type IntervalHistogram, type PerformanceEntry } from 'node:perf_hooks';
import { Session } from 'node:inspector/promises';
import { writeFileSync } from 'node:fs';
import pino from 'pino';
import { startCheckups } from '../../src/main.ts';
import { isMajorGc } from './gc-entries.ts';

const [configFile, dataDir, adminToken] = process.argv.slice(2);
const server = await startCheckups({
  configFile: configFile!,
  dataDir: dataDir!,
  grpcListen: process.env['SERVE_CHILD_GRPC_LISTEN'] ?? '127.0.0.1:0',
  httpListen: '127.0.0.1:0',
  healthChecks: false,
  ...(adminToken !== undefined ? { adminToken } : {}),
  logger: pino({ level: 'silent' }),
});
const reply = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
reply({ grpc: server.grpcAddress, http: server.httpAddress });
process.on('SIGTERM', () => {
  void server.stop(1000).then(() => process.exit(0));
});

let loop: { histogram: IntervalHistogram; since: EventLoopUtilization; cpu: NodeJS.CpuUsage; at: number; gc: PerformanceObserver; gcMs: number; gcMaxMs: number; majorMs: number; majors: number } | undefined;
const countGc = (entries: readonly PerformanceEntry[]) => {
  if (loop === undefined) return;
  for (const e of entries) {
    loop.gcMs += e.duration;
    loop.gcMaxMs = Math.max(loop.gcMaxMs, e.duration);
    if (isMajorGc(e)) {
      loop.majorMs += e.duration;
      loop.majors++;
    }
  }
};
let profiler: Session | undefined;
const round2 = (x: number) => Math.round(x * 100) / 100;
const ms = (ns: number) => round2(ns / 1e6);
// Closes at once when stdin is not a pipe (tests spawn with stdin ignored).
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'loop-start') {
    loop?.histogram.disable();
    loop?.gc.disconnect();
    const gc = new PerformanceObserver((list) => countGc(list.getEntries()));
    loop = { histogram: monitorEventLoopDelay({ resolution: 10 }), since: performance.eventLoopUtilization(), cpu: process.cpuUsage(), at: performance.now(), gc, gcMs: 0, gcMaxMs: 0, majorMs: 0, majors: 0 };
    loop.histogram.enable();
    gc.observe({ entryTypes: ['gc'] });
    reply({ ok: true });
  } else if (line === 'loop-report' && loop !== undefined) {
    countGc(loop.gc.takeRecords()); // pauses not delivered to the observer yet
    const { histogram, since, cpu, at, gc, gcMs, gcMaxMs, majorMs, majors } = loop;
    const used = process.cpuUsage(cpu);
    histogram.disable();
    gc.disconnect();
    loop = undefined;
    reply({ loop: { p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max), meanMs: ms(histogram.mean), utilization: round2(performance.eventLoopUtilization(since).utilization), cpuMs: Math.round((used.user + used.system) / 1000), cpuShare: round2((used.user + used.system) / 1000 / (performance.now() - at)), gcMs: Math.round(gcMs), gcMaxMs: round2(gcMaxMs), gcMajorMs: Math.round(majorMs), gcMajors: majors } });
  } else if (line === 'prof-start') {
    profiler = new Session();
    profiler.connect();
    await profiler.post('Profiler.enable');
    await profiler.post('Profiler.start');
    reply({ ok: true });
  } else if (line.startsWith('prof-stop ') && profiler !== undefined) {
    const { profile } = await profiler.post('Profiler.stop');
    writeFileSync(line.slice('prof-stop '.length), JSON.stringify(profile));
    profiler.disconnect();
    reply({ ok: true });
  } else {
    reply({ error: `unknown command ${line}` });
  }
}
