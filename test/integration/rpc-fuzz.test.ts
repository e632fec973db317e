/**
 * Property-based fuzzing of every checkups.v1 RPC over a real connection, and of config files.
 *
 * RPCs: fast-check draws request bodies of three kinds for each of the 16 methods: random bytes,
 * well-formed protobuf with random fields (what a client with another .proto version sends), and
 * the method's own fields with hostile values. Invariants: every call answers before its
 * deadline with OK or a client-error status (never INTERNAL or UNKNOWN, which would mean a
 * handler threw), a call that fails changes nothing (upstreams and versions read back the
 * same), and the server stays responsive throughout.
 *
 * Config: random YAML documents (mutations of a valid one and random trees) either load or fail
 * with INVALID_CONFIG whose every error starts with a path; nothing else is thrown, messages
 * stay bounded.
 *
 * Short by default (a few seconds); CHECKUPS_FUZZ_RUNS=N runs N cases per property.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import { parseConfigText } from '../../src/config/load.ts';
import type { Checkups } from '../../src/main.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { checkupsProto } from '../../src/wire/proto.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';

const RUNS = Number(process.env['CHECKUPS_FUZZ_RUNS'] ?? 150);

const UNARY = [
  '/checkups.v1.DiscoveryService/SelectPeer',
  '/checkups.v1.DiscoveryService/Feedback',
  '/checkups.v1.DiscoveryService/FeedbackBatch',
  '/checkups.v1.DiscoveryService/GetStatus',
  '/checkups.v1.DiscoveryService/GetUpsTimeout',
  '/checkups.v1.AdminService/UpdateUpstream',
  '/checkups.v1.AdminService/DeleteUpstream',
  '/checkups.v1.AdminService/GetUpstream',
  '/checkups.v1.AdminService/ListUpstreams',
  '/checkups.v1.AdminService/GetServers',
  '/checkups.v1.AdminService/AddPeer',
  '/checkups.v1.AdminService/RemovePeer',
  '/checkups.v1.AdminService/UpdatePeer',
  '/checkups.v1.AdminService/SetPeerDown',
  '/checkups.v1.AdminService/SetPeerUp',
] as const;
const STREAMING = ['/checkups.v1.DiscoveryService/Watch', '/checkups.v1.AdminService/WatchEvents'] as const;
const WRITES = new Set<string>(['UpdateUpstream', 'DeleteUpstream', 'AddPeer', 'RemovePeer', 'UpdatePeer', 'SetPeerDown', 'SetPeerUp']);

/** Statuses a client error may get; INTERNAL and UNKNOWN mean the server failed. */
const CLIENT_ERRORS = new Set([
  grpc.status.INVALID_ARGUMENT,
  grpc.status.NOT_FOUND,
  grpc.status.FAILED_PRECONDITION,
  grpc.status.OUT_OF_RANGE,
  grpc.status.RESOURCE_EXHAUSTED,
  grpc.status.UNAVAILABLE, // NO_SERVERS_AVAILABLE for SelectPeer
  grpc.status.ALREADY_EXISTS,
]);

// --- protobuf writer for random well-formed messages -------------------------------------

function varint(n: bigint): number[] {
  const out: number[] = [];
  let v = BigInt.asUintN(64, n);
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return out;
}

type Field = { no: number; kind: 'varint'; value: bigint } | { no: number; kind: 'bytes'; value: Uint8Array } | { no: number; kind: 'fixed32'; value: number } | { no: number; kind: 'fixed64'; value: bigint };

function encode(fields: readonly Field[]): Buffer {
  const out: number[] = [];
  for (const f of fields) {
    const wire = f.kind === 'varint' ? 0 : f.kind === 'fixed64' ? 1 : f.kind === 'bytes' ? 2 : 5;
    out.push(...varint(BigInt((f.no << 3) | wire)));
    if (f.kind === 'varint') out.push(...varint(f.value));
    else if (f.kind === 'bytes') out.push(...varint(BigInt(f.value.length)), ...f.value);
    else if (f.kind === 'fixed32') {
      const b = Buffer.alloc(4);
      b.writeUInt32LE(f.value >>> 0);
      out.push(...b);
    } else {
      const b = Buffer.alloc(8);
      b.writeBigUInt64LE(BigInt.asUintN(64, f.value));
      out.push(...b);
    }
  }
  return Buffer.from(out);
}

const text = fc.oneof(
  fc.constantFrom('', 'api', 'web', '__proto__', 'constructor', '127.0.0.1', '1', 'x'.repeat(5000), '\u0000', 'ü🙂'),
  fc.string({ maxLength: 40 }),
);
const fieldNo = fc.oneof({ arbitrary: fc.integer({ min: 1, max: 8 }), weight: 5 }, { arbitrary: fc.integer({ min: 9, max: 536_870_911 }), weight: 1 });
const leaf: fc.Arbitrary<Field> = fc.oneof(
  fc.record({ no: fieldNo, kind: fc.constant('varint' as const), value: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }), fc.constantFrom(0n, 1n, 65535n, 65536n, 2n ** 31n, 2n ** 32n)) }),
  fc.record({ no: fieldNo, kind: fc.constant('bytes' as const), value: text.map((s) => new Uint8Array(Buffer.from(s, 'utf8'))) }),
  fc.record({ no: fieldNo, kind: fc.constant('fixed32' as const), value: fc.integer() }),
  fc.record({ no: fieldNo, kind: fc.constant('fixed64' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
);
/** Messages nested two levels (a Server inside AddPeer, a Struct inside UpdateUpstream, ...). */
const inner = fc.array(leaf, { maxLength: 6 }).map(encode);
const message: fc.Arbitrary<Buffer> = fc
  .array(fc.oneof({ arbitrary: leaf, weight: 3 }, { arbitrary: fc.record({ no: fieldNo, kind: fc.constant('bytes' as const), value: inner.map((b) => new Uint8Array(b)) }), weight: 1 }), { maxLength: 6 })
  .map(encode);

/** The method's own fields (and neighbours' ones) with hostile values, encoded by its real serializer. */
const hostile = fc.record(
  {
    skey: text,
    cluster: fc.oneof(text, fc.constant({ listValue: { values: [{ numberValue: 1 }, { stringValue: 'x' }] } })),
    host: text,
    port: fc.constantFrom(0, 1, 80, 8080, 65535, 65536, 4294967295),
    weight: fc.constantFrom(0, 1, 2 ** 31 - 1, 2 ** 31, 4294967295),
    maxFails: fc.constantFrom(0, 1, 4294967295),
    failTimeoutMs: fc.constantFrom(0, 1, 4294967295),
    failed: fc.boolean(),
    hashKey: text,
    server: fc.record({ host: text, port: fc.constantFrom(0, 80, 8080, 70000), weight: fc.constantFrom(0, 1, 2 ** 31) }, { requiredKeys: [] }),
    upstream: fc.constantFrom(
      { fields: {} },
      { fields: { cluster: { listValue: { values: [] } } } },
      { fields: { timeout: { numberValue: 1e-9 }, cluster: { listValue: { values: [{ structValue: { fields: { servers: { listValue: { values: [{ structValue: { fields: { host: { stringValue: '10.1.1.1' }, port: { numberValue: 80 } } } }] } } } } }] } } } },
      { fields: { __proto__: { stringValue: 'x' } } },
    ),
    outcomes: fc.array(fc.record({ skey: text, host: text, port: fc.constantFrom(80, 8080, 8081), failed: fc.boolean() }), { maxLength: 5 }),
    knownVersions: fc.dictionary(text, fc.integer({ min: 0 }), { maxKeys: 3 }),
    skeys: fc.array(text, { maxLength: 3 }),
  },
  { requiredKeys: [] },
);

type Serializer = (value: object) => Buffer;
const serializers = new Map<string, Serializer>();
for (const svc of ['DiscoveryService', 'AdminService'] as const) {
  const service = (checkupsProto()[svc] as unknown as { service: Record<string, { path: string; requestSerialize: Serializer }> }).service;
  for (const def of Object.values(service)) serializers.set(def.path, def.requestSerialize);
}

/** Serializes what of `o` fits the message (the vocabulary is shared, the field types are not). */
function serializeLoosely(serialize: Serializer, o: Record<string, unknown>): Buffer {
  try {
    return serialize(o);
  } catch {
    const fits = Object.fromEntries(Object.entries(o).filter(([k, v]) => {
      try {
        serialize({ [k]: v });
        return true;
      } catch {
        return false;
      }
    }));
    return serialize(fits);
  }
}

/** A body for `path`: random bytes, random well-formed protobuf, or the method's fields with hostile values. */
const bodyFor = (path: string): fc.Arbitrary<Buffer> =>
  fc.oneof(
    fc.uint8Array({ maxLength: 300 }).map((a) => Buffer.from(a)),
    message,
    { arbitrary: hostile.map((o) => serializeLoosely(serializers.get(path)!, o)), weight: 2 },
  );

function unary(client: grpc.Client, path: string, bytes: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (err) => resolve(err));
  });
}

/** Opens a server stream, takes what arrives for a moment, ends it; resolves with its error, if any. */
function streaming(client: grpc.Client, path: string, bytes: Buffer): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const stream = client.makeServerStreamRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), { deadline: Date.now() + 5000 });
    let done = false;
    const end = (err: grpc.ServiceError | null) => {
      if (done) return;
      done = true;
      resolve(err);
    };
    stream.on('data', () => {
      // A stream that answers is fine: cancel it, the call counts as OK.
      stream.cancel();
    });
    stream.on('error', (err: grpc.ServiceError) => end(err.code === grpc.status.CANCELLED ? null : err));
    stream.on('end', () => end(null));
    stream.on('status', (s) => end(s.code === grpc.status.OK || s.code === grpc.status.CANCELLED ? null : (s as unknown as grpc.ServiceError)));
    setTimeout(() => stream.cancel(), 50).unref();
  });
}

async function snapshot(c: Clients): Promise<string> {
  const list = await call(c.admin, c.admin.ListUpstreams, {});
  const servers = await Promise.all(list.upstreams.map((u) => call(c.admin, c.admin.GetServers, { skey: u.skey })));
  return JSON.stringify([list.upstreams, servers.map((s) => s.clusters.map((cl) => cl.peers.map((p) => [p.server, p.passiveStatus, p.passiveFailedCount])))]);
}

describe('fuzzing every RPC (property-based)', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  let raw: grpc.Client;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkups-fuzz-'));
    await writeFile(
      join(dir, 'checkups.yaml'),
      'upstreams:\n  api:\n    cluster:\n      - servers: [ { host: 127.0.0.1, port: 8080 }, { host: 127.0.0.1, port: 8081 } ]\n  web:\n    mode: hash\n    cluster:\n      - servers: [ { host: 10.0.0.1, port: 80 } ]\n',
    );
    server = await startTestServer(dir);
    c = clients(server.grpcAddress);
    raw = new grpc.Client(server.grpcAddress, grpc.credentials.createInsecure());
  });
  after(async () => {
    raw?.close();
    c?.close();
    await server?.stop(0);
    await rm(dir, { recursive: true, force: true });
  });

  it('every call answers OK or a client error, a failed call changes nothing, the server stays responsive', async () => {
    const outcomes = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...UNARY, ...STREAMING).chain((path) => fc.tuple(fc.constant(path), bodyFor(path))), async ([path, bytes]) => {
        const method = path.slice(path.lastIndexOf('/') + 1);
        const before = await snapshot(c);
        const t0 = performance.now();
        const err = (STREAMING as readonly string[]).includes(path) ? await streaming(raw, path, bytes) : await unary(raw, path, bytes);
        const ms = performance.now() - t0;
        const key = `${method} ${err === null ? 'OK' : grpc.status[err.code]}`;
        outcomes.set(key, (outcomes.get(key) ?? 0) + 1);
        assert.ok(ms < 4000, `${method} took ${ms.toFixed(0)} ms`);
        if (err !== null) {
          assert.ok(CLIENT_ERRORS.has(err.code), `${method}: ${grpc.status[err.code]} ${err.details}`);
          assert.ok(err.details.length <= 4096, `${method}: a ${err.details.length}-character message`);
          if (WRITES.has(method) || method.startsWith('Feedback')) assert.equal(await snapshot(c), before, `a refused ${method} changed nothing`);
        }
      }),
      { numRuns: RUNS },
    );
    // Still serving, promptly.
    const t0 = performance.now();
    await call(c.discovery, c.discovery.GetStatus, {});
    assert.ok(performance.now() - t0 < 1000);
    const summary = [...outcomes].sort().map(([k, n]) => `${k}: ${n}`).join(', ');
    console.log(`rpc fuzz, ${RUNS} calls: ${summary}`);
    // The bodies reached past parsing: some calls were answered OK and some refused as invalid.
    assert.ok([...outcomes.keys()].some((k) => k.endsWith(' OK')) && [...outcomes.keys()].some((k) => k.endsWith('INVALID_ARGUMENT')), summary);
  });
});

describe('fuzzing config files (property-based)', () => {
  const valid = {
    global: { checkup_timer_interval: 5 },
    upstreams: {
      api: { typ: 'http', timeout: 2, http_opts: { query: 'GET / HTTP/1.0\r\n\r\n', statuses: { '502': false } }, cluster: [{ servers: [{ host: '127.0.0.1', port: 8080, weight: 2, max_fails: 3, fail_timeout: 10 }] }] },
    },
  };
  const anyValue: fc.Arbitrary<unknown> = fc.oneof(
    fc.constantFrom(null, true, false, 0, -1, 1e-9, 2 ** 31, Number.MAX_SAFE_INTEGER, '', '__proto__', 'x'.repeat(3000), [], {}),
    fc.string({ maxLength: 10 }),
    fc.double(),
    fc.integer(),
  );
  /** The valid document with one value somewhere replaced. */
  const mutated = fc.tuple(fc.constantFrom('global.checkup_timer_interval', 'upstreams.api.typ', 'upstreams.api.timeout', 'upstreams.api.http_opts.query', 'upstreams.api.http_opts.statuses', 'upstreams.api.cluster', 'upstreams.api.cluster.0.servers', 'upstreams.api.cluster.0.servers.0.port', 'upstreams.api.cluster.0.servers.0.weight', 'upstreams.api.cluster.0.servers.0.fail_timeout', 'upstreams.api.mode', 'upstreams.api.try', 'upstreams.x', 'upstreams.__proto__', 'bogus'), anyValue).map(([path, value]) => {
    const doc = structuredClone(valid) as Record<string, unknown>;
    const parts = path.split('.');
    let at = doc as Record<string, unknown>;
    for (const p of parts.slice(0, -1)) {
      if (typeof at[p] !== 'object' || at[p] === null) at[p] = {};
      at = at[p] as Record<string, unknown>;
    }
    Object.defineProperty(at, parts.at(-1)!, { value, enumerable: true, writable: true, configurable: true });
    return stringify(doc);
  });
  const randomTree = fc.jsonValue({ maxDepth: 4 }).map((v) => stringify({ upstreams: v }));
  const randomText = fc.string({ maxLength: 200 });

  it('a file loads, or fails with INVALID_CONFIG whose every error names its place', () => {
    let loaded = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.oneof(mutated, randomTree, randomText), (text) => {
        try {
          parseConfigText(text, 'fuzz.yaml');
          loaded++;
        } catch (err) {
          assert.ok(err instanceof CheckupsError, `not a CheckupsError: ${String(err)}`);
          assert.equal(err.code, 'INVALID_CONFIG', err.message);
          assert.ok(err.message.length <= 8192, `a ${err.message.length}-character message`);
          assert.match(err.message, /^fuzz\.yaml/, 'the message names the file');
          for (const d of err.details) assert.match(d, /^[^\s:]*[:\s]|^\(root\)/, `an error without its place: ${d}`);
          refused++;
        }
      }),
      { numRuns: RUNS * 4 },
    );
    console.log(`config fuzz: ${loaded} loaded, ${refused} refused`);
    assert.ok(loaded > 0 && refused > 0);
  });
});
