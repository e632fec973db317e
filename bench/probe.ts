/**
 * `npm run bench -- probe`: 10,000 TCP targets on loopback, spread over 100 addresses
 * (127.0.1.1-100) and 100 ports each; 20 ports per address listen (ok), the other 80 refuse
 * (err). Real probes, real sockets, the real HealthChecker and ProbeScheduler.
 *
 * Phase 1: a 5 s interval for three intervals after one of warm-up. Reports probes/s,
 * scheduling lateness p50/p99, CPU seconds per 1,000 probes and RSS. Target: lateness p99
 * under 2% of the interval, CPU under one core.
 * Phase 2: the same targets at shorter intervals (2.5, 1.25, 0.625 s ...), i.e. the load of
 * 20k, 40k, 80k ... endpoints at 5 s, until lateness p99 exceeds 10% of the interval. Envoy's
 * single health-check thread is reported to saturate near 20,000 endpoints at 5 s.
 * Phase 3: hung targets. A growing share of the 10,000 targets (at 5 s, timeout 1 s) points at a
 * port that drops SYNs, so each of their probes holds one of the CONCURRENCY in-flight slots for
 * its whole timeout. Reports lateness per share and where the in-flight cap's cliff is: the
 * first share whose lateness p99 passes 10% of the interval, against the expected slot demand
 * (hung targets × timeout / interval).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { parseConfig, parseUpstream } from '../src/config/validate.ts';
import type { UpstreamSpec } from '../src/core/model.ts';
import { UpstreamRegistry } from '../src/core/registry.ts';
import { HealthChecker } from '../src/health/health-checker.ts';
import { runProbe } from '../src/health/probes/index.ts';
import { systemClock } from '../src/util/clock.ts';
import { synDropper } from '../test/support/net.ts';
import { printTable, writeResult } from './harness.ts';

const ADDRESSES = 100;
const PORTS = 100;
const LISTENING_PORTS = 20;
const FIRST_PORT = 20_000;

const CONCURRENCY = 512;
const HUNG_SHARES = [0, 0.05, 0.1, 0.2, 0.3];
/** Where hung targets point (set in run()): a port whose SYNs are dropped, reachable on all of 127/8. */
let hungPort = 0;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The 10,000 targets; the first `hungShare` of each address's ports replaced by hung ones. */
function upstreams(hungShare = 0): UpstreamSpec[] {
  const hungPerAddress = Math.round(PORTS * hungShare);
  return Array.from({ length: ADDRESSES }, (_, a) => {
    const servers = Array.from({ length: PORTS }, (_, p) => {
      if (p >= hungPerAddress) return { host: `127.0.1.${a + 1}`, port: FIRST_PORT + p };
      const i = a * PORTS + p; // distinct hung targets: one address each on 127.0.2.0 and up
      return { host: `127.0.${2 + Math.floor(i / 250)}.${1 + (i % 250)}`, port: hungPort };
    });
    const parsed = parseUpstream(`u${a}`, { timeout: 1, cluster: [{ servers }] });
    if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
    return parsed.value;
  });
}

interface Step {
  intervalMs: number;
  equivalentAt5s: number;
  probesPerSec: number;
  latenessP50Ms: number;
  latenessP99Ms: number;
  latenessP99Pct: number;
  cpuSecPer1000: number;
  cpuCores: number;
  rssMiB: number;
  hung: number;
  okPeers: number;
}

async function measure(intervalMs: number, warmIntervals: number, measureIntervals: number, hungShare = 0): Promise<Step> {
  const parsed = parseConfig({ upstreams: {}, global: { checkup_timer_interval: intervalMs / 1000 } });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const registry = new UpstreamRegistry(parsed.value.global);
  for (const u of upstreams(hungShare)) registry.put(u);
  const checker = new HealthChecker(registry, { clock: systemClock, probe: runProbe, concurrency: CONCURRENCY });
  checker.start();
  await sleep(intervalMs * warmIntervals);
  checker.resetLateness();
  const before = checker.status().scheduler.completed;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(intervalMs * measureIntervals);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const st = checker.status().scheduler;
  checker.stop();
  const probes = st.completed - before;
  const cpuSec = (cpu.user + cpu.system) / 1e6;
  let ok = 0;
  for (const skey of registry.skeys()) {
    const e = registry.upstream(skey)!;
    for (const s of e.spec.clusters[0]!.servers) if (e.health(`${s.host}:${s.port}`)?.status === 'ok') ok++;
  }
  await sleep(1500); // let in-flight probes settle before the next step
  return {
    intervalMs,
    equivalentAt5s: Math.round((ADDRESSES * PORTS * 5000) / intervalMs),
    probesPerSec: Math.round(probes / seconds),
    latenessP50Ms: st.lateness.p50,
    latenessP99Ms: st.lateness.p99,
    latenessP99Pct: (100 * st.lateness.p99) / intervalMs,
    cpuSecPer1000: (1000 * cpuSec) / Math.max(1, probes),
    cpuCores: cpuSec / seconds,
    rssMiB: Math.round(process.memoryUsage().rss / 2 ** 20),
    hung: st.hung,
    okPeers: ok,
  };
}

export async function run(): Promise<void> {
  const listeners = spawn(process.execPath, ['--import', 'tsx', 'bench/listeners-child.ts', '1', String(ADDRESSES), String(FIRST_PORT), String(LISTENING_PORTS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await once(createInterface({ input: listeners.stdout! }), 'line');
  const steps: Step[] = [];
  const hungSteps: Array<Step & { hungShare: number; slotDemand: number }> = [];
  const dropper = await synDropper('0.0.0.0');
  hungPort = dropper.port;
  try {
    steps.push(await measure(5000, 1, 3));
    for (let interval = 2500; interval >= 150; interval /= 2) {
      const s = await measure(interval, 1, 3);
      steps.push(s);
      if (s.latenessP99Pct > 10 || s.cpuCores > 0.95) break;
    }
    for (const share of HUNG_SHARES) {
      const s = await measure(5000, 1, 2, share);
      // Slots the hung probes hold on average: each holds one for the timeout (1 s) per interval.
      hungSteps.push({ ...s, hungShare: share, slotDemand: Math.round((ADDRESSES * PORTS * share * 1000) / 5000) });
      if (s.latenessP99Pct > 10) break;
    }
  } finally {
    dropper.close();
    listeners.kill('SIGTERM');
    await once(listeners, 'exit');
  }
  printTable(
    `probe: ${ADDRESSES * PORTS} TCP targets on loopback (${ADDRESSES * LISTENING_PORTS} listening, the rest refused)`,
    steps.map((s) => ({
      'interval ms': s.intervalMs,
      '= endpoints @5s': s.equivalentAt5s,
      'probes/s': s.probesPerSec,
      'late p50 ms': s.latenessP50Ms,
      'late p99 ms': s.latenessP99Ms,
      'p99 % of interval': s.latenessP99Pct,
      'CPU s/1000 probes': s.cpuSecPer1000,
      'CPU cores': s.cpuCores,
      'RSS MiB': s.rssMiB,
      hung: s.hung,
      'ok peers': s.okPeers,
    })),
  );
  const base = steps[0]!;
  const within = steps.filter((s) => s.latenessP99Pct <= 10);
  const reach = within.length > 0 ? within[within.length - 1]!.equivalentAt5s : 0;
  console.log(
    `10k targets at 5 s: p99 lateness ${base.latenessP99Ms.toFixed(1)} ms = ${base.latenessP99Pct.toFixed(2)}% of the interval (target < 2%: ${base.latenessP99Pct < 2 ? 'ok' : 'MISSED'}), ` +
      `CPU ${base.cpuCores.toFixed(2)} cores (target < 1: ${base.cpuCores < 1 ? 'ok' : 'MISSED'}). ` +
      `Lateness stays within 10% up to the load of ${reach.toLocaleString('en')} endpoints at 5 s (Envoy's anchor: ~20,000).`,
  );
  printTable(
    `probe with hung targets: 10,000 at 5 s, timeout 1 s, in-flight cap ${CONCURRENCY}`,
    hungSteps.map((s) => ({
      'hung share': `${Math.round(s.hungShare * 100)}%`,
      'hung targets': Math.round(ADDRESSES * PORTS * s.hungShare),
      'slot demand': s.slotDemand,
      'probes/s': s.probesPerSec,
      'late p50 ms': s.latenessP50Ms,
      'late p99 ms': s.latenessP99Ms,
      'p99 % of interval': s.latenessP99Pct,
      'CPU cores': s.cpuCores,
    })),
  );
  const cliff = hungSteps.find((s) => s.latenessP99Pct > 10);
  console.log(
    cliff === undefined
      ? `hung targets: lateness stays within 10% of the interval up to ${Math.round(HUNG_SHARES.at(-1)! * 100)}% hung (slot demand ${hungSteps.at(-1)?.slotDemand} of ${CONCURRENCY})`
      : `hung targets: the in-flight cap's cliff is at ${Math.round(cliff.hungShare * 100)}% hung (slot demand ${cliff.slotDemand} of ${CONCURRENCY}); below it lateness p99 stays within 10% of the interval`,
  );
  console.log(`written: ${writeResult('probe', { steps, reachEndpointsAt5s: reach, hungSteps, concurrency: CONCURRENCY })}`);
}
