import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SelectionEngine, type SelectedPeer } from '../../src/balance/selection-engine.ts';
import type { ClusterSpec, HeartbeatStatus, UpstreamSpec } from '../../src/core/model.ts';
import { peerId } from '../../src/core/model.ts';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import { LocalPassivePublisher } from '../../src/health/passive-publisher.ts';
import { CheckupsError, type CheckupsErrorCode } from '../../src/util/errors.ts';
import { FakeClock } from '../support/fake-clock.ts';
import { cluster, config, server, upstream } from '../support/builders.ts';

const GLOBAL = config({ upstreams: {} }).global;

function setup(...specs: UpstreamSpec[]) {
  const clock = new FakeClock();
  const registry = new UpstreamRegistry(GLOBAL);
  for (const s of specs) registry.put(s);
  const engine = new SelectionEngine(registry, clock);
  const health = (skey: string, hostPort: string, status: HeartbeatStatus) =>
    registry.setHealth(skey, hostPort, { status, failNum: status === 'ok' ? 0 : 1, lastModified: clock.wallNow(), msg: null });
  return { clock, registry, engine, health };
}

const hp = (p: SelectedPeer) => `${p.host}:${p.port}`;
const picks = (engine: SelectionEngine, skey: string, n: number, opts = {}) => Array.from({ length: n }, () => hp(engine.selectPeer(skey, opts)));

function rejectsWith(code: CheckupsErrorCode) {
  return (err: unknown) => err instanceof CheckupsError && err.code === code;
}

/** An attempt callback that records the peers it saw and fails on the listed ones. */
function recorder(failOn: Set<string> | ((peer: string, n: number) => unknown), clock?: FakeClock, tookMs = 0) {
  const seen: string[] = [];
  const fn = (peer: SelectedPeer) => {
    const id = hp(peer);
    seen.push(`${peer.cluster}/${id}`);
    clock?.advance(tookMs);
    if (typeof failOn === 'function') return failOn(id, seen.length);
    return failOn.has(id) ? null : { ok: id };
  };
  return { seen, fn };
}

const twoLevels = upstream('api', [
  cluster(1, [server('10.0.0.1:80'), server('10.0.0.2:80')]),
  cluster(2, [server('10.0.1.1:80')]),
]);

describe('cluster order and falling through (§5.1)', () => {
  it('level 1 serves while it has an eligible server; level 2 takes over when it has none', () => {
    const { engine, health } = setup(twoLevels);
    assert.deepEqual(picks(engine, 'api', 4), ['10.0.0.1:80', '10.0.0.2:80', '10.0.0.1:80', '10.0.0.2:80']);
    health('api', '10.0.0.1:80', 'err');
    assert.deepEqual(picks(engine, 'api', 2), ['10.0.0.2:80', '10.0.0.2:80']);
    health('api', '10.0.0.2:80', 'err');
    assert.deepEqual(picks(engine, 'api', 2), ['10.0.1.1:80', '10.0.1.1:80']);
    health('api', '10.0.0.2:80', 'ok');
    assert.deepEqual(picks(engine, 'api', 1), ['10.0.0.2:80']);
  });

  it('unstable and never-probed servers stay eligible; err does not', () => {
    const { engine, health } = setup(twoLevels);
    health('api', '10.0.0.1:80', 'unstable');
    const p = engine.selectPeer('api');
    assert.equal(hp(p), '10.0.0.1:80');
    assert.equal(p.status, 'unstable');
    assert.equal(engine.selectPeer('api').status, 'unchecked');
  });

  it('the status a pick reports follows the peer heartbeat as it changes (kept per server, not looked up per pick)', () => {
    const { engine, health } = setup({ ...twoLevels, clusters: [twoLevels.clusters[0]!] });
    const statusOf = (hostPort: string) => {
      for (let n = 0; n < 4; n++) {
        const p = engine.selectPeer('api');
        if (hp(p) === hostPort) return p.status;
      }
      throw new Error(`${hostPort} not picked`);
    };
    assert.equal(statusOf('10.0.0.1:80'), 'unchecked');
    health('api', '10.0.0.1:80', 'ok');
    assert.equal(statusOf('10.0.0.1:80'), 'ok');
    health('api', '10.0.0.1:80', 'unstable');
    health('api', '10.0.0.2:80', 'ok');
    assert.equal(statusOf('10.0.0.1:80'), 'unstable');
    assert.equal(statusOf('10.0.0.2:80'), 'ok');
    health('api', '10.0.0.1:80', 'ok');
    assert.equal(statusOf('10.0.0.1:80'), 'ok');
  });

  it('with heartbeat disabled, heartbeat err is ignored and status reads unchecked', () => {
    const { engine, health } = setup({ ...twoLevels, enable: false });
    health('api', '10.0.0.1:80', 'err');
    const p = engine.selectPeer('api');
    assert.equal(hp(p), '10.0.0.1:80');
    assert.equal(p.status, 'unchecked');
  });

  it('servers an operator set down are skipped; up again, they are picked', () => {
    const { engine, registry } = setup(twoLevels);
    const withDown = (down: boolean): UpstreamSpec => ({
      ...twoLevels,
      clusters: twoLevels.clusters.map((c) => ({ ...c, servers: c.servers.map((s) => (s.host === '10.0.0.1' ? { ...s, down } : s)) })),
    });
    registry.put(withDown(true));
    assert.deepEqual(picks(engine, 'api', 3), ['10.0.0.2:80', '10.0.0.2:80', '10.0.0.2:80']);
    registry.put(withDown(false));
    assert.ok(picks(engine, 'api', 2).includes('10.0.0.1:80'));
  });

  it('without cluster_key: levels ascending, then named clusters as written', async () => {
    const spec = config({
      upstreams: {
        m: {
          cluster: {
            east: { servers: [{ host: 'e', port: 1 }] },
            2: { servers: [{ host: 'two', port: 1 }] },
            west: { servers: [{ host: 'w', port: 1 }] },
            1: { servers: [{ host: 'one', port: 1 }] },
          },
        },
      },
    }).upstreams.get('m')!;
    const { engine } = setup(spec);
    const r = recorder(() => null);
    await assert.rejects(engine.readyOk('m', r.fn, { try: 10 }), rejectsWith('NO_SERVERS_AVAILABLE'));
    assert.deepEqual(r.seen, ['1/one:1', '2/two:1', 'east/e:1', 'west/w:1']);
  });

  it('cluster_key picks clusters and their order; names and levels mix; 1 and "1" are the same level; unknown keys are skipped', async () => {
    const spec = upstream('m', [cluster(1, [server('one:1')]), cluster(2, [server('two:1')]), cluster('dc1', [server('d1:1')]), cluster('dc2', [server('d2:1')])]);
    const { engine } = setup(spec);
    const r = recorder(() => null);
    await assert.rejects(engine.readyOk('m', r.fn, { clusterKey: ['dc2', 2, 'nope', '1'], try: 10 }), rejectsWith('NO_SERVERS_AVAILABLE'));
    assert.deepEqual(r.seen, ['dc2/d2:1', '2/two:1', '1/one:1']);
    assert.equal(hp(engine.selectPeer('m', { clusterKey: ['dc1'] })), 'd1:1');
    assert.throws(() => engine.selectPeer('m', { clusterKey: ['nope'] }), rejectsWith('NO_SERVERS_AVAILABLE'));
  });

  it('a server that failed in one cluster may be tried again as part of another (cluster_key.t S2)', async () => {
    const shared = server('10.0.0.7:80');
    const spec = upstream('c', [cluster('c1', [server('10.0.0.1:80'), shared]), cluster('c2', [shared])]);
    const { engine } = setup(spec);
    const r = recorder(() => null);
    await assert.rejects(engine.readyOk('c', r.fn, { clusterKey: ['c1', 'c2'], try: 10 }), rejectsWith('NO_SERVERS_AVAILABLE'));
    assert.deepEqual(r.seen, ['c1/10.0.0.1:80', 'c1/10.0.0.7:80', 'c2/10.0.0.7:80']);
  });
});

describe('readyOk: try, try_timeout, classification (§5.4)', () => {
  const three = upstream('t', [cluster(1, [server('a:1'), server('b:1'), server('c:1')]), cluster(2, [server('d:1')])]);

  it('returns the first successful result; failed servers are not retried within the call', async () => {
    const { engine } = setup(three);
    const r = recorder(new Set(['a:1', 'b:1']));
    assert.deepEqual(await engine.readyOk('t', r.fn), { ok: 'c:1' });
    assert.deepEqual(r.seen, ['1/a:1', '1/b:1', '1/c:1']);
  });

  it('falls through to the next level once every server of a level failed', async () => {
    const { engine } = setup(three);
    const r = recorder(new Set(['a:1', 'b:1', 'c:1']));
    assert.deepEqual(await engine.readyOk('t', r.fn), { ok: 'd:1' });
    assert.equal(r.seen.length, 4);
  });

  it('try: request beats upstream beats the number of servers; 0 behaves like 1', async () => {
    const fails = () => recorder(() => null);
    const { engine } = setup(three, { ...three, skey: 'u', try: 2 });
    let r = fails();
    assert.equal(await engine.readyOk('t', r.fn), null);
    assert.equal(r.seen.length, 4, 'default: number of servers tried');
    r = fails();
    await engine.readyOk('u', r.fn);
    assert.equal(r.seen.length, 2, 'upstream try');
    r = fails();
    await engine.readyOk('u', r.fn, { try: 3 });
    assert.equal(r.seen.length, 3, 'request try');
    r = fails();
    await engine.readyOk('u', r.fn, { try: 0 });
    assert.equal(r.seen.length, 1, 'try 0');
  });

  it('at the try limit the call settles as the last attempt did; with tries left it is "no servers available"', async () => {
    const two = upstream('two', [cluster(1, [server('a:1'), server('b:1')])]);
    const { engine } = setup(two);
    // Default try = 2 servers: two failures return the callback's own error, not "no servers available".
    await assert.rejects(
      engine.readyOk('two', () => {
        throw new Error('max try exceeded');
      }),
      /max try exceeded/,
    );
    assert.deepEqual(await engine.readyOk('two', () => ({ status: 'bad' }), { classify: () => false }), { status: 'bad' });
    await assert.rejects(
      engine.readyOk('two', () => null, { try: 5 }),
      (err: unknown) => err instanceof CheckupsError && err.code === 'NO_SERVERS_AVAILABLE' && err.message === 'no servers available in upstream two',
    );
  });

  it('try_timeout: only failed attempts spend the budget; the try limit is checked first', async () => {
    const { engine, clock } = setup({ ...three, tryTimeoutMs: 250 });
    // 100 ms per failed attempt: budget gone after the 3rd failure (300 >= 250), one try still left.
    let r = recorder(() => null, clock, 100);
    await assert.rejects(engine.readyOk('t', r.fn), (err: unknown) => err instanceof CheckupsError && err.code === 'TRY_TIMEOUT_EXCEEDED');
    assert.equal(r.seen.length, 3);
    // Same, but try=3: the try limit wins and the callback's own value comes back.
    r = recorder(() => null, clock, 100);
    assert.equal(await engine.readyOk('t', r.fn, { try: 3 }), null);
    // A slow success is a success, whatever it cost.
    let n = 0;
    const slowSuccess = () => {
      n++;
      clock.advance(n === 1 ? 100 : 1000);
      return n === 1 ? null : 'fine';
    };
    assert.equal(await engine.readyOk('t', slowSuccess), 'fine');
    assert.equal(n, 2);
    // The request's try_timeout overrides the upstream's; 0 means unlimited.
    r = recorder(() => null, clock, 100);
    assert.equal(await engine.readyOk('t', r.fn, { tryTimeoutMs: 0 }), null);
    assert.equal(r.seen.length, 4);
  });

  it('each attempt gets a signal that fires when the remaining budget runs out', async () => {
    const { engine, clock } = setup({ ...three, tryTimeoutMs: 1000 });
    const aborted: boolean[] = [];
    await assert.rejects(
      engine.readyOk('t', (_peer, { signal }) => {
        clock.advance(600);
        aborted.push(signal?.aborted ?? false);
        return null;
      }),
      rejectsWith('TRY_TIMEOUT_EXCEEDED'),
    );
    assert.deepEqual(aborted, [false, true], 'second attempt had 400 ms left and ran 600');
  });

  it('an aborted call starts no further attempt', async () => {
    const { engine } = setup(three);
    const ctl = new AbortController();
    let calls = 0;
    await assert.rejects(
      engine.readyOk(
        't',
        () => {
          calls++;
          ctl.abort();
          return null;
        },
        { signal: ctl.signal },
      ),
      { name: 'AbortError' },
    );
    assert.equal(calls, 1);
  });

  it('classifies results: null/undefined/false and throws fail; 0 and "" succeed; http statuses', async () => {
    const http = { ...three, skey: 'h', typ: 'http' as const, http: { statuses: { '502': false, '404': true } } };
    const plain = { ...three, skey: 'g', http: { statuses: { '502': false } } };
    const { engine } = setup(http, plain);
    const firstTry = async (skey: string, value: unknown) => {
      let n = 0;
      await engine
        .readyOk(
          skey,
          () => {
            n++;
            return value;
          },
          { try: 2 },
        )
        .catch(() => undefined);
      return n === 1;
    };
    assert.equal(await firstTry('h', 0), true);
    assert.equal(await firstTry('h', ''), true);
    assert.equal(await firstTry('h', undefined), false);
    assert.equal(await firstTry('h', false), false);
    assert.equal(await firstTry('h', { status: 502 }), false);
    assert.equal(await firstTry('h', { statusCode: 502 }), false);
    assert.equal(await firstTry('h', { status: 404 }), true);
    assert.equal(await firstTry('h', { status: 500 }), true, 'absent codes count as success');
    assert.equal(await firstTry('g', { status: 502 }), true, 'statuses apply only to typ http');
  });

  it('a failed attempt halves the server\'s effective weight in the round robin', async () => {
    const spec = upstream('w', [cluster(1, [server('a:1', { weight: 4 }), server('b:1', { weight: 4 })])]);
    const { engine } = setup(spec);
    await engine.readyOk('w', recorder(new Set(['a:1'])).fn); // a fails (effective 4 -> 2), b succeeds
    // With a recovering, b gets 3 of the next 4 picks instead of 2.
    const next = picks(engine, 'w', 4);
    assert.equal(next.filter((p) => p === 'b:1').length, 3, next.join(' '));
  });

  it('a cluster\'s own try caps failures there before falling through', async () => {
    const spec = upstream('ct', [cluster(1, [server('a:1'), server('b:1'), server('c:1')], { try: 1 }), cluster(2, [server('d:1')])]);
    const { engine } = setup(spec);
    const r = recorder(new Set(['a:1', 'b:1', 'c:1']));
    assert.deepEqual(await engine.readyOk('ct', r.fn), { ok: 'd:1' });
    assert.deepEqual(r.seen, ['1/a:1', '2/d:1']);
  });
});

describe('consistent hash modes (§5.3)', () => {
  const hashed = (mode: UpstreamSpec['mode']) => upstream('h', [cluster(1, ['a:1', 'b:1', 'c:1', 'd:1', 'e:1'].map((x) => server(x)))], { mode });

  it('hash: the same key always lands on the same server; the request path is the fallback key', () => {
    const { engine } = setup(hashed('hash'));
    for (const key of ['user-1', 'user-2', 'user-3']) {
      const first = hp(engine.selectPeer('h', { hashKey: key }));
      for (let i = 0; i < 5; i++) assert.equal(hp(engine.selectPeer('h', { hashKey: key })), first);
    }
    assert.equal(hp(engine.selectPeer('h', { request: { path: '/x' } })), hp(engine.selectPeer('h', { hashKey: '/x' })));
    const spread = new Set(Array.from({ length: 200 }, (_, i) => hp(engine.selectPeer('h', { hashKey: `k${i}` }))));
    assert.equal(spread.size, 5);
  });

  it('url_hash, ip_hash and header_hash read their own request attribute', () => {
    const key = (mode: UpstreamSpec['mode'], request: object, hashKey?: string) => {
      const { engine } = setup(hashed(mode));
      return hp(engine.selectPeer('h', { request, ...(hashKey !== undefined ? { hashKey } : {}) }));
    };
    const { engine } = setup(hashed('hash'));
    const byKey = (k: string) => hp(engine.selectPeer('h', { hashKey: k }));
    assert.equal(key('url_hash', { path: '/p/1' }, 'ignored'), byKey('/p/1'));
    assert.equal(key('ip_hash', { clientIp: '192.0.2.7', path: '/p' }), byKey('192.0.2.7'));
    assert.equal(key('header_hash', { headerHashKey: 'tenant-9', path: '/p' }), byKey('tenant-9'));
    assert.equal(key('header_hash', { path: '/only-path' }), byKey('/only-path'));
  });

  it('retries move round the ring to a different server each time', async () => {
    const { engine } = setup(hashed('hash'));
    const r = recorder(() => null);
    await engine.readyOk('h', r.fn, { hashKey: 'sticky' });
    assert.equal(new Set(r.seen).size, 5);
    assert.equal(r.seen[0], `1/${hp(engine.selectPeer('h', { hashKey: 'sticky' }))}`);
  });

  it('a server in err hands its keys to the others; back ok, it gets them back', () => {
    const { engine, health } = setup(hashed('hash'));
    const keys = Array.from({ length: 100 }, (_, i) => `k${i}`);
    const before = keys.map((k) => hp(engine.selectPeer('h', { hashKey: k })));
    health('h', 'c:1', 'err');
    const during = keys.map((k) => hp(engine.selectPeer('h', { hashKey: k })));
    before.forEach((b, i) => (b === 'c:1' ? assert.notEqual(during[i], 'c:1') : assert.equal(during[i], b)));
    health('h', 'c:1', 'ok');
    assert.deepEqual(
      keys.map((k) => hp(engine.selectPeer('h', { hashKey: k }))),
      before,
    );
  });
});

describe('passive health through the engine (§4.5, §6)', () => {
  const spec = upstream('p', [cluster(1, [server('a:1', { maxFails: 2, failTimeoutMs: 5000 }), server('b:1', { maxFails: 2, failTimeoutMs: 5000 })])]);

  it('feedback marks a server down after max_fails; it comes back after fail_timeout', () => {
    const { engine, clock } = setup(spec);
    engine.feedback('p', 'a', 1, true);
    clock.advance(100);
    engine.feedback('p', 'a', 1, true);
    assert.deepEqual(picks(engine, 'p', 3), ['b:1', 'b:1', 'b:1']);
    clock.advance(4900);
    assert.ok(picks(engine, 'p', 2).includes('a:1'));
  });

  it('failed readyOk attempts count toward max_fails', async () => {
    const { engine } = setup(spec);
    const r = recorder(new Set(['a:1']));
    for (let i = 0; i < 10 && r.seen.filter((p) => p === '1/a:1').length < 2; i++) await engine.readyOk('p', r.fn);
    assert.deepEqual(engine.passive('p', 'a:1'), { status: 'err', failedCount: 2, windowStart: engine.passive('p', 'a:1')!.windowStart });
    assert.deepEqual(picks(engine, 'p', 2), ['b:1', 'b:1']);
  });

  it('selectPeer counts as a success and opens the window', () => {
    const { engine, clock } = setup(spec);
    engine.selectPeer('p');
    const opened = clock.now();
    assert.deepEqual(engine.passive('p', 'a:1'), { status: 'ok', failedCount: 0, windowStart: opened });
  });

  it('feedback errors: unknown skey, unknown peer', () => {
    const { engine } = setup(spec);
    assert.throws(() => engine.feedback('nope', 'a', 1, true), (e: unknown) => e instanceof CheckupsError && e.code === 'UNKNOWN_SKEY' && e.message === 'unknown skey nope');
    assert.throws(() => engine.feedback('p', 'a', 2, true), (e: unknown) => e instanceof CheckupsError && e.code === 'UNKNOWN_PEER' && e.message === 'unknown peer a:2 in upstream p');
  });

  it('an upstream update keeps passive state of servers that stay', () => {
    const { engine, registry } = setup(spec);
    engine.feedback('p', 'a', 1, true);
    engine.feedback('p', 'a', 1, true);
    registry.put({ ...spec, clusters: [cluster(1, [...spec.clusters[0]!.servers, server('c:1')])] as ClusterSpec[] });
    assert.ok(!picks(engine, 'p', 6).includes('a:1'));
  });
});

describe('errors and timeouts', () => {
  it('unknown skey and empty upstreams', async () => {
    const { engine } = setup(upstream('empty', [cluster(1, [])]), upstream('none', []));
    assert.throws(() => engine.selectPeer('nope'), rejectsWith('UNKNOWN_SKEY'));
    await assert.rejects(engine.readyOk('nope', () => 1), rejectsWith('UNKNOWN_SKEY'));
    assert.throws(() => engine.selectPeer('empty'), rejectsWith('NO_SERVERS_AVAILABLE'));
    await assert.rejects(engine.readyOk('none', () => 1), rejectsWith('NO_SERVERS_AVAILABLE'));
  });

  it('a deleted upstream is unknown again', () => {
    const { engine, registry } = setup(twoLevels);
    engine.selectPeer('api');
    registry.delete('api');
    assert.throws(() => engine.selectPeer('api'), rejectsWith('UNKNOWN_SKEY'));
  });

  it('getUpsTimeout: connect, send and read default to timeout', () => {
    const { engine } = setup(upstream('x', [], { timeoutMs: 2000 }), upstream('y', [], { timeoutMs: 2000, sendTimeoutMs: 15_000, readTimeoutMs: 30_000 }));
    assert.deepEqual(engine.getUpsTimeout('x'), { connectMs: 2000, sendMs: 2000, readMs: 2000 });
    assert.deepEqual(engine.getUpsTimeout('y'), { connectMs: 2000, sendMs: 15_000, readMs: 30_000 });
    assert.equal(engine.getUpsTimeout('nope'), undefined);
  });

  it('health of a peer listed in two levels is shared', () => {
    const shared = upstream('s', [cluster(1, [server('a:1')]), cluster(2, [server('a:1'), server('b:1')])]);
    const { engine, health } = setup(shared);
    health('s', peerId('a', 1), 'err');
    assert.deepEqual(picks(engine, 's', 2), ['b:1', 'b:1']);
  });
});

describe('passive verdicts shared through the view (server <-> SDK)', () => {
  const spec = upstream('p', [cluster(1, [server('a:1', { maxFails: 2, failTimeoutMs: 5000 }), server('b:1', { maxFails: 2, failTimeoutMs: 5000 }), server('c:1', { maxFails: 2, failTimeoutMs: 5000 })])]);

  it("the server's own exclusion is published into the registry (a new version) and lifted when it ends", () => {
    const clock = new FakeClock();
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(spec);
    const publisher = new LocalPassivePublisher(registry, clock);
    const engine = new SelectionEngine(registry, clock, { onPassiveVerdict: (skey, id, v) => publisher.publish(skey, id, v) });
    const v0 = registry.upstream('p')!.version;
    engine.feedback('p', 'a', 1, true);
    assert.equal(registry.upstream('p')!.version, v0, 'one failure publishes nothing');
    clock.advance(1000);
    engine.feedback('p', 'a', 1, true);
    const v1 = registry.upstream('p')!.version;
    assert.ok(v1 > v0);
    // the window opened at the first failure: the exclusion ends 5 s after it
    assert.deepEqual(registry.upstream('p')!.passive('a:1'), { failedCount: 2, untilWall: clock.wallNow() + 4000 });
    assert.ok(!picks(engine, 'p', 6).includes('a:1'));
    clock.advance(3999);
    assert.notEqual(registry.upstream('p')!.passive('a:1'), undefined);
    clock.advance(1);
    assert.equal(registry.upstream('p')!.passive('a:1'), undefined);
    assert.ok(registry.upstream('p')!.version > v1);
    assert.ok(picks(engine, 'p', 6).includes('a:1'));
    publisher.close();
  });

  it('a verdict published by someone else is adopted: picks avoid the peer until it ends, local failures still count', () => {
    const { engine, registry, clock } = setup(spec);
    assert.ok(picks(engine, 'p', 3).includes('b:1'));
    registry.setPassive('p', 'b:1', { failedCount: 2, untilWall: clock.wallNow() + 2000 });
    assert.deepEqual(picks(engine, 'p', 4), ['a:1', 'c:1', 'a:1', 'c:1']);
    assert.equal(engine.passive('p', 'b:1')!.status, 'err');
    // the cap (50% of 3 = 1) holds for local accounting too: c stays in
    engine.feedback('p', 'c', 1, true);
    engine.feedback('p', 'c', 1, true);
    assert.ok(picks(engine, 'p', 4).includes('c:1'));
    clock.advance(2000);
    assert.ok(picks(engine, 'p', 6).includes('b:1'), 'usable again when the published exclusion ends');
  });
});
