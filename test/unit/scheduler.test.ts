import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProbeScheduler, type SchedulerOptions, type WatchdogReport } from '../../src/health/scheduler.ts';
import type { Timer } from '../../src/util/clock.ts';
import { fakeDelay, run, seededRandom } from '../support/async.ts';
import { FakeClock } from '../support/fake-clock.ts';

interface T {
  name: string;
  takesMs: number;
  /** 'honour' aborts on the signal; 'ignore' never settles; 'throw' throws synchronously. */
  mode?: 'honour' | 'ignore' | 'throw';
}

function harness(opts: Partial<SchedulerOptions<T>> & { intervalMs?: number; timeoutMs?: number } = {}) {
  const clock = (opts.clock as FakeClock | undefined) ?? new FakeClock(0);
  const starts: Array<[string, number]> = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const perTarget = new Map<string, number>();
  const aborted: string[] = [];
  const scheduler = new ProbeScheduler<T>({
    clock,
    random: seededRandom(7),
    concurrency: 100,
    jitter: 0,
    graceMs: 500,
    watchdogMs: 1000,
    interval: () => opts.intervalMs ?? 1000,
    timeout: () => opts.timeoutMs ?? 800,
    run: async (t, deadline) => {
      starts.push([t.name, clock.now()]);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      const mine = (perTarget.get(t.name) ?? 0) + 1;
      perTarget.set(t.name, mine);
      assert.equal(mine, 1, `two probes of ${t.name} in flight`);
      try {
        if (t.mode === 'throw') throw new Error('probe bug');
        if (t.mode === 'ignore') await new Promise(() => {});
        await fakeDelay(clock, t.takesMs, deadline.signal).catch(() => aborted.push(t.name));
      } finally {
        inFlight--;
        perTarget.set(t.name, (perTarget.get(t.name) ?? 1) - 1);
      }
    },
    ...opts,
  });
  const startsOf = (name: string) => starts.filter(([n]) => n === name).map(([, at]) => at);
  return { clock, scheduler, starts, startsOf, aborted, maxInFlight: () => maxInFlight };
}

describe('ProbeScheduler', () => {
  it('starts each target every interval, start to start: probe duration causes no drift', async () => {
    const h = harness();
    h.scheduler.add('a', { name: 'a', takesMs: 300 });
    h.scheduler.start();
    await run(h.clock, 10_000);
    const s = h.startsOf('a');
    assert.ok(s.length >= 9, `starts: ${s.join(',')}`);
    for (let k = 1; k < s.length; k++) assert.equal(s[k]! - s[k - 1]!, 1000, `start ${k} at ${s[k]}`);
    assert.equal(h.scheduler.stats().lateness.max, 0);
  });

  it('gathers: one wake-up starts every target planned within gatherMs of it, early by at most that, without drift', async () => {
    const phases = [0.1, 0.103, 0.12];
    const h = harness({ gatherMs: 5, random: () => phases.shift() ?? 0 });
    for (const name of ['a', 'b', 'c']) h.scheduler.add(name, { name, takesMs: 1 });
    h.scheduler.start();
    await run(h.clock, 3050);
    assert.deepEqual(h.startsOf('a'), [100, 1100, 2100]);
    assert.deepEqual(h.startsOf('b'), [100, 1100, 2100], 'planned at 103, started with a');
    assert.deepEqual(h.startsOf('c'), [120, 1120, 2120], 'planned 20 ms later: its own wake-up');
    // Without gathering, b starts when planned.
    const phases0 = [0.1, 0.103];
    const h0 = harness({ random: () => phases0.shift() ?? 0 });
    for (const name of ['a', 'b']) h0.scheduler.add(name, { name, takesMs: 1 });
    h0.scheduler.start();
    await run(h0.clock, 1050);
    assert.deepEqual(h0.startsOf('b'), [103]);
    // gatherShare bounds the window by the target's own interval: 1% of 1 s is 10 ms, under gatherMs.
    const phases1 = [0.1, 0.108, 0.115];
    const h1 = harness({ gatherMs: 50, gatherShare: 0.01, random: () => phases1.shift() ?? 0 });
    for (const name of ['a', 'b', 'c']) h1.scheduler.add(name, { name, takesMs: 1 });
    h1.scheduler.start();
    await run(h1.clock, 1050);
    assert.deepEqual([h1.startsOf('a'), h1.startsOf('b'), h1.startsOf('c')], [[100], [100], [115]]);
  });

  it('starts a backlog in slices of sliceMs, yielding to the event loop between them, late only by the starting itself', async () => {
    const fake = new FakeClock(0);
    // Every timer callback is one turn of the event loop: number them.
    let turn = 0;
    // Each start costs 1 ms of the loop: now() runs ahead of the fake time by what was spent.
    let spent = 0;
    const clock = Object.assign(Object.create(fake) as FakeClock, {
      now: () => fake.now() + spent,
      setTimer: (ms: number, fn: () => void): Timer => fake.setTimer(ms, () => (turn++, fn())),
    });
    const startTurns: number[] = [];
    const h = harness({ clock, concurrency: 1000, sliceMs: 32, random: () => 0.5 });
    for (let i = 0; i < 200; i++) h.scheduler.add(`t${i}`, { name: `t${i}`, takesMs: 10_000 });
    const push = h.starts.push.bind(h.starts);
    h.starts.push = (...items: Array<[string, number]>) => {
      startTurns.push(turn);
      spent += 1;
      return push(...items);
    };
    h.scheduler.start();
    // All 200 are planned at 500 ms.
    fake.advance(500);
    assert.equal(h.starts.length, 200, `started ${h.starts.length}`);
    const perTurn = new Map<number, number>();
    for (const t of startTurns) perTurn.set(t, (perTurn.get(t) ?? 0) + 1);
    assert.deepEqual([...perTurn.values()], [32, 32, 32, 32, 32, 32, 8], 'starts per turn');
    assert.ok(
      h.starts.every(([, at], k) => at === 500 + k),
      'each started as soon as the ones before it had: yielding costs no time of its own',
    );
    // A slice's lateness is what the slices before it spent: 6 x 32 ms before the last one.
    assert.equal(h.scheduler.stats().lateness.max, 192);
  });

  it('spreads first starts over the interval and jitters later ones within bounds', async () => {
    const h = harness({ jitter: 0.05 });
    for (let i = 0; i < 200; i++) h.scheduler.add(`t${i}`, { name: `t${i}`, takesMs: 1 });
    h.scheduler.start();
    await run(h.clock, 1000, 5);
    const firstOf = new Map<string, number>();
    for (const [name, at] of h.starts) if (!firstOf.has(name)) firstOf.set(name, at);
    const first = [...firstOf.values()];
    assert.equal(first.length, 200, 'everyone started within the first interval');
    const buckets = new Array<number>(10).fill(0);
    for (const at of first) buckets[Math.min(9, Math.floor(at / 100))]!++;
    for (const b of buckets) assert.ok(b >= 8 && b <= 35, `first starts bunched: ${buckets.join(',')}`);
    await run(h.clock, 5000, 5);
    for (let i = 0; i < 200; i++) {
      const s = h.startsOf(`t${i}`);
      for (let k = 1; k < s.length; k++) {
        const gap = s[k]! - s[k - 1]!;
        assert.ok(gap >= 890 && gap <= 1110, `gap ${gap} outside 1000 ± 2 × 5% (+ step)`);
      }
    }
  });

  it('keeps at most `concurrency` probes in flight; the rest wait and run late', async () => {
    const h = harness({ concurrency: 3, random: () => 0 });
    for (let i = 0; i < 10; i++) h.scheduler.add(`t${i}`, { name: `t${i}`, takesMs: 100 });
    h.scheduler.start();
    await run(h.clock, 2000, 5);
    assert.equal(h.maxInFlight(), 3);
    assert.ok(h.startsOf('t9').length >= 1);
    assert.ok(h.scheduler.stats().lateness.max >= 300, 'queued probes report their lateness');
  });

  it('never runs two probes of one target: a probe longer than the interval skips the missed starts', async () => {
    const h = harness({ timeoutMs: 5000, random: () => 0 });
    h.scheduler.add('slow', { name: 'slow', takesMs: 2500 });
    h.scheduler.start();
    await run(h.clock, 9000);
    assert.deepEqual(h.startsOf('slow'), [0, 3000, 6000, 9000]);
  });

  it('a start later than a tenth of the interval re-phases the target: draining a backlog probes no backend twice within 0.9 interval', async () => {
    const h = harness({ jitter: 0.02 });
    for (let i = 0; i < 50; i++) h.scheduler.add(`t${i}`, { name: `t${i}`, takesMs: 5 });
    // The loop held for 2.5 intervals before it starts: every first start is 1.5-2.5 s late.
    await run(h.clock, 2500);
    h.scheduler.start();
    await run(h.clock, 8000, 5);
    for (let i = 0; i < 50; i++) {
      const s = h.startsOf(`t${i}`);
      assert.equal(s[0], 2500);
      for (let k = 1; k < s.length; k++) assert.ok(s[k]! - s[k - 1]! >= 1000 - 2 * 20, `t${i}: ${s.join(',')}`);
    }
    // Late by no more than a tenth: the schedule keeps its phase (no drift).
    const fine = harness({ random: () => 0 });
    fine.scheduler.add('a', { name: 'a', takesMs: 5 });
    await run(fine.clock, 90);
    fine.scheduler.start();
    await run(fine.clock, 3500);
    assert.deepEqual(fine.startsOf('a'), [90, 1000, 2000, 3000]);
  });

  it('aborts a probe at its deadline; a probe that ignores the signal is abandoned after the grace and does not stall others', async () => {
    const h = harness({ concurrency: 2, timeoutMs: 300, random: () => 0 });
    h.scheduler.add('hang', { name: 'hang', takesMs: 0, mode: 'ignore' });
    h.scheduler.add('slow', { name: 'slow', takesMs: 10_000 });
    h.scheduler.add('fast', { name: 'fast', takesMs: 10 });
    h.scheduler.start();
    await run(h.clock, 5000, 10);
    assert.ok(h.aborted.includes('slow'), 'deadline fired the signal');
    const stats = h.scheduler.stats();
    assert.ok(stats.hung >= 1, 'the hung probe was counted');
    assert.ok(h.startsOf('fast').length >= 4, `fast kept being probed: ${h.startsOf('fast').join(',')}`);
    assert.ok(h.startsOf('hang').length >= 2, 'the hung target is probed again once abandoned');
  });

  it('a probe that throws does not stop the loop', async () => {
    const h = harness({ random: () => 0 });
    h.scheduler.add('bug', { name: 'bug', takesMs: 0, mode: 'throw' });
    h.scheduler.start();
    await run(h.clock, 3500);
    assert.deepEqual(h.startsOf('bug'), [0, 1000, 2000, 3000]);
  });

  it('removed targets stop; added ones start within one interval; re-adding replaces the target', async () => {
    const h = harness({ random: () => 0.5 });
    h.scheduler.add('a', { name: 'a', takesMs: 1 });
    h.scheduler.start();
    await run(h.clock, 2000);
    h.scheduler.remove('a');
    assert.equal(h.scheduler.has('a'), false);
    const before = h.startsOf('a').length;
    h.scheduler.add('b', { name: 'b', takesMs: 1 });
    await run(h.clock, 3000);
    assert.equal(h.startsOf('a').length, before);
    assert.deepEqual(h.startsOf('b').slice(0, 2), [2500, 3500]);
    h.scheduler.add('b', { name: 'b2', takesMs: 1 });
    await run(h.clock, 1000);
    assert.ok(h.startsOf('b2').length === 1);
  });

  it('the watchdog notices a lost timer, says so, and restarts the loop', async () => {
    class LosingClock extends FakeClock {
      lose = false;
      override setTimer(ms: number, fn: () => void): Timer {
        if (this.lose && ms > 400 && ms < 600) {
          this.lose = false;
          return { cancel() {} }; // the callback will never run
        }
        return super.setTimer(ms, fn);
      }
    }
    const clock = new LosingClock(0);
    const reports: WatchdogReport[] = [];
    const h = harness({ clock, random: () => 0, onWatchdog: (r) => reports.push(r), intervalMs: 500 });
    h.scheduler.add('a', { name: 'a', takesMs: 1 });
    h.scheduler.start();
    await run(clock, 1200);
    clock.lose = true; // the next dispatch timer (about 499 ms ahead) is lost
    await run(clock, 4000);
    assert.ok(reports.some((r) => r.stuck), 'reported stuck');
    const s = h.startsOf('a');
    assert.ok(s[s.length - 1]! >= 4000, `probing resumed: ${s.join(',')}`);
  });

  it('reports saturation when every slot is busy and targets are overdue', async () => {
    const reports: WatchdogReport[] = [];
    const h = harness({ concurrency: 1, timeoutMs: 5000, onWatchdog: (r) => reports.push(r), random: () => 0 });
    for (let i = 0; i < 5; i++) h.scheduler.add(`t${i}`, { name: `t${i}`, takesMs: 900 });
    h.scheduler.start();
    await run(h.clock, 6000, 20);
    assert.ok(reports.some((r) => r.saturated && !r.stuck));
  });
});
