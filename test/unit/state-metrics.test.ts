/**
 * The state gauges of /metrics (server/status-view.ts, StateMetrics): what a scrape shows after
 * health changes, admin changes and deletions, that only changed upstreams are measured again,
 * and that label values are escaped as the text format wants.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerId } from '../../src/core/model.ts';
import { UpstreamRegistry, type UpstreamEntry } from '../../src/core/registry.ts';
import { peersByStatus } from '../../src/observability/metrics.ts';
import { StateMetrics, type StatusSources } from '../../src/server/status-view.ts';
import { cluster, server, upstream } from '../support/builders.ts';
import { GLOBAL, health } from '../support/xds-harness.ts';

function sources(registry: UpstreamRegistry): StatusSources {
  return { registry, checker: () => undefined, version: 'test', startedAt: 0, wallNow: () => 0, lastEventSeq: () => 0 };
}

async function counts(skey: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const v of (await peersByStatus.get()).values) if (v.labels['upstream'] === skey) out[String(v.labels['status'])] = v.value;
  return out;
}

describe('StateMetrics', () => {
  it('shows health and admin changes, forgets deleted upstreams, counts a peer listed twice once', async () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(upstream('sm-api', [cluster(1, [server('10.0.0.1:80'), server('10.0.0.2:80')]), cluster(2, [server('10.0.0.1:80', { down: true })])]));
    const metrics = new StateMetrics(sources(registry), true);
    metrics.fill();
    assert.deepEqual(await counts('sm-api'), { ok: 0, unstable: 0, err: 0, unchecked: 2, down: 0, passive: 0 });
    registry.setHealth('sm-api', '10.0.0.2:80' as PeerId, health('err'));
    metrics.fill();
    assert.equal((await counts('sm-api'))['err'], 1);
    assert.match(metrics.peerUpText(), /^checkups_peer_up\{upstream="sm-api",peer="10\.0\.0\.2:80"\} 0$/m);
    assert.match(metrics.peerUpText(), /^checkups_peer_up\{upstream="sm-api",peer="10\.0\.0\.1:80"\} 1$/m);
    assert.equal(metrics.peerUpText().match(/peer="10\.0\.0\.1:80"/g)?.length, 1, 'one series per peer');
    registry.delete('sm-api');
    metrics.fill();
    assert.deepEqual(await counts('sm-api'), {});
    assert.doesNotMatch(metrics.peerUpText(), /sm-api/);
  });

  it('measures again only the upstreams whose version moved', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(upstream('sm-a', [cluster(1, [server('10.0.1.1:80')])]));
    registry.put(upstream('sm-b', [cluster(1, [server('10.0.1.2:80')])]));
    const metrics = new StateMetrics(sources(registry), true);
    metrics.fill();
    // Count the peer reads of each entry from here on.
    const reads = new Map<string, number>();
    for (const skey of ['sm-a', 'sm-b']) {
      const entry = registry.upstream(skey)! as UpstreamEntry & { health: UpstreamEntry['health'] };
      const original = entry.health.bind(entry);
      entry.health = (id: PeerId) => {
        reads.set(skey, (reads.get(skey) ?? 0) + 1);
        return original(id);
      };
    }
    metrics.fill();
    assert.deepEqual([...reads], [], 'nothing changed: nothing read');
    registry.setHealth('sm-b', '10.0.1.2:80' as PeerId, health('ok'));
    metrics.fill();
    assert.deepEqual([...reads], [['sm-b', 1]]);
  });

  it('escapes backslash, double quote and newline in label values; nothing per peer when off', () => {
    const registry = new UpstreamRegistry(GLOBAL);
    registry.put(upstream('we"ird\\one', [cluster(1, [server('10.0.2.1:80')])]));
    const on = new StateMetrics(sources(registry), true);
    on.fill();
    assert.match(on.peerUpText(), /^checkups_peer_up\{upstream="we\\"ird\\\\one",peer="10\.0\.2\.1:80"\} 1$/m);
    const off = new StateMetrics(sources(registry), false);
    off.fill();
    assert.equal(off.peerUpText(), '');
  });
});
