/**
 * The SDK's idioms against a real server: change events and `for await` watches, read-your-writes
 * with `synced(version)` after admin writes made with plain config objects, `await using`,
 * stable error codes (UNKNOWN_SKEY fast, NOT_SYNCED, UNAUTHENTICATED, SERVER_UNAVAILABLE),
 * rejected feedback reported.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AdminClient, CheckupsClient, CheckupsError, type UpstreamReport } from '../../src/client/index.ts';
import type { Checkups } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';

const CONFIG = `
upstreams:
  api:
    cluster:
      - servers:
          - { host: 10.0.0.1, port: 80 }
          - { host: 10.0.0.2, port: 80, weight: 2 }
`;

const code = (c: string) => (e: unknown) => e instanceof CheckupsError && e.code === c;

describe('SDK idioms', () => {
  let dir: string;
  let server: Checkups;
  let guarded: Checkups;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-sdk-idioms-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    server = await startTestServer(dir, { dataDir: join(dir, 'open') });
    guarded = await startTestServer(dir, { dataDir: join(dir, 'guarded'), adminToken: 'secret-token-123456' });
  });

  after(async () => {
    await server?.stop(100);
    await guarded?.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('admin writes with plain objects; synced(version) makes local picks see them; change events and for-await watch', async () => {
    await using client = new CheckupsClient({ servers: server.grpcAddress });
    await client.ready();
    const changes: UpstreamReport[] = [];
    client.on('change', (u) => changes.push(u));
    const watch = client.watch('api');
    const first = await watch.next();
    assert.equal(first.done, false);
    assert.deepEqual(first.value!.clusters[0]!.peers.map((p) => `${p.host}:${p.port} w${p.weight} ${p.status}`), ['10.0.0.1:80 w1 unchecked', '10.0.0.2:80 w2 unchecked']);

    const { version } = await client.admin.peers.down('api', { host: '10.0.0.2', port: 80 });
    await client.synced(version);
    // Read-your-writes: no pick may land on the peer just taken down.
    for (let i = 0; i < 6; i++) assert.equal(client.pick('api').host, '10.0.0.1');
    const next = await watch.next();
    assert.ok(next.value!.version >= version);
    assert.equal(next.value!.clusters[0]!.peers[1]!.down, true);
    assert.ok(changes.some((u) => u.skey === 'api' && u.version >= version));

    // A new upstream from a plain object in the config's vocabulary (seconds, snake_case).
    const created = await client.admin.update('web', { upstream: { mode: 'hash', cluster: [{ servers: [{ host: '10.9.0.1', port: 8080, max_fails: 3, fail_timeout: 2.5 }] }] } });
    await client.synced(created.version);
    assert.equal(client.pick('web', { hashKey: 'k' }).host, '10.9.0.1');
    const doc = await client.admin.get('web');
    assert.deepEqual(doc.upstream.cluster['1']!.servers, [{ host: '10.9.0.1', port: 8080, weight: 1, max_fails: 3, fail_timeout: 2.5 }]);
    const updated = await client.admin.peers.update('web', { host: '10.9.0.1', port: 8080 }, { weight: 7 });
    await client.admin.peers.add('web', { host: '10.9.0.2', port: 8080 }, { cluster: 1 });
    assert.ok((await client.admin.list()).some((u) => u.skey === 'web' && u.servers === 2));
    const servers = await client.admin.servers('web');
    assert.equal(servers.clusters[0]!.peers[0]!.weight, 7);
    assert.ok(servers.version > updated.version);
    await client.admin.peers.remove('web', { host: '10.9.0.2', port: 8080 });
    await client.admin.peers.up('api', { host: '10.0.0.2', port: 80 });

    // Deletion ends the watch of that upstream and emits remove.
    const webWatch = client.watch('web');
    assert.equal((await webWatch.next()).done, false);
    const removed = once(client, 'remove');
    await client.admin.delete('web');
    assert.deepEqual(await removed, ['web']);
    assert.equal((await webWatch.next()).done, true);
    await watch.return();
    const status = await client.admin.status();
    assert.deepEqual(status.upstreams.map((u) => u.skey), ['api']);
    assert.equal(status.upstreams[0]!.clusters[0]!.peers[1]!.passive!.status, 'ok');
  });

  it('errors carry stable codes: UNKNOWN_SKEY without waiting, UNKNOWN_PEER, UNAUTHENTICATED, INVALID_CONFIG with every problem', async () => {
    // A long RPC deadline: readyOk must not wait for it once the server has said the upstream does not exist.
    await using client = new CheckupsClient({ servers: server.grpcAddress, rpcTimeoutMs: 60_000 });
    await client.ready();
    await assert.rejects(client.readyOk('nope', () => 'x'), code('UNKNOWN_SKEY'));
    assert.throws(() => client.pick('nope'), code('UNKNOWN_SKEY'));
    // Narrowed watch: the server says so at the sync that follows adding the upstream to the watch.
    await using narrow = new CheckupsClient({ servers: server.grpcAddress, upstreams: ['api'], rpcTimeoutMs: 60_000 });
    await narrow.ready();
    await assert.rejects(narrow.readyOk('missing', () => 'x'), code('UNKNOWN_SKEY'));
    await assert.rejects(client.admin.peers.down('api', { host: '10.7.7.7', port: 1 }), code('UNKNOWN_PEER'));
    await assert.rejects(client.admin.update('bad', { upstream: { mode: 'nope' as 'wrr', cluster: [{ servers: [{ host: 'a b', port: 0 }] }] } }), (e: unknown) => {
      assert.ok(e instanceof CheckupsError && e.code === 'INVALID_CONFIG');
      assert.equal(e.details.length, 3, e.details.join('\n'));
      return true;
    });
    using noToken = new AdminClient({ servers: guarded.grpcAddress });
    await assert.rejects(noToken.list(), code('UNAUTHENTICATED'));
    using withToken = new AdminClient({ servers: guarded.grpcAddress, token: 'secret-token-123456' });
    assert.equal((await withToken.list())[0]!.skey, 'api');
  });

  it('rejected feedback is reported as an event and counted', async () => {
    await using client = new CheckupsClient({ servers: server.grpcAddress, feedback: { flushMs: 0 } });
    await client.ready();
    const rejected = once(client, 'feedbackRejected');
    client.feedback('ghost', '10.0.0.1', 80, true);
    const [event] = (await rejected) as [{ reason: string }];
    assert.match(event.reason, /^ghost 10\.0\.0\.1:80: /);
    assert.equal(client.status().feedbackRejected, 1);
  });

  it('before any snapshot: pick says NOT_SYNCED; with nothing listening calls say SERVER_UNAVAILABLE', async () => {
    await using client = new CheckupsClient({ servers: '127.0.0.1:1', rpcTimeoutMs: 2000 });
    assert.throws(() => client.pick('api'), code('NOT_SYNCED'));
    await assert.rejects(client.admin.list(), code('SERVER_UNAVAILABLE'));
    await assert.rejects(client.ready(200), code('SERVER_UNAVAILABLE'));
  });
});
