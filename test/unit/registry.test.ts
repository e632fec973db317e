import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerHealth } from '../../src/core/model.ts';
import { UpstreamRegistry, type RegistryChange } from '../../src/core/registry.ts';
import { cluster, config, server, upstream } from '../support/builders.ts';

const GLOBAL = config({ upstreams: {} }).global;
const errHealth: PeerHealth = { status: 'err', failNum: 1, lastModified: 1, msg: 'refused' };

function withLog() {
  const registry = new UpstreamRegistry(GLOBAL);
  const log: RegistryChange[] = [];
  registry.subscribe((c) => log.push(c));
  return { registry, log };
}

const api = upstream('api', [cluster(1, [server('a:1'), server('b:1')]), cluster(2, [server('c:1')])]);

describe('upstream registry', () => {
  it('versions increase on every change and are announced', () => {
    const { registry, log } = withLog();
    const v1 = registry.put(api);
    const v2 = registry.put({ ...api, try: 2 });
    assert.ok(registry.setHealth('api', 'a:1', errHealth));
    const v3 = registry.upstream('api')!.version;
    assert.ok(registry.delete('api'));
    assert.ok(v1 < v2 && v2 < v3);
    assert.deepEqual(
      log.map((c) => [c.cause, c.version]),
      [
        ['created', v1],
        ['updated', v2],
        ['health', v3],
        ['deleted', v3 + 1],
      ],
    );
    assert.equal(log[2]!.peer, 'a:1');
    assert.equal(registry.upstream('api'), undefined);
    assert.equal(registry.delete('api'), false);
  });

  it('changes carried by one shared-log entry share its revision; a local change before it still never reuses a version', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(api, 100);
    // One entry (revision 101) turns two peers err, another (102) passes one peer and its passive verdict.
    assert.ok(registry.setHealth('api', 'a:1', errHealth, 101));
    assert.ok(registry.setHealth('api', 'b:1', errHealth, 101));
    assert.equal(registry.upstream('api')!.version, 101);
    assert.ok(registry.setPassive('api', 'c:1', { untilWall: 5000, failedCount: 2 }, 102));
    assert.ok(registry.setHealth('api', 'c:1', errHealth, 102));
    assert.equal(registry.upstream('api')!.version, 102);
    // A local change takes 103; an entry that also says 103 must not show its state under the same number.
    assert.ok(registry.setHealth('api', 'a:1', { ...errHealth, status: 'ok' }));
    assert.equal(registry.upstream('api')!.version, 103);
    assert.ok(registry.setHealth('api', 'b:1', { ...errHealth, status: 'ok' }, 103));
    assert.equal(registry.upstream('api')!.version, 104);
    // An older revision never takes the version back, for passive verdicts too.
    assert.ok(registry.setPassive('api', 'c:1', undefined, 90));
    assert.equal(registry.upstream('api')!.version, 105);
  });

  it('health counters change in place; only a status change makes a new version', () => {
    const { registry, log } = withLog();
    registry.put(api);
    registry.setHealth('api', 'a:1', errHealth);
    const v = registry.upstream('api')!.version;
    assert.equal(registry.setHealth('api', 'a:1', { ...errHealth, failNum: 2 }), false);
    assert.equal(registry.upstream('api')!.version, v);
    assert.equal(registry.upstream('api')!.health('a:1')!.failNum, 2);
    assert.equal(log.length, 2);
  });

  it('health of unknown upstreams or peers is ignored', () => {
    const { registry } = withLog();
    registry.put(api);
    assert.equal(registry.setHealth('nope', 'a:1', errHealth), false);
    assert.equal(registry.setHealth('api', 'z:9', errHealth), false);
    assert.equal(registry.upstream('api')!.health('z:9'), undefined);
  });

  it('an update keeps health of servers that stay, also when they move level, and drops the rest', () => {
    const { registry } = withLog();
    registry.put(api);
    registry.setHealth('api', 'a:1', errHealth);
    registry.setHealth('api', 'b:1', errHealth);
    registry.put({ ...api, clusters: [cluster(1, [server('c:1')]), cluster(2, [server('a:1'), server('d:1')])] });
    const entry = registry.upstream('api')!;
    assert.deepEqual(entry.health('a:1'), errHealth);
    assert.equal(entry.health('b:1'), undefined);
    registry.put(api);
    assert.equal(registry.upstream('api')!.health('b:1'), undefined, 'a re-added server starts unchecked');
  });

  it('heartbeat switch follows enable, else the global default', () => {
    const off = new UpstreamRegistry({ ...GLOBAL, defaultHeartbeatEnable: false });
    off.put(api);
    off.put({ ...api, skey: 'on', enable: true });
    assert.equal(off.upstream('api')!.heartbeat, false);
    assert.equal(off.upstream('on')!.heartbeat, true);
  });

  it('a throwing listener does not undo the write nor starve other listeners', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    const seen: string[] = [];
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    registry.subscribe(() => {
      throw new Error('boom');
    });
    const unsubscribe = registry.subscribe((c) => seen.push(c.skey));
    registry.put(api);
    unsubscribe();
    registry.put({ ...api, skey: 'other' });
    assert.deepEqual(seen, ['api']);
    assert.ok(registry.upstream('api'));
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        process.off('warning', onWarning);
        assert.ok(warnings.some((w) => w.includes('boom')));
        resolve();
      }),
    );
  });

  it('fromConfig loads every upstream in file order', () => {
    const cfg = config({ upstreams: { b: { cluster: [] }, a: { cluster: [] } } });
    assert.deepEqual(UpstreamRegistry.fromConfig(cfg).skeys(), ['b', 'a']);
  });
});
