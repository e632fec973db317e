/**
 * `npm run bench -- pick`: peer picks per second for smooth WRR and the consistent-hash ring at
 * 10, 100, 1,000 and 10,000 servers, after warm-up; raw pickers and the full selectPeer path.
 * All cases are measured side by side (interleaved rounds) so their ratios are comparable.
 * Targets (issue 2): chash pick cost grows at most 2x from 10 to 10,000 servers; WRR at 1,000
 * servers under 1 µs. The exact O(n) WRR step (replay disabled) is shown for comparison.
 * Under churn (issue 15): the public selectPeer path with heartbeat health (1% of peers err),
 * steady against one health flip per 1,000 picks, at 1,000 and 10,000 servers; target: churn
 * costs at most 2x the steady pick at 10,000 servers. Each flip toggles the next peer (stride
 * 7919), so over a run the err share grows from 1% (the table says to what): W keeps shrinking,
 * the hard case for smooth WRR's lazy step (see place() in smooth-wrr.ts).
 * Slow start (issue 13): the same paths with `slow_start` on - nothing ramping (must cost what the
 * steady pick costs), one server ramping for the whole run, and churn where every flip back to
 * ok starts a 30 s ramp (so hundreds ramp at once: the O(k + r) pick).
 */
import { ConsistentHashRing } from '../src/balance/chash.ts';
import { hash53 } from '../src/balance/hash.ts';
import { SelectionEngine } from '../src/balance/selection-engine.ts';
import { SmoothWeightedRoundRobin } from '../src/balance/smooth-wrr.ts';
import { parseConfig } from '../src/config/validate.ts';
import { UpstreamRegistry } from '../src/core/registry.ts';
import { peerId, type HeartbeatStatus, type PeerHealth, type PeerId } from '../src/core/model.ts';
import { systemClock } from '../src/util/clock.ts';
import { consume, measureInterleaved, printTable, writeResult, type Measurement } from './harness.ts';

const SIZES = [10, 100, 1000, 10_000];
/** Distinct request keys, as a hash-mode upstream sees them (16Ki of them, reused round robin). */
const KEYS = Array.from({ length: 1 << 14 }, (_, i) => `/users/${(i * 2654435761) % 1_000_003}/profile`);
const KEY_MASK = KEYS.length - 1;

/** n servers with mixed weights 1..5, addresses spread over 10.x.y.z. */
function servers(n: number): Array<{ host: string; port: number; weight: number }> {
  return Array.from({ length: n }, (_, i) => ({ host: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, port: 8000 + (i % 100), weight: 1 + (i % 5) }));
}

function engineWith(list: ReturnType<typeof servers>, mode: string): SelectionEngine {
  return heartbeatEngine(list, mode).engine;
}

const okHealth = (status: HeartbeatStatus): PeerHealth => ({ status, failNum: status === 'ok' ? 0 : 1, lastModified: 0, msg: status === 'ok' ? null : 'bench' });

/**
 * The public path as a server runs it: heartbeat on, every peer probed ok but 1% err (as the
 * health checker records them), through the registry the checker writes to.
 */
function heartbeatEngine(list: ReturnType<typeof servers>, mode: string, slowStart = 0): { engine: SelectionEngine; registry: UpstreamRegistry; ids: PeerId[] } {
  const parsed = parseConfig({ upstreams: { bench: { mode, slow_start: slowStart, cluster: [{ servers: list }] } } });
  if (!parsed.ok) throw new Error(parsed.errors.join('\n'));
  const registry = UpstreamRegistry.fromConfig(parsed.value);
  const ids = list.map((s) => peerId(s.host, s.port));
  ids.forEach((id, i) => registry.setHealth('bench', id, okHealth(i % 100 === 50 ? 'err' : 'ok')));
  return { engine: new SelectionEngine(registry, systemClock), registry, ids };
}

/** Flips one peer (err <-> ok, rotating over the upstream) every FLIP_EVERY picks. */
const FLIP_EVERY = 1000;
const CHURN_SIZES = [1000, 10_000];
const SLOW_START_S = 30;
const rampingAtEnd: Record<number, () => number> = {};
/** Peers err when the run ends: each flip toggles the next peer (stride 7919), so the share grows from 1%. */
const errAtEnd: Record<number, () => number> = {};

export async function run(): Promise<void> {
  let j = 0;
  const cases: Record<string, (k: number) => void> = {
    // The cost every hash pick pays before touching the ring.
    'key hash': (k) => {
      for (let i = 0; i < k; i++) consume(hash53(KEYS[j++ & KEY_MASK]!));
    },
  };
  const ringInfo: Record<number, { points: number; buildMs: number }> = {};
  for (const n of SIZES) {
    const list = servers(n);
    const weights = list.map((s) => s.weight);
    const period = weights.reduce((a, b) => a + b, 0);
    const warm = 2 * period + 10_000;

    const wrr = new SmoothWeightedRoundRobin(weights);
    for (let i = 0; i < warm; i++) consume(wrr.pick(undefined));
    cases[`wrr ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(wrr.pick(undefined));
    };
    const exact = new SmoothWeightedRoundRobin(weights, { maxPeriod: 0, lazySteps: false });
    cases[`wrr exact-step ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(exact.pick(undefined));
    };
    const t = performance.now();
    const ring = new ConsistentHashRing(list);
    ringInfo[n] = { points: ring.size, buildMs: performance.now() - t };
    cases[`chash ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(ring.pick(undefined, KEYS[j++ & KEY_MASK]!));
    };
    const eWrr = engineWith(list, 'wrr');
    for (let i = 0; i < warm; i++) consume(eWrr.selectPeer('bench').port);
    cases[`selectPeer wrr ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(eWrr.selectPeer('bench').port);
    };
    const eHash = engineWith(list, 'hash');
    consume(eHash.selectPeer('bench', { hashKey: 'warm' }).port);
    cases[`selectPeer hash ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(eHash.selectPeer('bench', { hashKey: KEYS[j++ & KEY_MASK]! }).port);
    };
  }
  for (const n of CHURN_SIZES) {
    const list = servers(n);
    const warm = 2 * list.reduce((a, s) => a + s.weight, 0) + 10_000;
    const steady = heartbeatEngine(list, 'wrr');
    for (let i = 0; i < warm; i++) consume(steady.engine.selectPeer('bench').port);
    cases[`selectPeer heartbeat ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(steady.engine.selectPeer('bench').port);
    };
    const churn = heartbeatEngine(list, 'wrr');
    let picks = 0;
    let flips = 0;
    cases[`selectPeer churn ${n}`] = (k) => {
      for (let i = 0; i < k; i++) {
        if (++picks % FLIP_EVERY === 0) {
          const id = churn.ids[(flips++ * 7919) % n]!;
          churn.registry.setHealth('bench', id, okHealth(churn.registry.upstream('bench')!.health(id)?.status === 'err' ? 'ok' : 'err'));
        }
        consume(churn.engine.selectPeer('bench').port);
      }
    };
    errAtEnd[n] = () => churn.ids.filter((id) => churn.registry.upstream('bench')!.health(id)?.status === 'err').length;
  }
  for (const n of CHURN_SIZES) {
    const list = servers(n);
    const warm = 2 * list.reduce((a, s) => a + s.weight, 0) + 10_000;
    const off = heartbeatEngine(list, 'wrr', SLOW_START_S);
    for (let i = 0; i < warm; i++) consume(off.engine.selectPeer('bench').port);
    cases[`slow_start idle ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(off.engine.selectPeer('bench').port);
    };
    // One server back from err at the start and ramping for the whole run (a window of a day).
    const one = heartbeatEngine(list, 'wrr', 86_400);
    one.registry.setHealth('bench', one.ids[50]!, okHealth('ok'));
    for (let i = 0; i < warm; i++) consume(one.engine.selectPeer('bench').port);
    cases[`slow_start one ramping ${n}`] = (k) => {
      for (let i = 0; i < k; i++) consume(one.engine.selectPeer('bench').port);
    };
    const churn = heartbeatEngine(list, 'wrr', SLOW_START_S);
    let picks = 0;
    let flips = 0;
    cases[`slow_start churn ${n}`] = (k) => {
      for (let i = 0; i < k; i++) {
        if (++picks % FLIP_EVERY === 0) {
          const id = churn.ids[(flips++ * 7919) % n]!;
          churn.registry.setHealth('bench', id, okHealth(churn.registry.upstream('bench')!.health(id)?.status === 'err' ? 'ok' : 'err'));
        }
        consume(churn.engine.selectPeer('bench').port);
      }
    };
    rampingAtEnd[n] = () => {
      const entry = churn.registry.upstream('bench')!;
      return churn.ids.filter((id) => entry.rampStart(id) !== undefined).length;
    };
  }
  const m = measureInterleaved(cases);
  const ns = (name: string): number => m[name]!.nsPerOp;
  const rows = SIZES.map((n) => ({
    servers: n,
    'wrr ns': ns(`wrr ${n}`),
    'wrr exact-step ns': ns(`wrr exact-step ${n}`),
    'chash ns': ns(`chash ${n}`),
    'selectPeer wrr ns': ns(`selectPeer wrr ${n}`),
    'selectPeer hash ns': ns(`selectPeer hash ${n}`),
    'wrr picks/s': Math.round(1e9 / ns(`wrr ${n}`)),
    'chash picks/s': Math.round(1e9 / ns(`chash ${n}`)),
    'ring points': ringInfo[n]!.points,
    'ring build ms': ringInfo[n]!.buildMs,
  }));
  printTable('pick: nanoseconds per pick (median of 7 interleaved rounds) and picks per second', rows);
  const churnRows = CHURN_SIZES.map((n) => ({
    servers: n,
    'selectPeer steady ns (heartbeat, 1% err)': ns(`selectPeer heartbeat ${n}`),
    [`selectPeer churn ns (1 flip / ${FLIP_EVERY} picks)`]: ns(`selectPeer churn ${n}`),
    'churn / steady': ns(`selectPeer churn ${n}`) / ns(`selectPeer heartbeat ${n}`),
    target: '<= 2',
    'churn: err at the end': `${errAtEnd[n]!()} of ${n}`,
  }));
  printTable('pick under health churn: the public selectPeer path, heartbeat health, 1% of peers err (steady; churn starts there)', churnRows);
  const slowRows = CHURN_SIZES.map((n) => ({
    servers: n,
    'steady ns (slow_start off)': ns(`selectPeer heartbeat ${n}`),
    'slow_start on, none ramping ns': ns(`slow_start idle ${n}`),
    'one ramping ns': ns(`slow_start one ramping ${n}`),
    'churn, off ns': ns(`selectPeer churn ${n}`),
    'churn, slow_start on ns': ns(`slow_start churn ${n}`),
    'ramping at the end': rampingAtEnd[n]!(),
  }));
  printTable(`slow start (${SLOW_START_S} s window; churn: 1 flip / ${FLIP_EVERY} picks, each flip back to ok starts a ramp)`, slowRows);
  console.log(`key hash alone (included in every chash pick): ${ns('key hash').toFixed(1)} ns`);
  const chashGrowth = ns('chash 10000') / ns('chash 10');
  const verdict = {
    chashGrowth10To10000: chashGrowth,
    chashGrowthOk: chashGrowth <= 2,
    wrrNsAt1000: ns('wrr 1000'),
    wrrAt1000Ok: ns('wrr 1000') < 1000,
    wrrExactStepNsAt1000: ns('wrr exact-step 1000'),
    churnRatioAt10000: ns('selectPeer churn 10000') / ns('selectPeer heartbeat 10000'),
    churnRatioOk: ns('selectPeer churn 10000') / ns('selectPeer heartbeat 10000') <= 2,
  };
  console.log(
    `chash cost 10 -> 10,000 servers: x${chashGrowth.toFixed(2)} (target <= 2: ${verdict.chashGrowthOk ? 'ok' : 'MISSED'}); ` +
      `wrr at 1,000 servers: ${ns('wrr 1000').toFixed(1)} ns (target < 1000 ns: ${verdict.wrrAt1000Ok ? 'ok' : 'MISSED'}; the exact O(n) step alone: ${ns('wrr exact-step 1000').toFixed(0)} ns)`,
  );
  console.log(`selectPeer with one flip per ${FLIP_EVERY} picks at 10,000 servers: x${verdict.churnRatioAt10000.toFixed(2)} the steady cost (target <= 2: ${verdict.churnRatioOk ? 'ok' : 'MISSED'})`);
  const measurements: Record<string, Measurement> = m;
  console.log(`written: ${writeResult('pick', { rows, churnRows, slowRows, measurements, ringInfo, verdict })}`);
}
