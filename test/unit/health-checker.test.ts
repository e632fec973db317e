import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeartbeatStatus, UpstreamSpec } from '../../src/core/model.ts';
import { UpstreamRegistry, type RegistryChange } from '../../src/core/registry.ts';
import { HealthChecker } from '../../src/health/health-checker.ts';
import type { ProbeTarget } from '../../src/health/probes/types.ts';
import type { ProbeResult } from '../../src/health/state-machine.ts';
import { run, seededRandom } from '../support/async.ts';
import { cluster, config, server, upstream } from '../support/builders.ts';
import { FakeClock } from '../support/fake-clock.ts';

const GLOBAL = { ...config({ upstreams: {} }).global, checkupTimerIntervalMs: 1000 };

/** A probe whose answers the test sets per host:port; records every call. */
function scripted() {
  const answers = new Map<string, ProbeResult | 'throw'>();
  const calls: Array<[string, number]> = [];
  let clock: FakeClock | undefined;
  const probe = async (t: ProbeTarget): Promise<ProbeResult> => {
    const id = `${t.host}:${t.port}`;
    calls.push([id, clock?.now() ?? 0]);
    const a = answers.get(id) ?? { status: 'ok', msg: null };
    if (a === 'throw') throw new Error('probe exploded');
    return a;
  };
  return {
    answers,
    calls,
    probe,
    bind: (c: FakeClock) => void (clock = c),
    set: (id: string, status: ProbeResult['status'], msg: string | null = status === 'ok' ? null : 'down') => answers.set(id, { status, msg }),
  };
}

function setup(specs: UpstreamSpec[], global = GLOBAL) {
  const clock = new FakeClock(0);
  const registry = new UpstreamRegistry(global);
  for (const s of specs) registry.put(s);
  const p = scripted();
  p.bind(clock);
  const checker = new HealthChecker(registry, { clock, random: seededRandom(1), probe: p.probe, jitter: 0 });
  const status = (skey: string, id: string): HeartbeatStatus | undefined => registry.upstream(skey)?.health(id)?.status;
  return { clock, registry, checker, p, status };
}

const api = upstream('api', [cluster(1, [server('a:1'), server('b:1')]), cluster(2, [server('c:1')])]);

describe('HealthChecker', () => {
  it('probes every distinct peer and records statuses in the registry', async () => {
    const { clock, checker, p, status, registry } = setup([upstream('s', [cluster(1, [server('a:1')]), cluster(2, [server('a:1'), server('b:1')])])]);
    p.set('b:1', 'err', 'connection refused');
    checker.start();
    await run(clock, 1000);
    assert.equal(status('s', 'a:1'), 'ok');
    assert.equal(status('s', 'b:1'), 'err');
    assert.equal(registry.upstream('s')!.health('b:1')!.msg, 'connection refused');
    assert.equal(p.calls.filter(([id]) => id === 'a:1').length, 1, 'a peer listed twice is probed once');
    assert.ok(checker.status().lastCheckAt !== null);
    assert.equal(checker.status().alive, true);
  });

  it('sensibility: a status changes only after that many consecutive failures', async () => {
    const { clock, checker, p, status } = setup([{ ...api, sensibility: 3 }]);
    checker.start();
    await run(clock, 1000);
    p.set('a:1', 'err');
    await run(clock, 2000);
    assert.equal(status('api', 'a:1'), 'ok', 'two failures');
    await run(clock, 1000);
    assert.equal(status('api', 'a:1'), 'err', 'third failure');
  });

  it('protected: when every peer fails, the first one is kept unstable; with protected off all are err', async () => {
    for (const isProtected of [true, false]) {
      const { clock, checker, p, status } = setup([{ ...api, protected: isProtected }]);
      for (const id of ['a:1', 'b:1', 'c:1']) p.set(id, 'err');
      checker.start();
      await run(clock, 1000);
      assert.deepEqual(
        ['a:1', 'b:1', 'c:1'].map((id) => status('api', id)),
        [isProtected ? 'unstable' : 'err', 'err', 'err'],
      );
      p.set('c:1', 'ok');
      await run(clock, 1000);
      assert.deepEqual(
        ['a:1', 'b:1', 'c:1'].map((id) => status('api', id)),
        ['err', 'err', 'ok'],
        'one peer back: the protected one is err again',
      );
    }
  });

  it('honest protection: the protected peer shows its real probe result and why it is kept', async () => {
    const { clock, checker, p, registry } = setup([api]);
    for (const id of ['a:1', 'b:1', 'c:1']) p.set(id, 'err', 'connection refused');
    const changes: RegistryChange[] = [];
    registry.subscribe((c) => changes.push(c));
    checker.start();
    await run(clock, 1000);
    const a = registry.upstream('api')!.health('a:1')!;
    assert.equal(a.status, 'unstable', 'still selectable (the original shape)');
    assert.equal(a.probeStatus, 'err', 'its own probes fail');
    assert.match(a.protection!.reason, /every peer of the upstream fails its probes; protected keeps the first one/);
    assert.equal(a.msg, 'connection refused');
    assert.equal(registry.upstream('api')!.health('b:1')!.protection, undefined);
    assert.ok(changes.some((c) => c.peer === 'a:1'), 'announced to Watch/xDS');
    p.set('c:1', 'ok');
    await run(clock, 1000);
    const after = registry.upstream('api')!.health('a:1')!;
    assert.equal(after.status, 'err');
    assert.equal(after.protection, undefined, 'no longer protected once a peer is ok');
    assert.equal(after.probeStatus, undefined, 'own and shown status agree again');
  });

  it('a redis-style unstable result stays unstable only while no peer is ok', async () => {
    const { clock, checker, p, status } = setup([upstream('r', [cluster(1, [server('m:1'), server('r:1')])])]);
    p.set('m:1', 'err');
    p.set('r:1', 'unstable', 'master link status: down');
    checker.start();
    await run(clock, 1000);
    assert.equal(status('r', 'r:1'), 'unstable');
    p.set('m:1', 'ok');
    await run(clock, 1000);
    assert.equal(status('r', 'r:1'), 'err');
  });

  it('a probe that throws is recorded as err with its message, and probing goes on', async () => {
    const { clock, checker, p, registry } = setup([api]);
    p.answers.set('b:1', 'throw');
    checker.start();
    await run(clock, 3000);
    assert.equal(registry.upstream('api')!.health('b:1')!.msg, 'probe exploded');
    assert.equal(p.calls.filter(([id]) => id === 'b:1').length, 3);
  });

  it('unhealthy_interval: failing peers are probed faster, healthy ones at the global interval', async () => {
    const { clock, checker, p } = setup([{ ...api, unhealthyIntervalMs: 250 }]);
    p.set('b:1', 'err');
    checker.start();
    await run(clock, 3000);
    const count = (id: string) => p.calls.filter(([c]) => c === id).length;
    assert.ok(count('a:1') <= 4, `healthy: ${count('a:1')}`);
    assert.ok(count('b:1') >= 9, `unhealthy: ${count('b:1')}`);
  });

  it('follows registry updates: added peers start at once, removed stop, kept peers keep their state', async () => {
    const { clock, checker, p, registry, status } = setup([api]);
    p.set('b:1', 'err');
    checker.start();
    await run(clock, 1000);
    registry.put({ ...api, clusters: [cluster(1, [server('b:1'), server('d:1')])] });
    assert.equal(status('api', 'b:1'), 'err', 'kept state');
    const before = p.calls.length;
    await run(clock, 1000);
    const after = p.calls.slice(before).map(([id]) => id);
    assert.ok(after.includes('d:1'), 'new peer probed within one interval');
    assert.ok(!after.includes('a:1') && !after.includes('c:1'), 'removed peers no longer probed');
    assert.equal(checker.status().scheduler.targets, 2);
  });

  it('heartbeat off (enable: false) or deleted upstream: no probing', async () => {
    const { clock, checker, p, registry } = setup([{ ...api, enable: false }, upstream('gone', [cluster(1, [server('g:1')])])]);
    checker.start();
    registry.delete('gone');
    await run(clock, 3000);
    assert.equal(p.calls.length, 0);
    registry.put({ ...api, enable: true });
    await run(clock, 1000);
    assert.equal(p.calls.length, 3);
  });

  it('announces status changes through the registry (for Watch and xDS) with a new version each', async () => {
    const { clock, checker, p, registry } = setup([api]);
    const changes: RegistryChange[] = [];
    registry.subscribe((c) => changes.push(c));
    checker.start();
    await run(clock, 1000);
    const n = changes.length;
    await run(clock, 3000);
    assert.equal(changes.length, n, 'steady ok probes announce nothing');
    p.set('a:1', 'err');
    await run(clock, 1000);
    const flips = changes.slice(n);
    assert.deepEqual(
      flips.map((c) => [c.cause, c.peer]),
      [['health', 'a:1']],
    );
    const h = registry.upstream('api')!.health('a:1')!;
    assert.equal(h.recent!.at(-1)!.status, 'err');
    const probedAt = clock.wallNow() - (clock.now() - p.calls.filter(([id]) => id === 'a:1').at(-1)![1]);
    assert.ok(h.lastModified >= probedAt && h.lastModified <= probedAt + 10, 'stamped when the failing result was recorded');
  });

  it('stop() stops probing', async () => {
    const { clock, checker, p } = setup([api]);
    checker.start();
    await run(clock, 1000);
    checker.stop();
    const n = p.calls.length;
    await run(clock, 3000);
    assert.equal(p.calls.length, n);
  });
});

describe('HealthChecker flap damping (fake clock)', () => {
  // threshold 3 changes per 10 s window; holds of 4 s doubling to at most 16 s.
  const rules = { threshold: 3, windowMs: 10_000, penaltyMs: 4_000, maxPenaltyMs: 16_000 };
  const ups = upstream('api', [cluster(1, [server('a:1'), server('b:1')])], { flapDamping: rules });

  it('a peer that alternates on every probe is held err, the hold doubles to the cap, then decays', async () => {
    const { clock, checker, p, registry } = setup([ups]);
    const changes: RegistryChange[] = [];
    registry.subscribe((c) => changes.push(c));
    const health = () => registry.upstream('api')!.health('a:1')!;
    /** Wall-clock ms when a:1's latest result was recorded. */
    const recordedAt = () => health().recent!.at(-1)!.at;
    checker.start();
    const rows: Array<{ probe: string; status: string; held: number | undefined; flaps: number | undefined }> = [];
    // 12 probes alternating ok, err, ok, err, ... (b stays ok, so protection plays no part).
    for (let i = 0; i < 12; i++) {
      p.set('a:1', i % 2 === 0 ? 'ok' : 'err');
      await run(clock, 1000);
      const h = health();
      rows.push({ probe: i % 2 === 0 ? 'ok' : 'err', status: h.status, held: h.dampedUntil === undefined ? undefined : h.dampedUntil - recordedAt(), flaps: h.flaps });
    }
    // Probes 0..3: ok, err (change 1), ok (2), err (3): not damped yet; probe 4 is the 4th change
    // within 10 s (> threshold 3): held 4 s; every further flap re-holds with the doubled penalty.
    assert.deepEqual(
      rows.map((r) => r.status),
      ['ok', 'err', 'ok', 'err', 'err', 'err', 'err', 'err', 'err', 'err', 'err', 'err'],
      'held err from the 4th change on, whatever the probe says',
    );
    assert.deepEqual(
      rows.map((r) => r.held),
      [undefined, undefined, undefined, undefined, 4000, 8000, 16000, 16000, 16000, 16000, 16000, 16000],
    );
    assert.equal(rows[4]!.flaps, 4);
    // While held, the real probe result is shown next to the held status.
    const held = health();
    assert.equal(held.status, 'err');
    assert.equal(held.probeStatus, rows.at(-1)!.probe === 'ok' ? 'ok' : undefined);
    assert.ok(changes.some((c) => c.peer === 'a:1' && c.cause === 'health'));

    // It settles (ok from now on). Its first ok is one more change (the last probe was err), so
    // the hold is renewed once more; it is then held until that hold ends, and ok at the next probe.
    p.set('a:1', 'ok');
    await run(clock, 1000);
    assert.equal(health().dampedUntil! - recordedAt(), 16_000);
    const heldUntil = health().dampedUntil!;
    let releasedAt: number | undefined;
    for (let i = 0; i < 30 && releasedAt === undefined; i++) {
      await run(clock, 1000);
      if (health().status === 'ok') releasedAt = recordedAt();
      else assert.ok(recordedAt() < heldUntil, 'err only while the hold lasts');
    }
    assert.ok(releasedAt !== undefined && releasedAt >= heldUntil && releasedAt < heldUntil + 1000, 'released by the first probe after the hold');
    assert.equal(health().dampedUntil, undefined);

    // Decay: after two quiet windows (20 s) the penalty is back from 16 s to the base 4 s.
    await run(clock, 20_000);
    const again: Array<number | undefined> = [];
    for (let i = 0; i < 6; i++) {
      p.set('a:1', i % 2 === 0 ? 'err' : 'ok');
      await run(clock, 1000);
      const h = health();
      again.push(h.dampedUntil === undefined ? undefined : h.dampedUntil - recordedAt());
    }
    assert.deepEqual(again.slice(0, 4), [undefined, undefined, undefined, 4000], 'damped again at the 4th change, with the decayed penalty');
  });

  it('is off by default: the same alternating peer just alternates', async () => {
    const { clock, checker, p, registry } = setup([upstream('api', [cluster(1, [server('a:1'), server('b:1')])])]);
    checker.start();
    const seen: string[] = [];
    for (let i = 0; i < 8; i++) {
      p.set('a:1', i % 2 === 0 ? 'ok' : 'err');
      await run(clock, 1000);
      seen.push(registry.upstream('api')!.health('a:1')!.status);
    }
    assert.deepEqual(seen, ['ok', 'err', 'ok', 'err', 'ok', 'err', 'ok', 'err']);
    assert.equal(registry.upstream('api')!.health('a:1')!.flaps, undefined);
  });
});


describe('HealthChecker in a cluster (probe ownership)', () => {
  it('anti-entropy publishes only what the instance owns now: state probed before a shard moved on is forgotten', async () => {
    const clock = new FakeClock(0);
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(upstream('own', [cluster(1, [server('a:1'), server('b:1')])]));
    const p = scripted();
    p.bind(clock);
    const owned = new Set(['a:1', 'b:1']);
    const published: string[] = [];
    const checker = new HealthChecker(registry, {
      clock,
      random: seededRandom(1),
      probe: p.probe,
      jitter: 0,
      ownership: { owns: (_skey, id) => owned.has(id), publish: (_skey, id) => void published.push(id) },
    });
    checker.start();
    await run(clock, 1000);
    assert.deepEqual([...published].sort(), ['a:1', 'b:1'], 'first verdicts of both published');
    // Nothing came back through the stream (no applyVerdict): both differ from what is applied.
    assert.deepEqual([...checker.unpublished()].map((u) => u.id).sort(), ['a:1', 'b:1']);
    // b's shard moves to another instance between two renewals, before any reassign().
    owned.delete('b:1');
    assert.deepEqual([...checker.unpublished()].map((u) => u.id), ['a:1']);
    assert.deepEqual([...checker.unpublished(true)].map((u) => u.id), ['a:1'], 'nor after Redis lost the verdicts');
    // Owned again later: it starts from what is published, not from what it probed back then.
    owned.add('b:1');
    assert.deepEqual([...checker.unpublished()].map((u) => u.id), ['a:1']);
    checker.stop();
  });
});
