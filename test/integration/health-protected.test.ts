/**
 * A whole upstream failing, with real probes on loopback: with `protected` on, the first server
 * is kept unstable (still selectable); off, every server is err and selection has nothing.
 * When one server comes back, the protected one is err again. Through a real server, every status
 * surface (GetStatus, Watch, /status, events) shows the protected peer's real probe result and why
 * it is kept.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { describe, it } from 'node:test';
import { SelectionEngine } from '../../src/balance/selection-engine.ts';
import { parseConfig } from '../../src/config/validate.ts';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import { HealthChecker } from '../../src/health/health-checker.ts';
import { runProbe } from '../../src/health/probes/index.ts';
import { systemClock } from '../../src/util/clock.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { until } from '../support/async.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import type { CheckupsEvent } from '../../src/observability/events.ts';
import { call, clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';

async function freePort(): Promise<number> {
  const s = createServer().listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  s.close();
  await once(s, 'close');
  return port;
}

describe('a whole upstream failing (real tcp probes)', () => {
  for (const isProtected of [true, false]) {
    it(`protected: ${isProtected}`, async () => {
      const ports = [await freePort(), await freePort(), await freePort()];
      const parsed = parseConfig({
        global: { checkup_timer_interval: 0.1 },
        upstreams: { svc: { protected: isProtected, timeout: 1, cluster: [{ servers: ports.slice(0, 2).map((port) => ({ host: '127.0.0.1', port })) }, { servers: [{ host: '127.0.0.1', port: ports[2] }] }] } },
      });
      assert.ok(parsed.ok);
      const registry = UpstreamRegistry.fromConfig(parsed.value);
      const engine = new SelectionEngine(registry, systemClock);
      const checker = new HealthChecker(registry, { clock: systemClock, probe: runProbe });
      const status = () => ports.map((p) => registry.upstream('svc')!.health(`127.0.0.1:${p}`)?.status);
      let revived: Server | undefined;
      checker.start();
      try {
        await until(() => status().every((s) => s !== undefined), 'every server probed');
        assert.deepEqual(status(), [isProtected ? 'unstable' : 'err', 'err', 'err']);
        assert.equal(registry.upstream('svc')!.health(`127.0.0.1:${ports[1]}`)!.msg, 'connection refused');
        if (isProtected) assert.equal(engine.selectPeer('svc').port, ports[0], 'the protected server stays selectable');
        else assert.throws(() => engine.selectPeer('svc'), (e: unknown) => e instanceof CheckupsError && e.code === 'NO_SERVERS_AVAILABLE');
        // The level-2 server comes back: every failing server is err, selection falls through to it.
        revived = createServer((s) => s.destroy()).listen(ports[2], '127.0.0.1');
        await once(revived, 'listening');
        await until(() => status()[2] === 'ok', 'the revived server to be ok');
        assert.deepEqual(status(), ['err', 'err', 'ok']);
        assert.equal(engine.selectPeer('svc').port, ports[2]);
      } finally {
        checker.stop();
        revived?.close();
      }
    });
  }
});

describe('honest protection on every status surface (real server, real probes)', () => {
  it('GetStatus, Watch, /status and events show unstable + protected + the real probe result', async () => {
    const ports = [await freePort(), await freePort()];
    const dir = mkdtempSync(join(tmpdir(), 'checkups-protected-'));
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `global: { checkup_timer_interval: 0.1 }
upstreams:
  svc:
    timeout: 1
    cluster:
      - servers: [ { host: 127.0.0.1, port: ${ports[0]} }, { host: 127.0.0.1, port: ${ports[1]} } ]
`,
    );
    const server = await startTestServer(dir, { healthChecks: true });
    const c = clients(server.grpcAddress);
    const watched: WatchResponse__Output[] = [];
    const stream = c.discovery.Watch({ skeys: ['svc'] });
    stream.on('data', (m: WatchResponse__Output) => watched.push(m));
    stream.on('error', () => {});
    try {
      await until(() => watched.some((m) => m.upstreams.some((u) => u.clusters[0]!.peers[0]!.health!.protected)), 'Watch to show the protected peer', 10_000);
      const peers = (await call(c.discovery, c.discovery.GetStatus, {})).upstreams.find((u) => u.skey === 'svc')!.clusters[0]!.peers;
      const h = peers[0]!.health!;
      assert.equal(h.status, 'HEALTH_STATUS_UNSTABLE', 'selectable, as in the original');
      assert.equal(h.probeStatus, 'HEALTH_STATUS_ERR', 'its probes fail');
      assert.equal(h.protected, true);
      assert.match(h.protectedReason, /every peer of the upstream fails its probes/);
      assert.equal(h.msg, 'connection refused');
      assert.equal(peers[1]!.health!.protected, false);
      assert.equal(peers[1]!.health!.status, 'HEALTH_STATUS_ERR');
      const snap = watched.flatMap((m) => m.upstreams).at(-1)!.clusters[0]!.peers[0]!.health!;
      assert.equal(snap.probeStatus, 'HEALTH_STATUS_ERR');
      assert.match(snap.protectedReason, /protected keeps the first one/);
      const lua = (await (await fetch(`http://${server.httpAddress}/status`)).json()) as Record<string, Array<Array<Record<string, unknown>>>>;
      const peer = lua['cls:svc']![0]![0]!;
      assert.equal(peer['status'], 'unstable', "the original's shape");
      assert.equal(peer['probe_status'], 'err');
      assert.equal(peer['protected'], true);
      assert.match(String(peer['protected_reason']), /every peer of the upstream fails/);
      assert.equal(lua['cls:svc']![0]![1]!['protected'], undefined);
      // The event log says it too: the real probe result and the reason.
      const events: CheckupsEvent[] = [];
      server.events.follow({ afterSeq: 0, write: (e) => (events.push(e), true) });
      const ev = events.find((e) => e.kind === 'health' && e.peer === `127.0.0.1:${ports[0]}` && e.details['to'] === 'unstable');
      assert.ok(ev !== undefined, `no protected transition in ${JSON.stringify(events.map((e) => e.message))}`);
      assert.equal(ev.details['protected'], true);
      assert.equal(ev.details['probe_status'], 'err');
      assert.match(ev.message, /protected \(probe err\): every peer of the upstream fails/);
    } finally {
      stream.cancel();
      c.close();
      await server.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
