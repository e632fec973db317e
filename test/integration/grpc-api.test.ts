/**
 * Every RPC of checkups.v1 through a real grpc-js client against a real server on loopback:
 * results, error codes, validation with field paths, auth, restart durability.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Checkups } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';
import { jsonToStruct, jsonToValue, structToJson } from '../../src/wire/struct.ts';
import { bearer, call, clients, grpcError, type Clients } from '../support/grpc-clients.ts';

const CONFIG = `
upstreams:
  api:
    try: 2
    timeout: 2
    send_timeout: 3
    cluster:
      - servers:
          - { host: 127.0.0.1, port: 9001, weight: 2, max_fails: 2, fail_timeout: 30 }
          - { host: 127.0.0.1, port: 9002 }
      - servers:
          - { host: 127.0.0.1, port: 9003 }
  hashed:
    mode: hash
    cluster:
      dc1: { servers: [ { host: 10.0.0.1, port: 80 }, { host: 10.0.0.2, port: 80 }, { host: 10.0.0.3, port: 80 } ] }
  empty:
    cluster: [ { servers: [] } ]
`;

const TOKEN = 'test-admin-token-0123456789';

describe('gRPC API', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  const md = () => bearer(TOKEN);

  async function start(): Promise<void> {
    server = await startTestServer(dir, { adminToken: TOKEN, maxMessageBytes: 256 * 1024 });
    c = clients(server.grpcAddress);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-grpc-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    await start();
  });

  after(async () => {
    c.close();
    await server.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('DiscoveryService', () => {
    it('SelectPeer follows smooth WRR in level 1', async () => {
      const picks: string[] = [];
      for (let i = 0; i < 3; i++) {
        const res = await call(c.discovery, c.discovery.SelectPeer, { skey: 'api' });
        picks.push(`${res.peer!.host}:${res.peer!.port}/${res.peer!.cluster}/${res.peer!.status}`);
      }
      assert.deepEqual(picks, ['127.0.0.1:9001/1/HEALTH_STATUS_UNCHECKED', '127.0.0.1:9002/1/HEALTH_STATUS_UNCHECKED', '127.0.0.1:9001/1/HEALTH_STATUS_UNCHECKED']);
    });

    it('SelectPeer: hash keys are sticky; cluster_key selects clusters', async () => {
      const a = await call(c.discovery, c.discovery.SelectPeer, { skey: 'hashed', hashKey: 'user-42' });
      for (let i = 0; i < 5; i++) assert.equal((await call(c.discovery, c.discovery.SelectPeer, { skey: 'hashed', hashKey: 'user-42' })).peer!.host, a.peer!.host);
      const l2 = await call(c.discovery, c.discovery.SelectPeer, { skey: 'api', clusterKey: ['2'] });
      assert.equal(l2.peer!.port, 9003);
    });

    it('SelectPeer errors: NOT_FOUND, UNAVAILABLE, INVALID_ARGUMENT', async () => {
      await assert.rejects(call(c.discovery, c.discovery.SelectPeer, { skey: 'nope' }), grpcError(grpc.status.NOT_FOUND, /unknown skey nope/));
      await assert.rejects(call(c.discovery, c.discovery.SelectPeer, { skey: 'empty' }), grpcError(grpc.status.UNAVAILABLE, /no servers available in upstream empty/));
      await assert.rejects(call(c.discovery, c.discovery.SelectPeer, { skey: '' }), grpcError(grpc.status.INVALID_ARGUMENT, /skey: is required/));
    });

    it('Feedback: max_fails failures take a peer out; unknown peers are NOT_FOUND', async () => {
      for (let i = 0; i < 2; i++) await call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 9001, failed: true });
      for (let i = 0; i < 4; i++) assert.equal((await call(c.discovery, c.discovery.SelectPeer, { skey: 'api' })).peer!.port, 9002);
      await assert.rejects(call(c.discovery, c.discovery.Feedback, { skey: 'api', host: '127.0.0.1', port: 1, failed: true }), grpcError(grpc.status.NOT_FOUND, /unknown peer 127\.0\.0\.1:1 in upstream api/));
      await assert.rejects(call(c.discovery, c.discovery.Feedback, { skey: 'api', host: 'x', port: 0, failed: true }), grpcError(grpc.status.INVALID_ARGUMENT, /port/));
      const st = await call(c.discovery, c.discovery.GetStatus, {});
      const peer = st.upstreams.find((u) => u.skey === 'api')!.clusters[0]!.peers[0]!;
      assert.equal(peer.passiveStatus, 'PASSIVE_STATUS_ERR');
      assert.equal(peer.passiveFailedCount, 2);
    });

    it('GetStatus lists every upstream with peers and checker state; GetUpsTimeout', async () => {
      const st = await call(c.discovery, c.discovery.GetStatus, {});
      assert.deepEqual(
        st.upstreams.map((u) => u.skey),
        ['api', 'hashed', 'empty'],
      );
      const hashed = st.upstreams.find((u) => u.skey === 'hashed')!;
      assert.equal(hashed.clusters[0]!.key, 'dc1');
      assert.equal(hashed.clusters[0]!.peers.length, 3);
      assert.ok(st.revision > 0 && st.startTimeMs > 0);
      assert.deepEqual(await call(c.discovery, c.discovery.GetUpsTimeout, { skey: 'api' }), { connectMs: 2000, sendMs: 3000, readMs: 2000 });
      await assert.rejects(call(c.discovery, c.discovery.GetUpsTimeout, { skey: 'nope' }), grpcError(grpc.status.NOT_FOUND));
    });
  });

  describe('AdminService', () => {
    it('needs the bearer token (discovery does not)', async () => {
      await assert.rejects(call(c.admin, c.admin.ListUpstreams, {}), grpcError(grpc.status.UNAUTHENTICATED, /authorization: Bearer/));
      await assert.rejects(call(c.admin, c.admin.ListUpstreams, {}, bearer('wrong-token')), grpcError(grpc.status.UNAUTHENTICATED, /rejected/));
      const list = await call(c.admin, c.admin.ListUpstreams, {}, md());
      assert.deepEqual(
        list.upstreams.map((u) => [u.skey, u.servers]),
        [
          ['api', 3],
          ['hashed', 3],
          ['empty', 0],
        ],
      );
    });

    it('UpdateUpstream (full document) creates an upstream; GetUpstream returns it with defaults', async () => {
      const doc = { typ: 'http', mode: 'hash', http_opts: { statuses: { '502': false } }, cluster: [{ servers: [{ host: '127.0.0.1', port: 9100 }] }] };
      const res = await call(c.admin, c.admin.UpdateUpstream, { skey: 'web', upstream: jsonToStruct(doc) }, md());
      assert.ok(res.version > 0);
      const got = await call(c.admin, c.admin.GetUpstream, { skey: 'web' }, md());
      assert.equal(got.version, res.version);
      const stored = structToJson(got.upstream);
      assert.equal(stored['mode'], 'hash');
      assert.equal(stored['timeout'], 5);
      assert.deepEqual(stored['cluster'], { '1': { servers: [{ host: '127.0.0.1', port: 9100, weight: 1, max_fails: 0, fail_timeout: 10 }] } });
      assert.equal((await call(c.discovery, c.discovery.SelectPeer, { skey: 'web', hashKey: 'k' })).peer!.port, 9100);
    });

    it('UpdateUpstream (cluster only) keeps the stored options and replaces the clusters', async () => {
      const res = await call(c.admin, c.admin.UpdateUpstream, { skey: 'web', cluster: jsonToValue({ dc1: { servers: [{ host: '127.0.0.1', port: 9200 }] } }) }, md());
      const stored = structToJson((await call(c.admin, c.admin.GetUpstream, { skey: 'web' }, md())).upstream);
      assert.equal(stored['mode'], 'hash', 'options kept');
      assert.deepEqual(Object.keys(stored['cluster'] as object), ['dc1']);
      assert.ok(res.version > 0);
    });

    it('bad input: every error with its path, nothing changed', async () => {
      const before = (await call(c.admin, c.admin.GetUpstream, { skey: 'web' }, md())).version;
      const bad = { typ: 'htp', bogus: 1, cluster: [{ servers: [{ host: '127.0.0.1', port: '80' }, { host: 'a', port: 70000, weight: -1 }] }, { servers: [] }] };
      await assert.rejects(call(c.admin, c.admin.UpdateUpstream, { skey: 'web', upstream: jsonToStruct(bad) }, md()), (err: unknown) => {
        grpcError(grpc.status.INVALID_ARGUMENT)(err);
        const details = (err as grpc.ServiceError).details;
        for (const line of [
          'nothing changed',
          'upstream.typ: must be one of general, http, redis, mysql, grpc',
          'upstream.bogus: unknown field',
          'upstream.cluster[0].servers[0].port: must be an integer 1..65535 (got the string "80")',
          'upstream.cluster[0].servers[1].port: must be an integer 1..65535',
          'upstream.cluster[0].servers[1].weight: must be an integer 1..2147483647',
          'upstream.cluster[1].servers: must list at least one server in an update',
        ]) {
          assert.ok(details.includes(line), `missing ${JSON.stringify(line)} in:\n${details}`);
        }
        return true;
      });
      await assert.rejects(call(c.admin, c.admin.UpdateUpstream, { skey: 'web' }, md()), grpcError(grpc.status.INVALID_ARGUMENT, /one of them is required/));
      await assert.rejects(call(c.admin, c.admin.UpdateUpstream, { skey: 'bad skey', cluster: jsonToValue([]) }, md()), grpcError(grpc.status.INVALID_ARGUMENT, /skey/));
      // A cluster-only update with no levels is refused (the original: "can not set empty upstream").
      for (const empty of [[], {}]) {
        await assert.rejects(call(c.admin, c.admin.UpdateUpstream, { skey: 'fresh', cluster: jsonToValue(empty) }, md()), grpcError(grpc.status.INVALID_ARGUMENT, /cluster: an update must list at least one level/));
      }
      await assert.rejects(call(c.admin, c.admin.GetUpstream, { skey: 'fresh' }, md()), grpcError(grpc.status.NOT_FOUND));
      assert.equal((await call(c.admin, c.admin.GetUpstream, { skey: 'web' }, md())).version, before);
    });

    it('peer operations: add, update, down, up, remove, with durable versions', async () => {
      const v1 = (await call(c.admin, c.admin.AddPeer, { skey: 'api', cluster: '2', server: { host: '127.0.0.1', port: 9004, weight: 3 } }, md())).version;
      let servers = await call(c.admin, c.admin.GetServers, { skey: 'api' }, md());
      assert.equal(servers.version, v1);
      assert.deepEqual(
        servers.clusters[1]!.peers.map((p) => [p.server!.port, p.server!.weight]),
        [
          [9003, 1],
          [9004, 3],
        ],
      );
      await call(c.admin, c.admin.UpdatePeer, { skey: 'api', host: '127.0.0.1', port: 9004, weight: 7, maxFails: 1 }, md());
      await call(c.admin, c.admin.SetPeerDown, { skey: 'api', host: '127.0.0.1', port: 9003 }, md());
      servers = await call(c.admin, c.admin.GetServers, { skey: 'api' }, md());
      assert.deepEqual(
        servers.clusters[1]!.peers.map((p) => [p.server!.port, p.server!.weight, p.server!.maxFails, p.server!.down]),
        [
          [9003, 1, 0, true],
          [9004, 7, 1, false],
        ],
      );
      for (let i = 0; i < 3; i++) assert.equal((await call(c.discovery, c.discovery.SelectPeer, { skey: 'api', clusterKey: ['2'] })).peer!.port, 9004);
      await call(c.admin, c.admin.SetPeerUp, { skey: 'api', host: '127.0.0.1', port: 9003 }, md());
      const v2 = (await call(c.admin, c.admin.RemovePeer, { skey: 'api', host: '127.0.0.1', port: 9004 }, md())).version;
      assert.ok(v2 > v1);
      servers = await call(c.admin, c.admin.GetServers, { skey: 'api' }, md());
      assert.deepEqual(
        servers.clusters[1]!.peers.map((p) => [p.server!.port, p.server!.down]),
        [[9003, false]],
      );
    });

    it('peer operation errors name the problem', async () => {
      await assert.rejects(call(c.admin, c.admin.SetPeerDown, { skey: 'api', host: '127.0.0.1', port: 1 }, md()), grpcError(grpc.status.NOT_FOUND, /unknown peer 127\.0\.0\.1:1 in upstream api/));
      await assert.rejects(call(c.admin, c.admin.AddPeer, { skey: 'nope', server: { host: 'a', port: 1 } }, md()), grpcError(grpc.status.NOT_FOUND, /unknown skey nope/));
      await assert.rejects(call(c.admin, c.admin.AddPeer, { skey: 'api', server: { host: '127.0.0.1', port: 9002 } }, md()), grpcError(grpc.status.INVALID_ARGUMENT, /duplicate server 127\.0\.0\.1:9002/));
      await assert.rejects(call(c.admin, c.admin.RemovePeer, { skey: 'api', host: '127.0.0.1', port: 9003 }, md()), grpcError(grpc.status.FAILED_PRECONDITION, /last server of cluster 2/));
      await assert.rejects(call(c.admin, c.admin.UpdatePeer, { skey: 'api', host: '127.0.0.1', port: 9002 }, md()), grpcError(grpc.status.INVALID_ARGUMENT, /set at least one/));
      await assert.rejects(call(c.admin, c.admin.UpdatePeer, { skey: 'api', host: '127.0.0.1', port: 9002, weight: 0 }, md()), grpcError(grpc.status.INVALID_ARGUMENT, /weight: must be an integer 1\.\.2147483647/));
    });

    it('DeleteUpstream removes it; a second delete is NOT_FOUND', async () => {
      await call(c.admin, c.admin.UpdateUpstream, { skey: 'tmp', cluster: jsonToValue([{ servers: [{ host: 'a.internal', port: 1 }] }]) }, md());
      await call(c.admin, c.admin.DeleteUpstream, { skey: 'tmp' }, md());
      await assert.rejects(call(c.discovery, c.discovery.SelectPeer, { skey: 'tmp' }), grpcError(grpc.status.NOT_FOUND));
      await assert.rejects(call(c.admin, c.admin.DeleteUpstream, { skey: 'tmp' }, md()), grpcError(grpc.status.NOT_FOUND));
    });

    it('a message over the size limit is refused and the server keeps serving', async () => {
      const huge = { cluster: [{ servers: Array.from({ length: 8000 }, (_, i) => ({ host: `h${i}.example.internal`, port: 1 + (i % 60000) })) }] };
      await assert.rejects(call(c.admin, c.admin.UpdateUpstream, { skey: 'huge', upstream: jsonToStruct(huge) }, md()), grpcError(grpc.status.RESOURCE_EXHAUSTED));
      assert.ok((await call(c.discovery, c.discovery.SelectPeer, { skey: 'api' })).peer);
    });
  });

  it('a restart keeps every acknowledged admin change, on top of the config file', async () => {
    const expected = structToJson((await call(c.admin, c.admin.GetUpstream, { skey: 'web' }, md())).upstream);
    const apiServers = await call(c.admin, c.admin.GetServers, { skey: 'api' }, md());
    c.close();
    await server.stop(100);
    await start();
    assert.deepEqual(structToJson((await call(c.admin, c.admin.GetUpstream, { skey: 'web' }, md())).upstream), expected);
    const again = await call(c.admin, c.admin.GetServers, { skey: 'api' }, md());
    assert.deepEqual(
      again.clusters.map((cl) => cl.peers.map((p) => p.server)),
      apiServers.clusters.map((cl) => cl.peers.map((p) => p.server)),
    );
    assert.ok(again.version > apiServers.version, 'versions keep increasing across restarts');
    await assert.rejects(call(c.discovery, c.discovery.SelectPeer, { skey: 'tmp' }), grpcError(grpc.status.NOT_FOUND), 'deletes are durable too');
  });
});
