/**
 * `npm run bench -- cluster`: three `checkups serve` instances on one Redis (each its own
 * process, as operators run them) probing TCP targets on loopback, against one instance doing all
 * the work, in the same run.
 *
 * Full: 30,000 targets (100 addresses 127.0.1.x x 300 ports, all listening, in two listener
 * processes) at a 5 s interval. Short (CI=true or CHECKUPS_BENCH_SHORT=1): 3,000 targets at 2 s.
 *
 * Reports, against the targets of docs/cluster.md:
 * - probes per target per interval across the fleet, counted at the backends (<= 1.05);
 * - CPU of each of the three instances against the one instance alone (<= 0.4x each), at the same
 *   work: the instance alone's CPU per probe (its probes counted at the backends, over the same
 *   window as its CPU) times the fleet's probe rate. The instance alone is measured before the
 *   three and again after them, and the mean of its two windows is the comparison: the
 *   machine's speed drifts over minutes, and one window on one side of the three measured the
 *   drift too. Raw ratios are printed too; they differ when the instance alone cannot keep up
 *   (one Node thread holds at most one core, and most of a TCP probe's cost is the kernel's
 *   connect and close, which run on that thread). The machine's busy cores in each window say
 *   when the machine, not checkups, is the limit (the listeners share its cores);
 * - verdict-to-Watch latency on every instance, p50/p99 (p99 < 250 ms): a batch of targets stops
 *   listening; for each instance and target, the time from the owner recording the err verdict
 *   (the peer's last_modified) to a Watch client of that instance receiving it;
 * - takeover after kill -9: the longest time from the kill to the next probe of a target the
 *   killed instance owned (<= 2 intervals).
 */
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface, type Interface } from 'node:readline';
import { DEFAULT_SHARD_COUNT, ownerOf, shardOf, targetKeyOf } from '../src/cluster/shard-map.ts';
import type { WatchResponse__Output } from '../src/generated/checkups/v1/WatchResponse.ts';
import { checkupsProto } from '../src/wire/proto.ts';
import { startInstance, type Instance, type InstanceLogLine } from '../test/support/cluster-instances.ts';
import { histogramBuckets, scrape, total, type Samples } from '../test/support/exposition.ts';
import { startRedis, type TestRedis } from '../test/support/redis-server.ts';
import { cpuSeconds, LineChild, machineBusySeconds, printTable, quantile, writeResult } from './harness.ts';

const SHORT = process.env['CI'] === 'true' || process.env['CHECKUPS_BENCH_SHORT'] === '1';
/** CHECKUPS_BENCH_PROFILE=DIR: CPU profiles of every instance there (those stopped with SIGTERM: all but the one killed for the takeover). */
const PROFILE_DIR = process.env['CHECKUPS_BENCH_PROFILE'];
const ADDRESSES = SHORT ? 30 : 100;
const PORTS = SHORT ? 100 : 300;
const FIRST_PORT = 21_000;
const INTERVAL_MS = SHORT ? 2000 : 5000;
const MEASURE_INTERVALS = SHORT ? 3 : 6;
const FLIPPED = SHORT ? 60 : 300;
/** Listening sockets per listener process (the fd limit is 20,000 here). */
const ADDRESSES_PER_LISTENER = 50;
const TARGETS = ADDRESSES * PORTS;
const IDS = ['A', 'B', 'C'];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Instance `id` of cluster `cluster`, its data dir under `dir`. */
function startMember(id: string, config: string, dir: string, store: string, cluster: string): Promise<Instance> {
  return startInstance({ id, config, store, cluster, dataDir: join(dir, `data-${cluster}-${id}`), ...(PROFILE_DIR !== undefined ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] } : {}) });
}

/** Probes an instance ran so far (its checkups_probes_total, every label) and the verdicts it published (a verdict is a change: none while nothing changes). */
async function probesRun(i: Instance): Promise<{ probes: number; failed: number; duration: Map<number, number>; verdicts: number; lateness: Map<number, number>; gc: { seconds: number; major: number } }> {
  const m = await scrape(i.http);
  let failed = 0;
  for (const [k, v] of m) if (k.startsWith('checkups_probes_total{') && !k.includes('result="ok"')) failed += v;
  return { probes: total(m, 'checkups_probes_total'), failed, duration: histogramBuckets(m, 'checkups_probe_duration_seconds'), verdicts: m.get('checkups_cluster_verdicts_total{result="published"}') ?? 0, lateness: histogramBuckets(m, 'checkups_scheduler_lateness_seconds'), gc: gcSoFar(m) };
}

/** CPU and probes of some instances (and of the machine) over one window. */
async function sampleWindow(list: readonly Instance[], ms: number, listenerPids: readonly number[]): Promise<{ listenerCores: number; seconds: number; cpu: number[]; probes: number[]; failed: number[]; durationP50: number[]; durationP99: number[]; verdicts: number[]; latenessP99: number[]; latenessMax: number[]; gcMs: number[]; gcMajor: number[]; machineBusyCores: number; from: number; to: number }> {
  // Scraped outside the CPU window: a scrape of 30,000 peers' metrics is the bench's cost, not
  // the probing's (it made the windows of CPU and of probes counted differ by up to a second).
  const probes0 = await Promise.all(list.map(probesRun));
  const cpu0 = list.map((i) => cpuSeconds(i.child.pid!));
  const listeners0 = listenerPids.reduce((a, pid) => a + cpuSeconds(pid), 0);
  const busy0 = machineBusySeconds();
  const from = Date.now();
  await sleep(ms);
  const to = Date.now();
  const seconds = (to - from) / 1000;
  const cpu = list.map((i, k) => (cpuSeconds(i.child.pid!) - cpu0[k]!) / seconds);
  const listenerCores = (listenerPids.reduce((a, pid) => a + cpuSeconds(pid), 0) - listeners0) / seconds;
  const machineBusyCores = (machineBusySeconds() - busy0) / seconds;
  const after = await Promise.all(list.map(probesRun));
  const probes = after.map((n, k) => n.probes - probes0[k]!.probes);
  const verdicts = after.map((n, k) => n.verdicts - probes0[k]!.verdicts);
  const failed = after.map((n, k) => n.failed - probes0[k]!.failed);
  const durationP50 = after.map((n, k) => bucketQuantile(probes0[k]!.duration, n.duration, 0.5));
  const durationP99 = after.map((n, k) => bucketQuantile(probes0[k]!.duration, n.duration, 0.99));
  const latenessP99 = after.map((n, k) => bucketQuantile(probes0[k]!.lateness, n.lateness, 0.99));
  const latenessMax = after.map((n, k) => bucketQuantile(probes0[k]!.lateness, n.lateness, 1));
  const gcMs = after.map((n, k) => Math.round(1000 * (n.gc.seconds - probes0[k]!.gc.seconds)));
  const gcMajor = after.map((n, k) => n.gc.major - probes0[k]!.gc.major);
  return { listenerCores, seconds, cpu, probes, failed, durationP50, durationP99, verdicts, latenessP99, latenessMax, gcMs, gcMajor, machineBusyCores, from, to };
}

/** The bucket bound under which a share `q` of the observations between two scrapes fell (an upper bound of that quantile). */
function bucketQuantile(before: Map<number, number>, after: Map<number, number>, q: number): number {
  const bounds = [...after.keys()].sort((a, b) => a - b);
  const total = (after.get(Infinity) ?? 0) - (before.get(Infinity) ?? 0);
  if (total === 0) return NaN;
  for (const le of bounds) if ((after.get(le)! - (before.get(le) ?? 0)) >= q * total) return le;
  return Infinity;
}

/** Seconds spent in garbage collection so far and the count of major collections (prom-client's nodejs_gc_duration_seconds). */
function gcSoFar(samples: Samples): { seconds: number; major: number } {
  return { seconds: total(samples, 'nodejs_gc_duration_seconds_sum'), major: samples.get('nodejs_gc_duration_seconds_count{kind="major"}') ?? 0 };
}

async function until(cond: () => boolean, what: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function writeConfig(dir: string): string {
  const lines = [`global: { checkup_timer_interval: ${INTERVAL_MS / 1000} }`, 'upstreams:'];
  for (let a = 0; a < ADDRESSES; a++) {
    lines.push(`  u${a}:`, '    timeout: 1', '    cluster:', '      - servers:');
    for (let p = 0; p < PORTS; p++) lines.push(`          - { host: 127.0.1.${a + 1}, port: ${FIRST_PORT + p} }`);
  }
  const file = join(dir, 'checkups.yaml');
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

/** Targets by how many probes reached them in [from, to): "k probes: targets" (a window of n intervals expects n, or n +- 1 at its edges). */
async function probeSpread(listeners: LineChild[], from: number, to: number): Promise<string> {
  const spread = new Map<number, number>();
  for (const l of listeners) for (const [k, n] of Object.entries(await l.ask<Record<string, number>>(`spread ${from} ${to}`))) spread.set(Number(k), (spread.get(Number(k)) ?? 0) + n);
  return [...spread].sort((a, b) => a[0] - b[0]).map(([k, n]) => `${k}: ${n}`).join(', ');
}

async function countProbes(listeners: LineChild[], from: number, to: number): Promise<number> {
  let n = 0;
  for (const l of listeners) n += (await l.ask<{ count: number }>(`count ${from} ${to}`)).count;
  return n;
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-cluster-'));
  const listeners: LineChild[] = [];
  const instances: Instance[] = [];
  let redis: TestRedis | undefined;
  try {
    for (let a = 0; a < ADDRESSES; a += ADDRESSES_PER_LISTENER) {
      const n = Math.min(ADDRESSES_PER_LISTENER, ADDRESSES - a);
      const child = spawn(process.execPath, ['--import', 'tsx', 'bench/counting-listeners-child.ts', String(a + 1), String(n), String(FIRST_PORT), String(PORTS)], { stdio: ['pipe', 'pipe', 'inherit'] });
      const lc = new LineChild(child);
      if ((await lc.next()) !== 'ready') throw new Error('listeners did not start');
      listeners.push(lc);
    }
    redis = await startRedis();
    const config = writeConfig(dir);
    const windowMs = MEASURE_INTERVALS * INTERVAL_MS;

    const listenerPids = listeners.map((l) => l.child.pid!);
    /**
     * One instance doing all the work, over one window; it then leaves the cluster (SIGTERM gives
     * its leases back, as an operator's stop does).
     */
    const measureAlone = async (id: string) => {
      const solo = await startMember(id, config, dir, redis!.url, 'solo');
      instances.push(solo);
      // Settled: its first probes of every target (a random phase each) are over.
      await sleep(2 * INTERVAL_MS);
      const window = await sampleWindow([solo], windowMs, listenerPids);
      const probes = await countProbes(listeners, window.from, window.to);
      await solo.kill('SIGTERM');
      return { window, cpu: window.cpu[0]!, probesPerTargetPerInterval: probes / TARGETS / ((window.to - window.from) / INTERVAL_MS), cpuPerProbe: (window.cpu[0]! * window.seconds) / probes };
    };

    // 1. One instance doing all the work (and again at the end: see soloCpuPerProbe).
    const soloBefore = await measureAlone('S');

    // 2. Three instances sharing the work.
    const trio = await Promise.all(IDS.map((id) => startMember(id, config, dir, redis!.url, 'trio')));
    instances.push(...trio);
    await until(() => trio.every((i) => i.logs.some((l) => l['msg'] === 'probe ownership changed' && l['members'] === 3)), 'three members everywhere', 60_000);
    // Settled: the shards that moved while the members came up are probed first within half an
    // interval, a burst the instances work off over the next intervals; measured before that,
    // the backlog drained inside the window counted as extra probes (1.05-1.06 a target).
    await sleep(3 * INTERVAL_MS);
    const trioWindow = await sampleWindow(trio, windowMs, listenerPids);
    const { from, to, cpu } = trioWindow;
    const fleetProbes = await countProbes(listeners, from, to);
    const spread = await probeSpread(listeners, from, to);
    const probesPerInterval = fleetProbes / TARGETS / ((to - from) / INTERVAL_MS);

    // 3. Verdict-to-Watch latency on every instance.
    const proto = checkupsProto();
    const latencies = new Map<string, number[]>(IDS.map((id) => [id, []]));
    const seen = new Map<string, Set<string>>(IDS.map((id) => [id, new Set()]));
    const closed = new Set<string>();
    const streams = trio.map((inst, k) => {
      const id = IDS[k]!;
      const client = new proto.DiscoveryService(inst.grpc, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': 64 << 20 });
      const stream = client.Watch({ skeys: [], knownVersions: {} });
      let synced = false;
      stream.on('data', (m: WatchResponse__Output) => {
        const now = Date.now();
        if (synced) {
          for (const u of m.upstreams)
            for (const c of u.clusters)
              for (const p of c.peers) {
                const key = `${p.server!.host}:${p.server!.port}`;
                if (closed.has(key) && p.health?.status === 'HEALTH_STATUS_ERR' && !seen.get(id)!.has(key)) {
                  seen.get(id)!.add(key);
                  latencies.get(id)!.push(now - Number(p.health.lastModifiedMs));
                }
              }
        }
        if (m.syncComplete) synced = true;
      });
      stream.on('error', () => undefined);
      return { client, stream, synced: () => synced };
    });
    await until(() => streams.every((s) => s.synced()), 'Watch streams to sync', 60_000);
    // Where the time goes: publish-to-apply on each instance (its own histogram) and how late its
    // event loop ran over the phase (prom-client's event-loop gauges restart at every scrape).
    const delayName = 'checkups_cluster_verdict_delay_seconds';
    const phaseStart = await Promise.all(trio.map((i) => scrape(i.http)));
    const delayBefore = phaseStart.map((m) => histogramBuckets(m, delayName));
    const gcBefore = phaseStart.map(gcSoFar);
    const benchLoop = monitorEventLoopDelay({ resolution: 10 });
    benchLoop.enable();
    for (const key of await listeners[0]!.ask<string[]>(`close ${FLIPPED}`)) closed.add(key);
    await until(() => IDS.every((id) => seen.get(id)!.size === closed.size), 'every instance to show every flipped target err', 4 * INTERVAL_MS).catch(() => undefined);
    benchLoop.disable();
    const phaseMetrics = await Promise.all(trio.map((i) => scrape(i.http)));
    const phase = phaseMetrics.map((m, k) => {
      const after = histogramBuckets(m, delayName);
      const gc = gcSoFar(m);
      return {
        applyP50Ms: 1000 * bucketQuantile(delayBefore[k]!, after, 0.5),
        applyP99Ms: 1000 * bucketQuantile(delayBefore[k]!, after, 0.99),
        loopP99Ms: 1000 * (m.get('nodejs_eventloop_lag_p99_seconds') ?? NaN),
        loopMaxMs: 1000 * (m.get('nodejs_eventloop_lag_max_seconds') ?? NaN),
        gcMs: 1000 * (gc.seconds - gcBefore[k]!.seconds),
        gcMajor: gc.major - gcBefore[k]!.major,
      };
    });
    for (const s of streams) {
      s.stream.cancel();
      s.client.close();
    }

    // 4. Takeover after kill -9 of B.
    const victim = trio[1]!;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    await sleep(3 * INTERVAL_MS);
    const first: Record<string, number> = {};
    for (const l of listeners) Object.assign(first, await l.ask<Record<string, number>>(`first ${killedAt}`));
    const owned = Object.keys(first).filter((key) => !closed.has(key) && ownerOf(shardOf(targetKeyOf(`u${Number(key.split('.')[3]!.split(':')[0]) - 1}`, key), DEFAULT_SHARD_COUNT), IDS, DEFAULT_SHARD_COUNT) === victim.id);
    const gaps = owned.map((key) => (first[key]! === 0 ? Infinity : first[key]! - killedAt)).sort((a, b) => a - b);
    const takeoverMs = gaps.at(-1) ?? NaN;

    // 5. The instance alone again, on the same targets (the flipped ones listen again), the
    // three gone. The machine's speed drifts over minutes (in one run the instance alone spent
    // 92 us a probe before the three and 107 after): the three are measured between two windows
    // of the instance alone, and compared with their mean.
    await listeners[0]!.ask<number>(`open ${FLIPPED}`);
    for (const i of trio) if (i !== victim) await i.kill('SIGTERM');
    const soloAfter = await measureAlone('S2');
    /** CPU seconds per probe of the instance alone: its cost for the whole fleet's work is this x the fleet's probe rate. */
    const soloCpuPerProbe = (soloBefore.cpuPerProbe + soloAfter.cpuPerProbe) / 2;
    /** The instance alone's cores over its two windows (the raw ratio's denominator). */
    const soloCpu = (soloBefore.cpu + soloAfter.cpu) / 2;
    const soloProbes = (soloBefore.probesPerTargetPerInterval + soloAfter.probesPerTargetPerInterval) / 2;
    /** What the instance alone would spend on the fleet's probes in the three's window, in cores. */
    const soloCoresForFleetWork = (soloCpuPerProbe * fleetProbes) / trioWindow.seconds;

    /** Targets each instance owns with all three alive (what it should probe once per interval). */
    const ownedTargets = new Map<string, number>(IDS.map((id) => [id, 0]));
    for (let a = 0; a < ADDRESSES; a++)
      for (let p = 0; p < PORTS; p++) {
        const owner = ownerOf(shardOf(targetKeyOf(`u${a}`, `127.0.1.${a + 1}:${FIRST_PORT + p}`), DEFAULT_SHARD_COUNT), IDS, DEFAULT_SHARD_COUNT)!;
        ownedTargets.set(owner, ownedTargets.get(owner)! + 1);
      }
    /** Log lines of an instance within the measuring window: ownership changes and warnings there explain extra or missing probes. */
    const inWindow = (i: Instance, test: (l: InstanceLogLine) => boolean) => i.logs.filter((l) => Number(l['time']) >= from && Number(l['time']) < to && test(l)).length;
    const perInstance = IDS.map((id, k) => {
      const l = latencies.get(id)!.sort((a, b) => a - b);
      const probesPerS = trioWindow.probes[k]! / trioWindow.seconds;
      return {
        id,
        cpuCores: cpu[k]!,
        cpuRatio: cpu[k]! / soloCpu,
        cpuRatioSameWork: cpu[k]! / soloCoresForFleetWork,
        probesPerS,
        cpuUsPerProbe: (1e6 * cpu[k]!) / probesPerS,
        ownedTargets: ownedTargets.get(id)!,
        probesPerOwnedTargetPerInterval: (probesPerS * INTERVAL_MS) / 1000 / ownedTargets.get(id)!,
        verdictsInWindow: trioWindow.verdicts[k]!,
        failedInWindow: trioWindow.failed[k]!,
        durationP50Ms: 1000 * trioWindow.durationP50[k]!,
        durationP99Ms: 1000 * trioWindow.durationP99[k]!,
        latenessP99Ms: 1000 * trioWindow.latenessP99[k]!,
        latenessMaxMs: 1000 * trioWindow.latenessMax[k]!,
        windowGcMs: trioWindow.gcMs[k]!,
        windowGcMajor: trioWindow.gcMajor[k]!,
        ownershipChangesInWindow: inWindow(trio[k]!, (x) => x.msg === 'probe ownership changed'),
        warningsInWindow: inWindow(trio[k]!, (x) => x.level >= 40),
        flippedSeen: l.length,
        ...phase[k]!,
        p50Ms: quantile(l, 0.5),
        p99Ms: quantile(l, 0.99),
      };
    });
    const ok = (b: boolean) => (b ? 'ok' : 'MISSED');
    printTable(
      `cluster: ${TARGETS.toLocaleString('en')} TCP targets at ${INTERVAL_MS / 1000} s, three instances on one Redis vs one instance alone${SHORT ? ' (short mode)' : ''}`,
      [
        { measure: 'probes per target per interval (3 instances)', value: probesPerInterval.toFixed(3), target: '<= 1.05', verdict: ok(probesPerInterval <= 1.05 && probesPerInterval > 0.9) },
        { measure: `targets by probes in the ${MEASURE_INTERVALS} intervals (3 instances)`, value: spread, target: '', verdict: '' },
        { measure: 'probes per target per interval (1 instance, before / after the three)', value: `${soloBefore.probesPerTargetPerInterval.toFixed(3)} / ${soloAfter.probesPerTargetPerInterval.toFixed(3)}`, target: '~1', verdict: soloProbes >= 0.95 ? '' : 'alone cannot keep up' },
        {
          measure: 'CPU cores, 1 instance alone, before / after the three (us/probe; their mean is the comparison)',
          value: `${soloBefore.cpu.toFixed(3)} (${(soloBefore.cpuPerProbe * 1e6).toFixed(0)}) / ${soloAfter.cpu.toFixed(3)} (${(soloAfter.cpuPerProbe * 1e6).toFixed(0)}) -> ${(soloCpuPerProbe * 1e6).toFixed(0)} us/probe`,
          target: '',
          verdict: '',
        },
        {
          measure: 'GC in the CPU window: ms (full collections), alone before, after / A, B, C',
          value: `${soloBefore.window.gcMs[0]} (${soloBefore.window.gcMajor[0]}), ${soloAfter.window.gcMs[0]} (${soloAfter.window.gcMajor[0]}) / ${trioWindow.gcMs.map((g, k) => `${g} (${trioWindow.gcMajor[k]})`).join(', ')}`,
          target: '',
          verdict: '',
        },
        {
          measure: 'machine busy cores (alone before, after / three) / of which the listeners',
          value: `${soloBefore.window.machineBusyCores.toFixed(2)}, ${soloAfter.window.machineBusyCores.toFixed(2)} / ${trioWindow.machineBusyCores.toFixed(2)} of ${availableParallelism()} / ${soloBefore.window.listenerCores.toFixed(2)}, ${soloAfter.window.listenerCores.toFixed(2)}, ${trioWindow.listenerCores.toFixed(2)}`,
          target: '',
          verdict: '',
        },
        ...perInstance.map((p) => ({
          measure: `CPU instance ${p.id}: cores (us/probe) / alone at the same work [raw]`,
          value: `${p.cpuCores.toFixed(3)} (${p.cpuUsPerProbe.toFixed(0)}) = ${p.cpuRatioSameWork.toFixed(2)}x [${p.cpuRatio.toFixed(2)}x]`,
          target: '<= 0.4x',
          verdict: ok(p.cpuRatioSameWork <= 0.4),
        })),
        ...perInstance.map((p) => ({
          measure: `instance ${p.id}: targets owned / probes per owned target per interval / starts late p99, max ms / probe duration p50, p99 ms (bucket bounds) / probes failed, verdicts published, ownership changes, warnings in the window`,
          value: `${p.ownedTargets} / ${p.probesPerOwnedTargetPerInterval.toFixed(3)} / <= ${p.latenessP99Ms}, <= ${p.latenessMaxMs} / <= ${p.durationP50Ms}, <= ${p.durationP99Ms} / ${p.failedInWindow}, ${p.verdictsInWindow}, ${p.ownershipChangesInWindow}, ${p.warningsInWindow}`,
          target: '',
          verdict: '',
        })),
        ...perInstance.map((p) => ({ measure: `verdict-to-Watch on ${p.id} (${p.flippedSeen}/${closed.size} seen) p50 / p99 ms`, value: `${p.p50Ms.toFixed(0)} / ${p.p99Ms.toFixed(0)}`, target: 'p99 < 250', verdict: ok(p.flippedSeen === closed.size && p.p99Ms < 250) })),
        ...perInstance.map((p) => ({
          measure: `  on ${p.id}: publish-to-apply p50 / p99 ms (bucket bounds) / event loop late p99 / max ms / GC ms (major GCs)`,
          value: `<= ${p.applyP50Ms} / <= ${p.applyP99Ms} / ${p.loopP99Ms.toFixed(0)} / ${p.loopMaxMs.toFixed(0)} / ${p.gcMs.toFixed(0)} (${p.gcMajor})`,
          target: '',
          verdict: '',
        })),
        { measure: '  the Watch client (this process): event loop late p99 / max ms', value: `${(benchLoop.percentile(99) / 1e6).toFixed(0)} / ${(benchLoop.max / 1e6).toFixed(0)}`, target: '', verdict: '' },
        { measure: `takeover after kill -9 (${owned.length} targets), ms`, value: `${takeoverMs.toFixed(0)} = ${(takeoverMs / INTERVAL_MS).toFixed(2)} intervals`, target: '<= 2 intervals', verdict: ok(takeoverMs <= 2 * INTERVAL_MS) },
      ],
    );
    for (const [k, i] of trio.entries()) {
      const warned = new Map<string, { n: number; first: InstanceLogLine }>();
      for (const l of i.logs) {
        if (l.level < 40 || Number(l['time']) < from || Number(l['time']) >= to) continue;
        const w = warned.get(l.msg);
        if (w === undefined) warned.set(l.msg, { n: 1, first: l });
        else w.n++;
      }
      const details = (l: InstanceLogLine) => JSON.stringify(Object.fromEntries(Object.entries(l).filter(([key]) => !['level', 'time', 'pid', 'hostname', 'msg'].includes(key))));
      if (warned.size > 0) console.log(`instance ${IDS[k]} warned in the window: ${[...warned].map(([m, w]) => `${w.n} x "${m}" (first: ${details(w.first)})`).join('; ')}`);
    }
    console.log(
      `written: ${writeResult('cluster', { short: SHORT, targets: TARGETS, intervalMs: INTERVAL_MS, probesPerTargetPerInterval: probesPerInterval, soloProbesPerTargetPerInterval: soloProbes, soloCpuCores: soloCpu, soloCpuUsPerProbe: soloCpuPerProbe * 1e6, soloBeforeCpuUsPerProbe: soloBefore.cpuPerProbe * 1e6, soloAfterCpuUsPerProbe: soloAfter.cpuPerProbe * 1e6, soloWindowGcMs: soloBefore.window.gcMs[0], soloWindowGcMajor: soloBefore.window.gcMajor[0], soloAfterWindowGcMs: soloAfter.window.gcMs[0], machineBusyCoresAlone: soloBefore.window.machineBusyCores, machineBusyCoresAloneAfter: soloAfter.window.machineBusyCores, machineBusyCoresThree: trioWindow.machineBusyCores, instances: perInstance, flipped: closed.size, takeoverMs, takeoverIntervals: takeoverMs / INTERVAL_MS, victimTargets: owned.length })}`,
    );
  } finally {
    // SIGTERM lets a profiled instance write its profile; otherwise do not wait for a drain.
    for (const i of instances) await i.kill(PROFILE_DIR !== undefined ? 'SIGTERM' : 'SIGKILL');
    for (const l of listeners) {
      l.child.kill('SIGTERM');
      await once(l.child, 'exit');
    }
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
