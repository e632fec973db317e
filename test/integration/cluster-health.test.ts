/**
 * Cluster mode, probing and verdicts (docs/cluster.md): a real redis-server on its own port and
 * three `checkups serve` processes (at log level debug, to see where transitions are logged).
 * Probes are counted at the backends.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckupsClient } from '../../src/client/index.ts';
import type { GetStatusResponse__Output } from '../../src/generated/checkups/v1/GetStatusResponse.ts';
import type { WatchEventsResponse__Output } from '../../src/generated/checkups/v1/WatchEventsResponse.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { DEFAULT_SHARD_COUNT, ownerOf, shardOf, targetKeyOf } from '../../src/cluster/shard-map.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { structToJson } from '../../src/wire/struct.ts';
import { until } from '../support/async.ts';
import { CountingBackends, startInstance, type Instance, type InstanceLogLine } from '../support/cluster-instances.ts';
import { scrape } from '../support/exposition.ts';
import { call, clients, grpcError } from '../support/grpc-clients.ts';
import { startRedis, type TestRedis } from '../support/redis-server.ts';
import { ack, NODE, sotwStream, xdsClient, type AnyResource } from '../support/xds-harness.ts';

// Lease lifetime = the probe interval. Long enough that a loaded 2-core machine (renewals late
// by a second) keeps its leases; the assertions are in intervals, whatever their length.
const INTERVAL_MS = 2000;
const TARGETS = 48;

type Cla = AnyResource & { endpoints: Array<{ lb_endpoints: Array<{ health_status: string; endpoint: { address: { socket_address: { address: string } } } }> }> };
const edsHealth = (r: AnyResource) =>
  Object.fromEntries((r as Cla).endpoints.flatMap((l) => l.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, e.health_status])));

/** Every status a Watch on `address` shows for one peer of `skey`, each change once. */
function watchPeer(address: string, skey: string, port: number): { statuses: string[]; close(): void } {
  const c = clients(address);
  const statuses: string[] = [];
  const stream = c.discovery.Watch({ skeys: [skey], knownVersions: {} });
  stream.on('data', (m: WatchResponse__Output) => {
    for (const u of m.upstreams) {
      const peer = u.clusters.flatMap((cl) => cl.peers).find((p) => p.server!.port === port);
      const st = peer?.health?.status;
      if (st !== undefined && st !== 'HEALTH_STATUS_UNCHECKED' && statuses.at(-1) !== st) statuses.push(st);
    }
  });
  stream.on('error', () => undefined);
  return {
    statuses,
    close: () => {
      stream.cancel();
      c.close();
    },
  };
}

async function status(inst: Instance): Promise<GetStatusResponse__Output> {
  const c = clients(inst.grpc);
  try {
    return await call(c.discovery, c.discovery.GetStatus, {});
  } finally {
    c.close();
  }
}


/** The health events an instance's trail holds (AdminService.WatchEvents, not following), with their details. */
function healthTrail(inst: Instance): Promise<Array<{ peer: string; details: Record<string, unknown> }>> {
  const c = clients(inst.grpc);
  return new Promise((resolve, reject) => {
    const out: Array<{ peer: string; details: Record<string, unknown> }> = [];
    const stream = c.admin.WatchEvents({ last: 100_000, kinds: ['health'] }, { deadline: Date.now() + 10_000 });
    stream.on('data', (m: WatchEventsResponse__Output) => out.push(...m.events.map((e) => ({ peer: e.peer, details: structToJson(e.details) as Record<string, unknown> }))));
    stream.on('error', (err) => (c.close(), reject(err)));
    stream.on('end', () => (c.close(), resolve(out)));
  });
}

/** pino's numeric levels. */
const DEBUG = 20;
const INFO = 30;

/** skey -> [version, every peer's heartbeat and passive status]: what must agree across instances. */
function view(st: GetStatusResponse__Output): string {
  return JSON.stringify(
    st.upstreams
      .map((u) => [u.skey, Number(u.version), u.clusters.flatMap((c) => c.peers.map((p) => `${p.server!.port}:${p.health!.status}:${p.passiveStatus}`))] as const)
      .sort((a, b) => (a[0] < b[0] ? -1 : 1)),
  );
}

describe('cluster mode: membership, probe ownership, fencing, shared verdicts', { timeout: 900_000 }, () => {
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
  pas2:
    enable: false
    cluster:
      - servers:
          - { host: 10.9.1.1, port: 80, max_fails: 2, fail_timeout: 3 }
          - { host: 10.9.1.2, port: 80, max_fails: 2, fail_timeout: 3 }
`,
    );
    const started = await Promise.all(['A', 'B', 'C'].map((id) => startInstance({ id, config: join(dir, 'checkups.yaml'), dataDir: join(dir, `data-${id}`), store: redis.url, cluster: 't', args: ['--log-level', 'debug'] })));
    for (const i of started) instances.set(i.id!, i);
  });

  after(async () => {
    for (const i of instances.values()) await i.kill();
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
      if (Date.now() > deadline) {
        // What each instance warned about says which one fell behind and why.
        const warnings = live().map((i) => `${i.id}: ${i.logs.filter((l) => Number(l['level']) >= 40).slice(-8).map((l) => JSON.stringify(l)).join('\n   ')}`);
        const r = redis.client();
        const entries = (await r.xrevrange('checkups:{t}:changes', '+', '-', 'COUNT', 30)) as Array<[string, string[]]>;
        r.disconnect();
        assert.fail(`instances disagree (${what}):\n${last.join('\n')}\nwarnings:\n${warnings.join('\n')}\nstream:\n${entries.map(([id, f]) => `${id} ${f.join(' ').slice(0, 300)}`).join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('every target is probed once per interval across the fleet, and every instance shows the same versions and statuses', async () => {
    // Every instance owns shards, all peers are ok everywhere.
    for (const i of instances.values()) await i.logged((l) => l['msg'] === 'probe ownership changed' && (l['members'] as number) === 3);
    await until(() => backends.ports.every((p) => backends.count(p, 0) > 0), 'every backend to be probed', 10_000);
    const agreedView = await agreed('after start');
    assert.ok(!agreedView.includes('HEALTH_STATUS_UNCHECKED:') || agreedView.includes('"pas"'));
    // What an operator's Prometheus sees: three members everywhere, the 256 shards held once, the
    // verdicts of the first probes published (none refused), every instance at the same revision.
    const scrapeLive = () => Promise.all(live().map((i) => scrape(i.http)));
    const scraped = await scrapeLive();
    for (const m of scraped) assert.equal(m.get('checkups_cluster_members'), 3);
    assert.equal(scraped.reduce((n, m) => n + m.get('checkups_cluster_shards_held')!, 0), DEFAULT_SHARD_COUNT);
    assert.ok(scraped.reduce((n, m) => n + (m.get('checkups_cluster_verdicts_total{result="published"}') ?? 0), 0) >= TARGETS);
    // A verdict may be on its way to some instances: equal within a moment, not necessarily now.
    for (const deadline = Date.now() + 10_000; ; ) {
      const revisions = (await scrapeLive()).map((m) => m.get('checkups_cluster_revision'));
      if (new Set(revisions).size === 1) break;
      if (Date.now() > deadline) assert.fail(`instances at different revisions: ${revisions.join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
    }
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

  it('a write to an upstream or a peer nobody has is NOT_FOUND at once, though the newest entry of the log is a verdict', async () => {
    // Verdicts take revisions of the same log as admin changes: a write that finds nothing waits
    // for the log's head before it says "not found", and must not wait for a change that never comes.
    const r = redis.client();
    const ca = clients(instances.get('A')!.grpc);
    try {
      const [[, newest]] = (await r.xrevrange('checkups:{t}:changes', '+', '-', 'COUNT', 1)) as Array<[string, string[]]> as [[string, string[]]];
      assert.equal(newest[newest.indexOf('kind') + 1], 'verdict', 'the newest entry of the log is a verdict');
      const from = performance.now();
      await assert.rejects(call(ca.admin, ca.admin.AddPeer, { skey: 'nobody', cluster: '1', server: { host: '127.0.0.1', port: 9, weight: 1, maxFails: 0, failTimeoutMs: 0, down: false } }), grpcError(grpc.status.NOT_FOUND, /unknown skey nobody/));
      await assert.rejects(call(ca.admin, ca.admin.SetPeerDown, { skey: 'a', host: '127.0.0.9', port: 9 }), grpcError(grpc.status.NOT_FOUND));
      await assert.rejects(call(ca.admin, ca.admin.DeleteUpstream, { skey: 'nobody' }), grpcError(grpc.status.NOT_FOUND));
      // The store's apply wait is 5 s: answered long before, from the feed's position.
      assert.ok(performance.now() - from < 2000, `answered in ${Math.round(performance.now() - from)} ms`);
    } finally {
      ca.close();
      r.disconnect();
    }
  });

  it('Feedback failures through A and B count in one window: the peer is err for an SDK watching C and for xDS clients of A', async () => {
    const sdk = new CheckupsClient({ servers: instances.get('C')!.grpc, feedback: { flushMs: 10 } });
    const xds = xdsClient(instances.get('A')!.grpc);
    const eds = sotwStream(xds);
    const ca = clients(instances.get('A')!.grpc);
    const cb = clients(instances.get('B')!.grpc);
    try {
      await sdk.ready(60_000);
      eds.send({ node: NODE, type_url: ENDPOINT, resource_names: ['pas'] });
      const first = await eds.next(30_000);
      assert.equal(edsHealth(first.resources[0]!)['10.9.0.1'], 'UNKNOWN');
      eds.send(ack(first, ['pas']));
      // max_fails 2: one failure reported to A, one to B.
      await call(ca.discovery, ca.discovery.Feedback, { skey: 'pas', host: '10.9.0.1', port: 80, failed: true });
      await call(cb.discovery, cb.discovery.Feedback, { skey: 'pas', host: '10.9.0.1', port: 80, failed: true });
      let version = 0;
      const deadline = Date.now() + 20_000;
      for (;;) {
        const st = await status(instances.get('C')!);
        const u = st.upstreams.find((x) => x.skey === 'pas')!;
        if (u.clusters[0]!.peers[0]!.passiveStatus === 'PASSIVE_STATUS_ERR') {
          version = Number(u.version);
          break;
        }
        if (Date.now() > deadline) assert.fail('C never showed the passive exclusion');
        await new Promise((r) => setTimeout(r, 50));
      }
      await sdk.synced(version, 20_000);
      const seen: string[] = [];
      for (let i = 0; i < 10; i++) await sdk.readyOk('pas', (p) => seen.push(p.host));
      assert.deepEqual([...new Set(seen)], ['10.9.0.2'], 'readyOk avoids the excluded peer');
      // xDS on A: UNHEALTHY
      for (;;) {
        const r = await eds.next(20_000);
        eds.send(ack(r, ['pas']));
        if (edsHealth(r.resources[0]!)['10.9.0.1'] === 'UNHEALTHY') break;
      }
      const views = await agreed('after the passive verdict');
      assert.match(views, /"pas",\d+,\["80:HEALTH_STATUS_UNCHECKED:PASSIVE_STATUS_ERR","80:HEALTH_STATUS_UNCHECKED:PASSIVE_STATUS_OK"\]/);
    } finally {
      ca.close();
      cb.close();
      eds.close();
      xds.close();
      await sdk.close();
    }
  });

  it('a transition is logged once across the fleet: at info/warn by the instance that published it, at debug by the others; every trail records it', async () => {
    const ids = ['A', 'B', 'C'];
    const all = () => ids.map((id) => instances.get(id)!);
    /** [instance, level] of every log line matching `pred`, across the three. */
    const lines = (pred: (l: InstanceLogLine) => boolean) => all().flatMap((i) => i.logs.filter(pred).map((l) => [i.id, l.level] as const));
    const atInfo = (pred: (l: InstanceLogLine) => boolean) => lines(pred).filter(([, level]) => level >= INFO);
    const atDebug = (pred: (l: InstanceLogLine) => boolean) => lines(pred).filter(([, level]) => level === DEBUG).map(([id]) => id).sort();

    // Heartbeat: a target of b (the SIGSTOP case below takes one of a) goes down; its owner
    // publishes err.
    const port = backends.ports.slice(TARGETS / 2)[0]!;
    const peer = `127.0.0.1:${port}`;
    const owner = ownerOf(shardOf(targetKeyOf('b', peer), DEFAULT_SHARD_COUNT), ids, DEFAULT_SHARD_COUNT);
    await backends.closePort(port);
    const down = (l: InstanceLogLine) => l['module'] === 'events' && l['peer'] === peer && l['to'] === 'err';
    for (const i of all()) await i.logged(down, 20_000);
    assert.deepEqual(atInfo(down), [[owner, 40]], `one warn line, by the probe owner ${owner}`);
    assert.deepEqual(atDebug(down), ids.filter((id) => id !== owner), 'debug on the others');

    // Passive: both failures reported to C, so C's script publishes the exclusion; the lift
    // (fail_timeout 3 s) is published by whichever instance lifts first.
    const cc = clients(instances.get('C')!.grpc);
    try {
      for (let n = 0; n < 2; n++) await call(cc.discovery, cc.discovery.Feedback, { skey: 'pas2', host: '10.9.1.1', port: 80, failed: true });
    } finally {
      cc.close();
    }
    const passive = (to: string) => (l: InstanceLogLine) => l['module'] === 'events' && l['skey'] === 'pas2' && l['cause'] === 'passive' && l['to'] === to;
    for (const i of all()) await i.logged(passive('err'), 20_000);
    assert.deepEqual(atInfo(passive('err')), [['C', 40]], 'one warn line, by C');
    assert.deepEqual(atDebug(passive('err')), ['A', 'B']);
    for (const i of all()) await i.logged(passive('ok'), 20_000);
    const lifted = atInfo(passive('ok'));
    assert.equal(lifted.length, 1, `one info line for the lift: ${JSON.stringify(lifted)}`);
    assert.equal(atDebug(passive('ok')).length, 2);

    // Every instance's own event trail has all three transitions.
    for (const i of all()) {
      const trail = await healthTrail(i);
      assert.ok(trail.some((e) => e.peer === peer && e.details['to'] === 'err' && e.details['cause'] === 'active'), `${i.id}: the heartbeat flip`);
      assert.ok(trail.some((e) => e.peer === '10.9.1.1:80' && e.details['to'] === 'err' && e.details['cause'] === 'passive'), `${i.id}: the exclusion`);
      assert.ok(trail.some((e) => e.peer === '10.9.1.1:80' && e.details['to'] === 'ok' && e.details['cause'] === 'passive'), `${i.id}: the lift`);
    }
  });

  it('SIGSTOP an instance past its lease, then SIGCONT: the others take over, nothing flaps, it rejoins', async () => {
    const paused = instances.get('C')!;
    // A target C probes now (same shard map as the instances), and Watch streams on A and B
    // recording every status that target is shown with.
    const port = backends.ports.slice(0, TARGETS / 2).find((p) => ownerOf(shardOf(targetKeyOf('a', `127.0.0.1:${p}`), DEFAULT_SHARD_COUNT), ['A', 'B', 'C'], DEFAULT_SHARD_COUNT) === 'C')!;
    assert.ok(port !== undefined);
    const watchers = ['A', 'B'].map((id) => watchPeer(instances.get(id)!.grpc, 'a', port));
    try {
      await until(() => watchers.every((w) => w.statuses.at(-1) === 'HEALTH_STATUS_OK'), 'the target to be ok on A and B', 20_000);
      const logsBefore = ['A', 'B'].map((id) => instances.get(id)!.logs.length);
      paused.child.kill('SIGSTOP');
      // A and B see C gone and take its shards.
      await Promise.all(
        ['A', 'B'].map((id, k) => {
          const i = instances.get(id)!;
          return until(() => i.logs.slice(logsBefore[k]).some((l) => l['msg'] === 'probe ownership changed' && l['members'] === 2), `${id} to take over`, 30_000);
        }),
      );
      // The target goes down while C sleeps: its new owner publishes err.
      await backends.closePort(port);
      await until(() => watchers.every((w) => w.statuses.at(-1) === 'HEALTH_STATUS_ERR'), 'err on A and B', 20_000);
      const refusedBefore = paused.logs.filter((l) => String(l['msg']).startsWith('verdicts refused')).length;
      paused.child.kill('SIGCONT');
      await paused.logged((l) => l['msg'] === 'probe ownership changed' && l['members'] === 3 && (l['shards'] as number) > 0, 30_000);
      // Two more intervals with C back: no status change of the target anywhere.
      await new Promise((r) => setTimeout(r, 2 * INTERVAL_MS));
      for (const w of watchers) assert.deepEqual(w.statuses, ['HEALTH_STATUS_OK', 'HEALTH_STATUS_ERR'], 'no flapping');
      const views = await agreed('after SIGCONT');
      assert.match(views, new RegExp(`"${port}:HEALTH_STATUS_ERR:`));
      const refused = paused.logs.filter((l) => String(l['msg']).startsWith('verdicts refused')).length - refusedBefore;
      process.stdout.write(`# late verdicts of the paused instance refused by the fence: ${refused}\n`);
    } finally {
      for (const w of watchers) w.close();
    }
  });

  it('kill -9 of one instance: its targets are probed again within 2 intervals; the rest agree', async () => {
    const victim = instances.get('B')!;
    const killedAt = performance.now();
    await victim.kill();
    const deadline = killedAt + 2 * INTERVAL_MS;
    await new Promise((r) => setTimeout(r, 3 * INTERVAL_MS));
    const open = backends.ports.filter((p) => !backends.closed.has(p));
    const late = open.filter((p) => backends.count(p, killedAt, deadline) === 0);
    assert.deepEqual(late, [], `targets not probed within 2 intervals of the kill: ${late.length} of ${open.length}`);
    // and once per interval again, by two instances
    const from = performance.now();
    await new Promise((r) => setTimeout(r, 6 * INTERVAL_MS));
    const to = performance.now();
    const mean = open.reduce((n, p) => n + backends.count(p, from, to), 0) / open.length / ((to - from) / INTERVAL_MS);
    assert.ok(mean <= 1.05 && mean >= 0.85, `probes per target per interval after the takeover: ${mean.toFixed(3)}`);
    await agreed('after the kill');
  });
});
