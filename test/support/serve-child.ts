/**
 * A checkups server in a child process, for tests that kill it: prints one JSON line
 * {"grpc": "...", "http": "..."} once serving. argv: configFile dataDir [adminToken].
 * SERVE_CHILD_GRPC_LISTEN fixes the gRPC address, so a restarted server is found where it was.
 *
 * Benchmarks may ask about the server's own event loop, with lines on stdin (when it is a pipe):
 *   loop-start  -> {"ok": true}   starts measuring (again, from zero)
 *   loop-report -> {"loop": {"p99Ms", "maxMs", "meanMs", "utilization", "cpuShare"}}   since loop-start
 * The delay is how late the server's loop ran a timer (perf_hooks monitorEventLoopDelay): a
 * request arriving then waited that long before the server could start on it. It grows when the
 * server blocks on its own work and when the OS does not give it a core; `cpuShare` (CPU time of
 * the process / wall time) tells which: near 1 with a busy loop, the server used its core; far
 * below while the loop is late, it waited for one. Utilization: share of the time the loop was busy.
 */
import { createInterface } from 'node:readline';
import { monitorEventLoopDelay, performance, type EventLoopUtilization, type IntervalHistogram } from 'node:perf_hooks';
import pino from 'pino';
import { startCheckups } from '../../src/main.ts';

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

let loop: { histogram: IntervalHistogram; since: EventLoopUtilization; cpu: NodeJS.CpuUsage; at: number } | undefined;
const round2 = (x: number) => Math.round(x * 100) / 100;
const ms = (ns: number) => round2(ns / 1e6);
// Closes at once when stdin is not a pipe (tests spawn with stdin ignored).
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'loop-start') {
    loop?.histogram.disable();
    loop = { histogram: monitorEventLoopDelay({ resolution: 10 }), since: performance.eventLoopUtilization(), cpu: process.cpuUsage(), at: performance.now() };
    loop.histogram.enable();
    reply({ ok: true });
  } else if (line === 'loop-report' && loop !== undefined) {
    const { histogram, since, cpu, at } = loop;
    const used = process.cpuUsage(cpu);
    histogram.disable();
    loop = undefined;
    reply({ loop: { p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max), meanMs: ms(histogram.mean), utilization: round2(performance.eventLoopUtilization(since).utilization), cpuShare: round2((used.user + used.system) / 1000 / (performance.now() - at)) } });
  } else {
    reply({ error: `unknown command ${line}` });
  }
}
