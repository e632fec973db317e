/**
 * The gRPC surface as an attacker or a careless operator meets it: secrets stay on the server,
 * reserved names cannot break the admin API, big input gets a bounded answer on a connection
 * that keeps working, bytes that are no request get INVALID_ARGUMENT.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import type { Checkups } from '../../src/main.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { jsonToStruct, jsonToValue, structToJson } from '../../src/wire/struct.ts';
import { bearer, call, clients, grpcError, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';

const MYSQL_PASS = 'mysql-Secret-4711';
const REDIS_PASS = 'redis-Secret-0815';
const TOKEN = 'hardening-admin-token-0123456789';

const CONFIG = `
upstreams:
  db:
    typ: mysql
    user: app
    pass: ${MYSQL_PASS}
    enable: false
    cluster: [ { servers: [ { host: 127.0.0.1, port: 3306 } ] } ]
  cache:
    typ: redis
    enable: false
    redis_opts: { password: ${REDIS_PASS}, db: 2 }
    cluster: [ { servers: [ { host: 127.0.0.1, port: 6379 } ] } ]
  api:
    cluster: [ { servers: [ { host: 127.0.0.1, port: 9001 } ] } ]
`;

function firstWatch(c: Clients): Promise<WatchResponse__Output> {
  return new Promise((resolve, reject) => {
    const stream = c.discovery.Watch({});
    stream.on('data', (m: WatchResponse__Output) => {
      resolve(m);
      stream.cancel();
    });
    stream.on('error', (err: grpc.ServiceError) => {
      if (err.code !== grpc.status.CANCELLED) reject(err);
    });
  });
}

describe('gRPC hardening', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  const logs: string[] = [];
  const md = () => bearer(TOKEN);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-harden-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    const sink = new Writable({
      write(chunk, _enc, cb) {
        logs.push(String(chunk));
        cb();
      },
    });
    server = await startTestServer(dir, { adminToken: TOKEN, logger: pino({ level: 'debug' }, sink) });
    c = clients(server.grpcAddress);
  });

  after(async () => {
    c.close();
    await server.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  describe('secrets never leave the server', () => {
    it('Watch carries no password, not even that one is set', async () => {
      const msg = await firstWatch(c);
      const text = JSON.stringify(msg);
      assert.ok(msg.upstreams.some((u) => u.skey === 'db'));
      assert.ok(!text.includes(MYSQL_PASS) && !text.includes(REDIS_PASS), 'a secret is in Watch');
      const db = msg.upstreams.find((u) => u.skey === 'db')!;
      const cache = msg.upstreams.find((u) => u.skey === 'cache')!;
      assert.equal(structToJson(db.config)['pass'], undefined);
      assert.equal(structToJson(db.config)['user'], 'app');
      assert.deepEqual(structToJson(cache.config)['redis_opts'], { db: 2 });
    });

    it('GetStatus and /status carry no password', async () => {
      const status = await call(c.discovery, c.discovery.GetStatus, {});
      const text = JSON.stringify(status);
      assert.ok(!text.includes(MYSQL_PASS) && !text.includes(REDIS_PASS));
      const res = await fetch(`http://${server.httpAddress}/status`);
      const body = await res.text();
      assert.equal(res.status, 200);
      assert.ok(!body.includes(MYSQL_PASS) && !body.includes(REDIS_PASS));
    });

    it('an authenticated admin read shows that a secret is set, never its value; writing the marker back keeps it', async () => {
      const got = await call(c.admin, c.admin.GetUpstream, { skey: 'db' }, md());
      const doc = structToJson(got.upstream);
      assert.equal(doc['pass'], '<redacted>');
      const cache = structToJson((await call(c.admin, c.admin.GetUpstream, { skey: 'cache' }, md())).upstream);
      assert.deepEqual(cache['redis_opts'], { password: '<redacted>', db: 2 });
      // Read, modify, write back: the marker means "unchanged".
      await call(c.admin, c.admin.UpdateUpstream, { skey: 'db', upstream: jsonToStruct({ ...doc, timeout: 3 }) }, md());
      assert.equal(server.registry.upstream('db')!.spec.mysql.pass, MYSQL_PASS);
      assert.equal(server.registry.upstream('db')!.spec.timeoutMs, 3000);
      await assert.rejects(
        call(c.admin, c.admin.UpdateUpstream, { skey: 'fresh', upstream: jsonToStruct({ typ: 'mysql', pass: '<redacted>', cluster: [{ servers: [{ host: 'h', port: 1 }] }] }) }, md()),
        grpcError(grpc.status.INVALID_ARGUMENT, /pass: "<redacted>" stands for the stored secret, and fresh has none/),
      );
    });

    it('logs of admin writes hold no secret', async () => {
      await call(c.admin, c.admin.UpdateUpstream, { skey: 'db2', upstream: jsonToStruct({ typ: 'mysql', pass: 'another-Secret-1', cluster: [{ servers: [{ host: '127.0.0.1', port: 1 }] }] }) }, md());
      const all = logs.join('');
      assert.ok(!all.includes(MYSQL_PASS) && !all.includes(REDIS_PASS) && !all.includes('another-Secret-1'));
      // The data dir is the one place secrets are kept, 0600.
      assert.ok(readFileSync(join(dir, 'data', 'changes.log'), 'utf8').includes('another-Secret-1'));
    });
  });

  describe('prototype pitfalls', () => {
    it('AddPeer into cluster __proto__ is refused clearly and later writes still work', async () => {
      await assert.rejects(
        call(c.admin, c.admin.AddPeer, { skey: 'api', cluster: '__proto__', server: { host: '127.0.0.1', port: 9100, weight: 1 } }, md()),
        grpcError(grpc.status.INVALID_ARGUMENT, /"__proto__" is a reserved name/),
      );
      await call(c.admin, c.admin.AddPeer, { skey: 'api', cluster: '1', server: { host: '127.0.0.1', port: 9101, weight: 1 } }, md());
      assert.ok(server.registry.upstream('api')!.spec.clusters[0]!.servers.some((s) => s.port === 9101));
      await assert.rejects(
        call(c.admin, c.admin.UpdateUpstream, { skey: '__proto__', upstream: jsonToStruct({ cluster: [{ servers: [{ host: 'h', port: 1 }] }] }) }, md()),
        grpcError(grpc.status.INVALID_ARGUMENT, /reserved/),
      );
    });

    it('AddPeer into clusters named constructor and toString adds the peer', async () => {
      for (const name of ['constructor', 'toString']) {
        await call(c.admin, c.admin.AddPeer, { skey: 'api', cluster: name, server: { host: '127.0.0.1', port: 9200, weight: 1 } }, md());
        const cluster = server.registry.upstream('api')!.spec.clusters.find((cl) => cl.key === name);
        assert.ok(cluster !== undefined, `cluster ${name} missing`);
        assert.deepEqual(cluster.servers.map((s) => s.port), [9200]);
        await call(c.admin, c.admin.SetPeerDown, { skey: 'api', host: '127.0.0.1', port: 9200 }, md());
      }
      const doc = structToJson((await call(c.admin, c.admin.GetUpstream, { skey: 'api' }, md())).upstream);
      assert.ok(Object.hasOwn(doc['cluster'] as object, 'constructor'));
    });

    it('a Struct field named __proto__ is data, and refused as a name', async () => {
      const upstream = { fields: { cluster: jsonToValue({ '1': { servers: [{ host: 'h', port: 1 }] } }), ['__proto__']: jsonToValue({ typ: 'http' }) } };
      await assert.rejects(call(c.admin, c.admin.UpdateUpstream, { skey: 'p', upstream }, md()), grpcError(grpc.status.INVALID_ARGUMENT, /upstream\.__proto__: "__proto__" is a reserved name/));
      assert.equal(({} as Record<string, unknown>)['typ'], undefined);
    });
  });

  describe('restartable writes', () => {
    it('UpdateUpstream with timeout 1e-9 is refused, not stored as 0', async () => {
      await assert.rejects(
        call(c.admin, c.admin.UpdateUpstream, { skey: 'tiny', upstream: jsonToStruct({ timeout: 1e-9, cluster: [{ servers: [{ host: 'h', port: 1 }] }] }) }, md()),
        grpcError(grpc.status.INVALID_ARGUMENT, /upstream\.timeout: must be at least 0\.001/),
      );
      assert.equal(server.registry.upstream('tiny'), undefined);
    });
  });

  describe('bounded answers', () => {
    it('a 100,000-character skey gets a short error and the connection keeps working', async () => {
      const skey = 'k'.repeat(100_000);
      await assert.rejects(call(c.discovery, c.discovery.SelectPeer, { skey }, undefined, 5000), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.NOT_FOUND);
        assert.ok(err.details.length < 600, `details are ${err.details.length} chars`);
        assert.match(err.details, /more characters/);
        return true;
      });
      await assert.rejects(call(c.admin, c.admin.GetUpstream, { skey }, md()), grpcError(grpc.status.NOT_FOUND));
      const status = await call(c.discovery, c.discovery.GetStatus, {});
      assert.ok(status.upstreams.length > 0);
    });

    it('10,000 bad ports: at most 20 errors listed, the rest counted', async () => {
      const servers = Array.from({ length: 10_000 }, (_, i) => ({ host: 'h', port: 70_000 + i }));
      await assert.rejects(call(c.admin, c.admin.UpdateUpstream, { skey: 'many', upstream: jsonToStruct({ cluster: [{ servers }] }) }, md(), 30_000), (err: grpc.ServiceError) => {
        assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
        assert.match(err.details, /^10000 errors, nothing changed:/);
        assert.match(err.details, /and 9980 more/);
        assert.ok(err.details.length < 4096);
        return true;
      });
      await call(c.discovery, c.discovery.GetStatus, {});
    });
  });

  describe('requests that do not parse', () => {
    const raw = (path: string, bytes: Buffer, metadata = new grpc.Metadata()): Promise<grpc.ServiceError> => {
      const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
      return new Promise((resolve) => {
        client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, metadata, { deadline: Date.now() + 5000 }, (err) => {
          client.close();
          resolve(err as grpc.ServiceError);
        });
      });
    };

    it('get INVALID_ARGUMENT, on every service', async () => {
      const garbage = Buffer.from([0x08]); // field 1, varint, and then the message ends
      for (const [path, metadata] of [
        ['/checkups.v1.DiscoveryService/SelectPeer', undefined],
        ['/checkups.v1.DiscoveryService/FeedbackBatch', undefined],
        ['/checkups.v1.AdminService/UpdateUpstream', md()],
      ] as const) {
        const err = await raw(path, garbage, metadata);
        assert.equal(err?.code, grpc.status.INVALID_ARGUMENT, `${path}: ${err?.details}`);
        assert.match(err.details, /does not parse/);
      }
    });

    it('Watch with an unparseable request ends with INVALID_ARGUMENT', async () => {
      const client = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
      const err = await new Promise<grpc.ServiceError>((resolve) => {
        const stream = client.makeServerStreamRequest('/checkups.v1.DiscoveryService/Watch', (b: Buffer) => b, (b: Buffer) => b, Buffer.from([0x08]));
        stream.on('data', () => undefined);
        stream.on('error', resolve);
      });
      client.close();
      assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    });
  });
});

describe('TLS and token rules at start, from file, environment and flags', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-harden-tls-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const start = (config: string, overrides: Parameters<typeof startTestServer>[1] = {}) => {
    writeFileSync(join(dir, 'checkups.yaml'), config);
    return startTestServer(dir, overrides);
  };

  it('a file with tls_cert and tls_client_ca but no tls_key does not start (no silent plaintext)', async () => {
    await assert.rejects(start('server: { tls_cert: /nonexistent/cert.pem, tls_client_ca: /nonexistent/ca.pem }\nupstreams: {}\n'), /tls_key: is missing/);
  });

  it('a 1-character token from the environment or a flag does not start', async () => {
    process.env['CHECKUPS_ADMIN_TOKEN'] = 'x';
    try {
      await assert.rejects(start('upstreams: {}\n', { adminToken: undefined, grpcListen: '0.0.0.0:0' }), /admin token: must be at least 16 characters/);
    } finally {
      delete process.env['CHECKUPS_ADMIN_TOKEN'];
    }
    await assert.rejects(start('upstreams: {}\n', { adminToken: 'short' }), /admin token: must be at least 16 characters/);
    await assert.rejects(start('server: { admin_token: short }\nupstreams: {}\n', { adminToken: undefined }), /server\.admin_token: must be at least 16 characters/);
  });
});
