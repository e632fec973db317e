/**
 * Cluster mode, probing and verdicts (docs/cluster.md): a real redis-server on its own port and
 * three `checkups serve` processes. Probes are counted at the backends.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckupsClient } from '../../src/client/index.ts';
import type { GetStatusResponse__Output } from '../../src/generated/checkups/v1/GetStatusResponse.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { until } from '../support/async.ts';
import { CountingBackends, startInstance, type Instance } from '../support/cluster-instances.ts';
import { call, clients } from '../support/grpc-clients.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { ack, NODE, sotwStream, xdsClient, type AnyResource } from '../support/xds-harness.ts';

// Lease lifetime = the probe interval. Long enough that a loaded 2-core machine (renewals late
// by a second) keeps its leases; the assertions are in intervals, whatever their length.
const INTERVAL_MS = 2000;
const TARGETS = 48;

async function status(inst: Instance): Promise<GetStatusResponse__Output> {
  const c = clients(inst.grpc);
  try {
    return await call(c.discovery, c.discovery.GetStatus, {});
  } finally {
    c.close();
  }
}

/** skey -> [version, every peer's heartbeat and passive status]: what must agree across instances. */
function view(st: GetStatusResponse__Output): string {
  return JSON.stringify(
    st.upstreams
      .map((u) => [u.skey, Number(u.version), u.clusters.flatMap((c) => c.peers.map((p) => `${p.server!.port}:${p.health!.status}:${p.passiveStatus}`))] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  );
}

describe('cluster mode: membership, probe ownership, fencing, shared verdicts', { timeout: 400_000 }, () => {
  let dir: string;
  let redis: TestRedis;
  let backends: CountingBackends;
  const instances = new Map<string, Instance>();

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-cluster-'));
    redis = await startRedis();
    backends = await CountingBackends.start(TARGETS);
    const half = TARGETS / 2;
    const servers = (ports: number[]) => ports.map((port) => `          - { host: 127.0.0.1, port: ${port} }`).join('\n');
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `global: { checkup_timer_interval: ${INTERVAL_MS / 1000} }
upstreams:
  a:
    timeout: 0.5
    cluster:
      - servers:
${servers(backends.ports.slice(0, half))}
  b:
    timeout: 0.5
    cluster:
      - servers:
${servers(backends.ports.slice(half))}
  pas:
    enable: false
    cluster:
      - servers:
          - { host: 10.9.0.1, port: 80, max_fails: 2, fail_timeout: 30 }
          - { host: 10.9.0.2, port: 80, max_fails: 2, fail_timeout: 30 }
`,
    );
    const started = await Promise.all(['A', 'B', 'C'].map((id) => startInstance({ id, config: join(dir, 'checkups.yaml'), dataDir: join(dir, `data-${id}`), redisUrl: redis.url, cluster: 't' })));
    for (const i of started) instances.set(i.id, i);
  });

  after(async () => {
    for (const i of instances.values()) {
      i.kill('SIGKILL');
      await i.exited;
    }
    await backends?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const live = () => [...instances.values()].filter((i) => i.child.exitCode === null && i.child.signalCode === null);

  async function agreed(what: string): Promise<string> {
    let last: string[] = [];
    const deadline = Date.now() + 10_000;
    for (;;) {
      last = await Promise.all(live().map(async (i) => view(await status(i))));
      if (last.every((v) => v === last[0])) return last[0]!;
      if (Date.now() > deadline) assert.fail(`instances disagree (${what}):\n${last.join('\n')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('every target is probed once per interval across the fleet, and every instance shows the same versions and statuses', async () => {
    // Every instance owns shards, all peers are ok everywhere.
    for (const i of instances.values()) await i.logged((l) => l['msg'] === 'probe ownership changed' && (l['members'] as number) === 3);
    await until(() => backends.ports.every((p) => backends.count(p, 0) > 0), 'every backend to be probed', 10_000);
    const agreedView = await agreed('after start');
    assert.ok(!agreedView.includes('HEALTH_STATUS_UNCHECKED:') || agreedView.includes('"pas"'));
    const from = performance.now();
    await new Promise((r) => setTimeout(r, 8 * INTERVAL_MS));
    const to = performance.now();
    const intervals = (to - from) / INTERVAL_MS;
    const perTarget = backends.ports.map((p) => backends.count(p, from, to) / intervals);
    const mean = perTarget.reduce((a, b) => a + b, 0) / perTarget.length;
    const churn = [...instances.values()].map((i) => `${i.id}: ${i.logs.filter((l) => l['module'] === 'cluster').map((l) => `${l['time']} ${l['msg']} ${l['shards'] ?? ''}`).join('; ')}`);
    assert.ok(mean <= 1.05, `probes per target per interval ${mean.toFixed(3)} (target <= 1.05) from ${from} to ${to}\n${churn.join('\n')}\n${perTarget.map((x) => x.toFixed(2)).join(' ')}`);
    assert.ok(mean >= 0.85, `probes per target per interval ${mean.toFixed(3)}: targets are not probed`);
  });

  it('kill -9 of one instance: its targets are probed again within 2 intervals; the rest agree', async () => {
    const victim = instances.get('B')!;
    const killedAt = performance.now();
    victim.kill('SIGKILL');
    await victim.exited;
    const deadline = killedAt + 2 * INTERVAL_MS;
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    const late = backends.ports.filter((p) => backends.count(p, killedAt, deadline) === 0);
    assert.deepEqual(late, [], `targets not probed within 2 intervals of the kill: ${late.length} of ${TARGETS}`);
    // and once per interval again, by two instances
    const from = performance.now();
    await new Promise((r) => setTimeout(r, 6 * INTERVAL_MS));
    const to = performance.now();
    const mean = backends.ports.reduce((n, p) => n + backends.count(p, from, to), 0) / TARGETS / ((to - from) / INTERVAL_MS);
    assert.ok(mean <= 1.05 && mean >= 0.85, `probes per target per interval after the takeover: ${mean.toFixed(3)}`);
    await agreed('after the kill');
  });
});
