/**
 * A whole upstream failing, with real probes on loopback: with `protected` on, the first server
 * is kept unstable (still selectable); off, every server is err and selection has nothing.
 * When one server comes back, the protected one is err again.
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
