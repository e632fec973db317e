/**
 * The engine on the real clock against real loopback sockets: a live server, a refused port
 * and a blackhole that accepts and never answers. Loads the shipped example config from disk.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SelectionEngine, type SelectedPeer } from '../../src/balance/selection-engine.ts';
import { loadConfigFile } from '../../src/config/load.ts';
import { parseUpstream } from '../../src/config/validate.ts';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import { systemClock } from '../../src/util/clock.ts';
import { CheckupsError } from '../../src/util/errors.ts';

async function listen(onSocket: (s: Socket) => void): Promise<{ server: Server; port: number }> {
  const server = createServer(onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

/** Connects, writes "ping", resolves with the reply; rejects on error, abort or 2 s. */
function ping(peer: SelectedPeer, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect(peer.port, peer.host);
    const fail = (err: unknown) => {
      sock.destroy();
      reject(err);
    };
    const timer = setTimeout(() => fail(new Error('read timeout')), 2000);
    signal?.addEventListener('abort', () => fail(signal.reason), { once: true });
    sock.on('error', fail);
    sock.on('data', (d) => {
      clearTimeout(timer);
      sock.end();
      resolve(d.toString());
    });
    sock.on('close', () => clearTimeout(timer));
    sock.write('ping');
  });
}

describe('readyOk over real sockets', () => {
  let live: { server: Server; port: number };
  let blackhole: { server: Server; port: number };
  let refusedPort: number;
  const held: Socket[] = [];

  before(async () => {
    live = await listen((s) => s.on('data', () => s.end('pong')));
    blackhole = await listen((s) => held.push(s));
    const tmp = await listen(() => {});
    refusedPort = tmp.port;
    tmp.server.close();
    await once(tmp.server, 'close');
  });

  after(() => {
    for (const s of held) s.destroy();
    live.server.close();
    blackhole.server.close();
  });

  function engineFor(cluster: unknown, extra: object = {}) {
    const registry = new UpstreamRegistry(loadConfigFile('examples/checkups.yaml').global);
    const parsed = parseUpstream('svc', { cluster, ...extra });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.errors.join('\n'));
    registry.put(parsed.value);
    return new SelectionEngine(registry, systemClock);
  }

  it('the shipped example config loads', () => {
    const cfg = loadConfigFile('examples/checkups.yaml');
    assert.deepEqual([...cfg.upstreams.keys()], ['api', 'sessions', 'db']);
    assert.equal(cfg.upstreams.get('api')!.tryTimeoutMs, 1500);
  });

  it('fails over from a refused port to the live server, and marks the dead one passively', async () => {
    const engine = engineFor({
      1: { servers: [{ host: '127.0.0.1', port: refusedPort, max_fails: 1, fail_timeout: 30 }] },
      2: { servers: [{ host: '127.0.0.1', port: live.port }] },
    });
    const seen: number[] = [];
    const reply = await engine.readyOk('svc', (peer, { signal }) => {
      seen.push(peer.port);
      return ping(peer, signal);
    });
    assert.equal(reply, 'pong');
    assert.deepEqual(seen, [refusedPort, live.port]);
    assert.equal(engine.selectPeer('svc').port, live.port, 'the refused server is passively down now');
  });

  it('try_timeout cuts a call short when a blackhole eats the budget, and the attempt signal fires', async () => {
    const engine = engineFor({ 1: { servers: [{ host: '127.0.0.1', port: blackhole.port }, { host: '127.0.0.1', port: refusedPort }] } }, { try_timeout: 0.3, mode: 'hash' });
    const started = performance.now();
    const reasons: unknown[] = [];
    await assert.rejects(
      engine.readyOk(
        'svc',
        (peer, { signal }) =>
          ping(peer, signal).catch((err: unknown) => {
            reasons.push(err);
            throw err;
          }),
        { hashKey: 'k', try: 5 },
      ),
      (err: unknown) => err instanceof CheckupsError && err.code === 'TRY_TIMEOUT_EXCEEDED',
    );
    const took = performance.now() - started;
    assert.ok(took >= 250 && took < 1500, `took ${took.toFixed(0)} ms`);
    assert.ok(reasons.some((r) => r instanceof CheckupsError && r.code === 'TRY_TIMEOUT_EXCEEDED'), 'the blackhole attempt was aborted by the budget');
  });
});
