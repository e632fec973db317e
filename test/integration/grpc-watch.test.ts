/**
 * Watch over a real connection: snapshot, coalesced updates, resume with versions, removals,
 * a slow reader that must not hold anyone back and must end at the latest state, encode once.
 * Also server reflection as grpcurl uses it, and grpc.health.v1.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { WatchRequest } from '../../src/generated/checkups/v1/WatchRequest.ts';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import type { Checkups } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';
import { jsonToValue } from '../../src/wire/struct.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';


const CONFIG = `
upstreams:
  a: { cluster: [ { servers: [ { host: 127.0.0.1, port: 7001 } ] } ] }
  b: { cluster: [ { servers: [ { host: 127.0.0.1, port: 7002 } ] } ] }
  c: { cluster: [ { servers: [ { host: 127.0.0.1, port: 7003 } ] } ] }
`;

/** A Watch stream that collects messages and lets tests await conditions on them. */
class Watcher {
  readonly messages: WatchResponse__Output[] = [];
  readonly versions = new Map<string, number>();
  private waiters: Array<() => void> = [];
  readonly stream: grpc.ClientReadableStream<WatchResponse__Output>;

  constructor(c: Clients, req: WatchRequest) {
    this.stream = c.discovery.Watch(req);
    this.stream.on('data', (m: WatchResponse__Output) => {
      this.messages.push(m);
      for (const u of m.upstreams) {
        const prev = this.versions.get(u.skey);
        assert.ok(prev === undefined || u.version > prev, `version of ${u.skey} went from ${prev} to ${u.version}`);
        this.versions.set(u.skey, u.version);
      }
      for (const s of m.removedSkeys) this.versions.delete(s);
      for (const w of this.waiters.splice(0)) w();
    });
    this.stream.on('error', () => {});
  }

  async until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
    const deadline = Date.now() + ms;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; got ${this.messages.length} messages`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  get synced(): boolean {
    return this.messages.some((m) => m.syncComplete);
  }

  close(): void {
    this.stream.cancel();
  }
}

describe('Watch', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  const update = (skey: string, port: number, servers = 1) =>
    call(c.admin, c.admin.UpdateUpstream, {
      skey,
      cluster: jsonToValue([{ servers: Array.from({ length: servers }, (_, i) => ({ host: '127.0.0.1', port: port + i })) }]),
    });

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-watch-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    server = await startTestServer(dir);
    c = clients(server.grpcAddress);
  });

  after(async () => {
    c.close();
    await server.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with a full snapshot of every upstream, then sends changes', async () => {
    const w = new Watcher(c, {});
    await w.until(() => w.synced, 'sync');
    assert.deepEqual([...w.versions.keys()].sort(), ['a', 'b', 'c']);
    const first = w.messages[0]!;
    assert.equal(first.upstreams[0]!.clusters[0]!.peers[0]!.server!.port, 7001);
    assert.equal(first.upstreams[0]!.clusters[0]!.peers[0]!.health!.status, 'HEALTH_STATUS_UNCHECKED');
    const { version } = await update('b', 7100);
    await w.until(() => w.versions.get('b') === version, 'b update');
    const last = w.messages.at(-1)!;
    assert.deepEqual(
      last.upstreams.map((u) => u.skey),
      ['b'],
    );
    assert.equal(last.syncComplete, false);
    w.close();
  });

  it('coalesces a burst of changes into few messages carrying the newest state', async () => {
    const w = new Watcher(c, { skeys: ['a'] });
    await w.until(() => w.synced, 'sync');
    const before = w.messages.length;
    let last = 0;
    const writes = [];
    for (let i = 0; i < 20; i++) writes.push(update('a', 7200 + i).then((r) => (last = Math.max(last, r.version))));
    await Promise.all(writes);
    await w.until(() => w.versions.get('a') === last, 'newest a');
    const got = w.messages.length - before;
    assert.ok(got < 20, `20 changes arrived as ${got} messages`);
    assert.ok(w.messages.slice(before).every((m) => m.upstreams.every((u) => u.skey === 'a')), 'only watched upstreams');
    w.close();
  });

  it('resumes: a client holding versions gets only what changed, and removals', async () => {
    const w1 = new Watcher(c, {});
    await w1.until(() => w1.synced, 'sync');
    const held = Object.fromEntries(w1.versions);
    w1.close();
    const { version } = await update('c', 7300);
    await call(c.admin, c.admin.UpdateUpstream, { skey: 'gone', cluster: jsonToValue([{ servers: [{ host: '127.0.0.1', port: 7400 }] }]) });
    const heldWithGone = { ...held, gone: 1 };
    await call(c.admin, c.admin.DeleteUpstream, { skey: 'gone' });
    const w2 = new Watcher(c, { knownVersions: heldWithGone });
    await w2.until(() => w2.synced, 'resume sync');
    const first = w2.messages[0]!;
    assert.deepEqual(
      first.upstreams.map((u) => [u.skey, u.version]),
      [['c', version]],
    );
    assert.deepEqual(first.removedSkeys, ['gone']);
    w2.close();
  });

  it('reports deletions of watched upstreams', async () => {
    await update('temp', 7500);
    const w = new Watcher(c, { skeys: ['temp'] });
    await w.until(() => w.versions.has('temp'), 'temp');
    await call(c.admin, c.admin.DeleteUpstream, { skey: 'temp' });
    await w.until(() => w.messages.some((m) => m.removedSkeys.includes('temp')), 'removal');
    w.close();
  });

  it('a paused reader blocks no one and ends with the newest state', async () => {
    const big = 2000; // servers per snapshot (tens of KB a message)
    await update('big', 10_000, big);
    // The slow reader has its own connection with a small HTTP/2 window, so pausing it backs up the server.
    const slowClients = clients(server.grpcAddress, { 'grpc-node.flow_control_window': 65_535 });
    const slow = new Watcher(slowClients, { skeys: ['big'] });
    const fast = [new Watcher(c, { skeys: ['big'] }), new Watcher(c, { skeys: ['big'] })];
    await slow.until(() => slow.synced, 'slow sync');
    for (const f of fast) await f.until(() => f.synced, 'fast sync');
    slow.stream.pause();
    const encodesBefore = server.grpc.watch.stats().encodes;
    const UPDATES = 30;
    let last = 0;
    for (let i = 0; i < UPDATES; i++) {
      last = (await update('big', 10_000 + ((i + 1) % 7), big)).version;
      // Fast readers keep up while the slow one is stalled.
      for (const f of fast) await f.until(() => f.versions.get('big') === last, 'fast reader at the newest version', 5000);
    }
    assert.ok(server.grpc.watch.stats().encodes - encodesBefore <= UPDATES, 'one encode per version, whatever the number of streams');
    slow.stream.resume();
    await slow.until(() => slow.versions.get('big') === last, 'slow reader at the newest version', 10_000);
    for (const w of [slow, ...fast]) w.close();
    slowClients.close();
  });
});

describe('reflection and health', () => {
  let dir: string;
  let server: Checkups;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-refl-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    server = await startTestServer(dir);
  });

  after(async () => {
    await server.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  for (const version of ['v1', 'v1alpha']) {
    it(`lists services over grpc.reflection.${version} (what grpcurl list does)`, async () => {
      const reflectionDir = join(dirname(createRequire(import.meta.url).resolve('@grpc/reflection')), '..', 'proto');
      const def = protoLoader.loadSync(`grpc/reflection/${version}/reflection.proto`, { includeDirs: [reflectionDir], keepCase: true });
      const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { reflection: Record<string, { ServerReflection: grpc.ServiceClientConstructor }> } };
      const client = new pkg.grpc.reflection[version]!.ServerReflection(server.grpcAddress, grpc.credentials.createInsecure());
      const stream = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, { list_services_response?: { service: Array<{ name: string }> } }> }).ServerReflectionInfo();
      const names = await new Promise<string[]>((resolve, reject) => {
        stream.on('data', (m) => {
          resolve((m.list_services_response?.service ?? []).map((s: { name: string }) => s.name));
          stream.end();
        });
        stream.on('error', reject);
        stream.write({ list_services: '' });
      });
      client.close();
      for (const s of ['checkups.v1.DiscoveryService', 'checkups.v1.AdminService', 'grpc.health.v1.Health']) assert.ok(names.includes(s), `${s} missing from ${names.join(', ')}`);
    });
  }

  it('grpc.health.v1.Health reports SERVING', async () => {
    const def = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    const client = new pkg.grpc.health.v1.Health(server.grpcAddress, grpc.credentials.createInsecure());
    const check = (service: string) =>
      new Promise<string>((resolve, reject) =>
        (client as unknown as { Check(req: object, cb: (e: Error | null, r?: { status: string }) => void): void }).Check({ service }, (e, r) => (e ? reject(e) : resolve(r!.status))),
      );
    assert.equal(await check(''), 'SERVING');
    assert.equal(await check('checkups.v1.DiscoveryService'), 'SERVING');
    client.close();
  });
});
