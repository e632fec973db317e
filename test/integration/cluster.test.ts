/**
 * Cluster mode end to end: a real redis-server (own port and dir, AOF with appendfsync always)
 * and three `checkups serve --store` processes. Heartbeats are off in the config: health
 * verdicts in a cluster travel through the same stream, tested on their own.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckupsClient } from '../../src/client/index.ts';
import type { WatchRequest } from '../../src/generated/checkups/v1/WatchRequest.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { jsonToValue, structToJson } from '../../src/wire/struct.ts';
import { until } from '../support/async.ts';
import { startInstance, type Instance } from '../support/cluster-instances.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { call, clients, grpcError, type Clients } from '../support/grpc-clients.ts';
import { NODE, sotwStream, xdsClient } from '../support/xds-harness.ts';

const CONFIG = `global: { default_heartbeat_enable: false }
upstreams:
  api:
    cluster:
      - servers:
          - { host: 127.0.0.1, port: 9001 }
`;

const servers = (ports: number[]) => jsonToValue([{ servers: ports.map((port) => ({ host: '127.0.0.1', port })) }]);

/** A Watch stream that checks versions only go forward and lets the test wait on what it holds. */
class Watcher {
  readonly messages: WatchResponse__Output[] = [];
  readonly versions = new Map<string, number>();
  readonly ports = new Map<string, number[]>();
  readonly stream: grpc.ClientReadableStream<WatchResponse__Output>;
  ended = false;

  constructor(c: Clients, req: WatchRequest = {}) {
    this.stream = c.discovery.Watch(req);
    this.stream.on('data', (m: WatchResponse__Output) => {
      this.messages.push(m);
      for (const u of m.upstreams) {
        const prev = this.versions.get(u.skey);
        assert.ok(prev === undefined || u.version > prev, `version of ${u.skey} went from ${prev} to ${u.version}`);
        this.versions.set(u.skey, u.version);
        this.ports.set(u.skey, u.clusters.flatMap((cl) => cl.peers.map((p) => p.server?.port ?? 0)));
      }
      for (const s of m.removedSkeys) this.versions.delete(s);
    });
    this.stream.on('error', () => {
      this.ended = true;
    });
  }

  close(): void {
    this.stream.cancel();
  }
}

async function readyz(instance: Instance): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://${instance.http}/readyz`);
  return { status: res.status, text: await res.text() };
}

describe('cluster mode: three instances on one Redis', { timeout: 240_000 }, () => {
  let dir: string;
  let redis: TestRedis;
  let configFile: string;
  const instances: Instance[] = [];
  const cluster = `t${process.pid}`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-cluster-'));
    configFile = join(dir, 'checkups.yaml');
    writeFileSync(configFile, CONFIG);
    redis = await startRedis({ dir: join(dir, 'redis'), appendfsync: 'always' });
    // Pushed as they come up, so `after` stops every one that started even if another failed.
    await Promise.all([0, 1, 2].map(async () => instances.push(await startInstance({ config: configFile, store: redis.url, cluster }))));
  });

  after(async () => {
    await Promise.all(instances.map((i) => i.kill()));
    await redis.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a write through A is seen on B's and C's Watch and xDS streams, at the same version", async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance];
    const cb = clients(b.grpc);
    const cc = clients(c.grpc);
    const ca = clients(a.grpc);
    const wb = new Watcher(cb);
    const wc = new Watcher(cc);
    const ads = sotwStream(xdsClient(c.grpc));
    try {
      ads.send({ node: NODE, type_url: ENDPOINT, resource_names: ['web'] });
      const { version } = await call(ca.admin, ca.admin.UpdateUpstream, { skey: 'web', cluster: servers([9100, 9101]) });
      await until(() => wb.versions.get('web') === version && wc.versions.get('web') === version, 'web on B and C at the version A returned', 10_000);
      assert.deepEqual(wb.ports.get('web'), [9100, 9101]);
      assert.deepEqual(wc.ports.get('web'), [9100, 9101]);
      // xDS on C: the CLA of web lists both ports.
      for (;;) {
        const r = await ads.next(10_000);
        ads.send({ type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: ['web'] });
        const text = JSON.stringify(r.resources);
        if (text.includes('9100') && text.includes('9101')) break;
      }
      // The config-file upstream has one version everywhere too.
      const statuses = await Promise.all([ca, cb, cc].map((cl) => call(cl.discovery, cl.discovery.GetStatus, {})));
      const apiVersions = statuses.map((s) => s.upstreams.find((u) => u.skey === 'api')!.version);
      assert.equal(new Set(apiVersions).size, 1, `api versions ${apiVersions}`);
      assert.deepEqual(statuses.map((s) => s.store?.kind), ['redis', 'redis', 'redis']);
    } finally {
      wb.close();
      wc.close();
      ads.close();
      for (const cl of [ca, cb, cc]) cl.close();
    }
  });

  it('peer operations on different instances build on each other (version check, no lost update)', async () => {
    const cls = instances.map((i) => clients(i.grpc));
    try {
      await call(cls[0]!.admin, cls[0]!.admin.UpdateUpstream, { skey: 'pool', cluster: servers([9200]) });
      // Concurrent AddPeer through all three: each must see the others' servers.
      const ports = [9201, 9202, 9203, 9204, 9205, 9206];
      await Promise.all(ports.map((port, i) => call(cls[i % 3]!.admin, cls[i % 3]!.admin.AddPeer, { skey: 'pool', cluster: '1', server: { host: '127.0.0.1', port, weight: 1, maxFails: 0, failTimeoutMs: 0, down: false } })));
      const got = await Promise.all(cls.map((cl) => call(cl.admin, cl.admin.GetUpstream, { skey: 'pool' })));
      const highest = Math.max(...got.map((g) => g.version));
      // Every instance converges on the same document at the same version.
      for (const cl of cls) {
        let doc: ReturnType<typeof structToJson> | undefined;
        const deadline = Date.now() + 10_000;
        for (;;) {
          const g = await call(cl.admin, cl.admin.GetUpstream, { skey: 'pool' });
          doc = structToJson(g.upstream);
          if (g.version >= highest) break;
          assert.ok(Date.now() < deadline, 'converged');
          await new Promise((r) => setTimeout(r, 50));
        }
        const listed = ((doc['cluster'] as Record<string, { servers: { port: number }[] }>)['1']!.servers ?? []).map((s) => s.port).sort();
        assert.deepEqual(listed, [9200, ...ports]);
      }
    } finally {
      for (const cl of cls) cl.close();
    }
  });
});
