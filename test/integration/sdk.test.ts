/**
 * The client SDK against real servers on loopback: parity of local picks with SelectPeer RPCs,
 * a server that dies and comes back, feedback that reaches the server's passive state, the
 * SelectPeer fallback for upstreams not in the cache, failover between servers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckupsClient, CheckupsError, type SelectedPeer } from '../../src/client/index.ts';
import type { Checkups } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';
import { jsonToValue } from '../../src/wire/struct.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';
import { until } from '../support/async.ts';

const CONFIG = `
upstreams:
  wrr:
    cluster:
      - servers:
          - { host: 10.0.0.1, port: 80, weight: 1 }
          - { host: 10.0.0.2, port: 80, weight: 4 }
          - { host: 10.0.0.3, port: 80, weight: 3 }
          - { host: 10.0.0.4, port: 80, weight: 6 }
      - servers: [ { host: 10.0.1.1, port: 80 } ]
  hashed:
    mode: hash
    cluster:
      dc1: { servers: [ { host: 10.1.0.1, port: 80 }, { host: 10.1.0.2, port: 80, weight: 2 }, { host: 10.1.0.3, port: 80 } ] }
      dc2: { servers: [ { host: 10.2.0.1, port: 80 } ] }
  passive:
    cluster:
      - servers:
          - { host: 10.3.0.1, port: 80, max_fails: 2, fail_timeout: 30 }
          - { host: 10.3.0.2, port: 80, max_fails: 2, fail_timeout: 30 }
  other:
    cluster: [ { servers: [ { host: 10.4.0.1, port: 80 } ] } ]
  drained:
    cluster: [ { servers: [ { host: 10.5.0.1, port: 80, down: true } ] } ]
`;

const hp = (p: SelectedPeer | { host: string; port: number }) => `${p.host}:${p.port}`;

describe('client SDK', () => {
  let dir: string;
  const servers: Checkups[] = [];

  async function serve(name: string, grpcListen = '127.0.0.1:0'): Promise<Checkups> {
    const s = await startTestServer(dir, { grpcListen, dataDir: join(dir, name) });
    servers.push(s);
    return s;
  }

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-sdk-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
  });

  after(async () => {
    for (const s of servers) await s.stop(100).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('local picks give the same sequences as SelectPeer RPCs (wrr, levels, hash, cluster_key, health changes)', async () => {
    // Two servers with identical state: one answers RPCs, the other feeds the SDK.
    const rpcServer = await serve('parity-rpc');
    const sdkServer = await serve('parity-sdk');
    const c = clients(rpcServer.grpcAddress);
    const sdk = new CheckupsClient({ servers: sdkServer.grpcAddress });
    try {
      await sdk.ready();
      const rpc = async (skey: string, extra: object = {}) => hp((await call(c.discovery, c.discovery.SelectPeer, { skey, ...extra })).peer!);
      const scenario: Array<[string, object, object]> = [
        ...Array.from({ length: 28 }, (): [string, object, object] => ['wrr', {}, {}]),
        ...['a', 'b', 'c', 'a', 'user-7'].map((k): [string, object, object] => ['hashed', { hashKey: k }, { hashKey: k }]),
        ['hashed', { clusterKey: ['dc2'] }, { clusterKey: ['dc2'] }],
        ['wrr', { clusterKey: ['2'] }, { clusterKey: [2] }],
      ];
      const viaRpc: string[] = [];
      const viaSdk: string[] = [];
      for (const [skey, rpcOpts, sdkOpts] of scenario) {
        viaRpc.push(await rpc(skey, rpcOpts));
        viaSdk.push(hp(sdk.pick(skey, sdkOpts)));
      }
      assert.deepEqual(viaSdk, viaRpc);
      assert.equal(viaSdk.slice(0, 28).map((p) => 'ABCE'[Number(p.split('.')[3]!.split(':')[0]) - 1]).join(''), 'EBCEBEACEBECBEEBCEBEACEBECBE');
      // Take every level-1 server of `wrr` down on both servers: both fall through to level 2.
      for (const s of [rpcServer, sdkServer]) {
        const admin = clients(s.grpcAddress);
        for (let i = 1; i <= 4; i++) await call(admin.admin, admin.admin.SetPeerDown, { skey: 'wrr', host: `10.0.0.${i}`, port: 80 });
        admin.close();
      }
      await until(() => hp(sdk.pick('wrr')) === '10.0.1.1:80', 'the SDK to see the downs');
      assert.equal(await rpc('wrr'), '10.0.1.1:80');
    } finally {
      c.close();
      await sdk.close();
    }
  });

  it('keeps picking from its snapshot while the server is away, and resumes when it is back', async () => {
    const first = await serve('restart');
    const address = first.grpcAddress;
    const sdk = new CheckupsClient({ servers: address });
    try {
      await sdk.ready();
      assert.equal(sdk.status().connectedTo, address);
      await first.stop(100);
      await until(() => sdk.status().connectedTo === null, 'the SDK to notice');
      for (let i = 0; i < 5; i++) assert.ok(sdk.pick('other'));
      await new Promise((r) => setTimeout(r, 150));
      assert.ok(sdk.status().staleMs >= 100, `stale for ${sdk.status().staleMs} ms`);
      // Back on the same address and data dir, with a change made while the SDK was away.
      const second = await serve('restart', address);
      const admin = clients(second.grpcAddress);
      await call(admin.admin, admin.admin.UpdateUpstream, { skey: 'other', cluster: jsonToValue([{ servers: [{ host: '10.4.0.9', port: 80 }] }]) });
      admin.close();
      await until(() => sdk.status().connectedTo === address, 'the SDK to reconnect', 10_000);
      await until(() => hp(sdk.pick('other')) === '10.4.0.9:80', 'the change to arrive');
    } finally {
      await sdk.close();
    }
  });

  it("readyOk's failed attempts reach the server as feedback and mark the peer down there (max_fails)", async () => {
    const server = await serve('feedback');
    const sdk = new CheckupsClient({ servers: server.grpcAddress, feedback: { flushMs: 10 } });
    const c = clients(server.grpcAddress);
    try {
      await sdk.ready();
      let bad = 0;
      for (let i = 0; i < 10 && bad < 2; i++) {
        await sdk.readyOk('passive', (peer) => {
          if (peer.host === '10.3.0.1') {
            bad++;
            throw new Error('connection refused');
          }
          return 'ok';
        });
      }
      assert.equal(bad, 2);
      await until(() => sdk.status().feedbackQueued === 0, 'feedback to be sent');
      const st = await call(c.discovery, c.discovery.GetStatus, {});
      const peer = st.upstreams.find((u) => u.skey === 'passive')!.clusters[0]!.peers[0]!;
      assert.equal(peer.passiveStatus, 'PASSIVE_STATUS_ERR');
      for (let i = 0; i < 4; i++) assert.equal((await call(c.discovery, c.discovery.SelectPeer, { skey: 'passive' })).peer!.host, '10.3.0.2');
      assert.ok(sdk.pick('passive').host === '10.3.0.2', 'locally down too');
    } finally {
      c.close();
      await sdk.close();
    }
  });

  it('an upstream outside the watched set: SelectPeer RPC first, then local picks', async () => {
    const server = await serve('fallback');
    const sdk = new CheckupsClient({ servers: server.grpcAddress, upstreams: ['wrr'] });
    try {
      await sdk.ready();
      assert.throws(() => sdk.pick('other'), /unknown skey other/);
      assert.equal(hp(await sdk.selectPeer('other')), '10.4.0.1:80');
      await until(() => sdk.status().upstreams === 2, 'other to be watched');
      assert.equal(hp(sdk.pick('other')), '10.4.0.1:80');
      await assert.rejects(sdk.selectPeer('nope'), (e: CheckupsError) => e.code === 'UNKNOWN_SKEY' && /unknown skey nope/.test(e.message));
      // UNAVAILABLE on the wire either way: the code travels as a structured detail.
      await assert.rejects(sdk.selectPeer('drained'), (e: CheckupsError) => e instanceof CheckupsError && e.code === 'NO_SERVERS_AVAILABLE');
      assert.equal(await sdk.readyOk('hashed', () => 'done', { hashKey: 'x' }), 'done', 'readyOk waits for the upstream to arrive');
    } finally {
      await sdk.close();
    }
  });

  it('fails over to the next server when the first is unreachable; ready() times out when none answers', async () => {
    const server = await serve('failover');
    const sdk = new CheckupsClient({ servers: ['127.0.0.1:1', server.grpcAddress] });
    try {
      await sdk.ready(5000);
      assert.equal(sdk.status().connectedTo, server.grpcAddress);
    } finally {
      await sdk.close();
    }
    const none = new CheckupsClient({ servers: ['127.0.0.1:1'], channelOptions: { 'grpc.initial_reconnect_backoff_ms': 50 } });
    await assert.rejects(none.ready(300), /no snapshot from 127\.0\.0\.1:1 within 300 ms/);
    await assert.rejects(none.selectPeer('wrr'), (e: CheckupsError) => e instanceof CheckupsError && e.code === 'SERVER_UNAVAILABLE');
    await none.close();
  });
});
