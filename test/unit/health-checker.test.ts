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
