/**
 * Property: whatever sequence of admin writes a client sends (fast-check draws them, with edge
 * values: sub-millisecond and huge durations, weights 0 and 2^31-1 and beyond, names such as
 * `__proto__` and `constructor`), every acknowledged state loads again after a restart, and a
 * refused write changes nothing. Versions after the restart are above all those before it. Writes go over real gRPC to a real server on a real data dir.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Checkups } from '../../src/main.ts';
import { jsonToStruct, structToJson } from '../../src/wire/struct.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';

const SKEYS = ['api', '__proto__', 'constructor', 'toString', 'x.y-z'] as const;
const HOSTS = ['10.0.0.1', '10.0.0.2', '127.0.0.1', 'backend.internal'] as const;
const CLUSTERS = ['', '1', '2', 'blue', '__proto__'] as const;

/** Mostly valid values, now and then an edge the server must refuse or carry exactly. */
const mostly = <T,>(valid: fc.Arbitrary<T>, edge: fc.Arbitrary<T>) => fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: edge, weight: 1 });

const server = fc.record(
  {
    host: fc.constantFrom(...HOSTS),
    port: mostly(fc.integer({ min: 1, max: 65535 }), fc.constantFrom(0, 65535, 65536)),
    weight: mostly(fc.integer({ min: 1, max: 100 }), fc.constantFrom(0, 1_000_000, 2 ** 31 - 1, 2 ** 31)),
    max_fails: fc.constantFrom(0, 1, 5),
    fail_timeout: mostly(fc.constantFrom(1, 10, 30), fc.constantFrom(0, 1e-9, 0.001, 1e9)),
  },
  { requiredKeys: ['host', 'port'] },
);

const upstreamDoc = fc.record(
  {
    typ: mostly(fc.constantFrom('general', 'http', 'redis', 'mysql', 'grpc'), fc.constant('bogus')),
    timeout: mostly(fc.constantFrom(0.5, 1, 3), fc.constantFrom(1e-9, 0.0005, 0.001, 1e7)),
    mode: mostly(fc.constantFrom('wrr', 'hash', 'url_hash', 'ip_hash', 'header_hash'), fc.constant('nope')),
    try: mostly(fc.constantFrom(0, 1, 3), fc.constant(-1)),
    protected: fc.boolean(),
    max_ejection_percent: mostly(fc.constantFrom(0, 50, 100), fc.constant(101)),
    cluster: fc.oneof(
      fc.array(fc.record({ servers: fc.array(server, { minLength: 1, maxLength: 3 }) }), { maxLength: 2 }),
      fc.array(fc.record({ name: fc.constantFrom('blue', 'green', '__proto__'), servers: fc.array(server, { minLength: 1, maxLength: 2 }) }), { minLength: 1, maxLength: 2 }),
    ),
  },
  { requiredKeys: ['cluster'] },
);

type Op =
  | { readonly rpc: 'UpdateUpstream'; readonly skey: string; readonly upstream: object }
  | { readonly rpc: 'UpdateCluster'; readonly skey: string; readonly cluster: unknown[] }
  | { readonly rpc: 'DeleteUpstream'; readonly skey: string }
  | { readonly rpc: 'AddPeer'; readonly skey: string; readonly cluster: string; readonly server: { host: string; port: number; weight?: number } }
  | { readonly rpc: 'RemovePeer' | 'SetPeerDown' | 'SetPeerUp'; readonly skey: string; readonly host: string; readonly port: number }
  | { readonly rpc: 'UpdatePeer'; readonly skey: string; readonly host: string; readonly port: number; readonly weight?: number; readonly max_fails?: number; readonly fail_timeout_ms?: number };

const skey = mostly(fc.constantFrom('api', 'x.y-z'), fc.constantFrom(...SKEYS));
const peerRef = { skey, host: mostly(fc.constantFrom('10.0.0.1'), fc.constantFrom(...HOSTS)), port: mostly(fc.constantFrom(80, 8080), fc.constantFrom(1, 65535)) };
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ rpc: fc.constant('UpdateUpstream' as const), skey, upstream: upstreamDoc }), weight: 4 },
  fc.record({ rpc: fc.constant('UpdateCluster' as const), skey, cluster: fc.array(fc.record({ servers: fc.array(server, { minLength: 1, maxLength: 2 }) }), { maxLength: 2 }) }),
  fc.record({ rpc: fc.constant('DeleteUpstream' as const), skey }),
  { arbitrary: fc.record({ rpc: fc.constant('AddPeer' as const), skey, cluster: fc.constantFrom(...CLUSTERS), server: fc.record({ host: peerRef.host, port: peerRef.port, weight: fc.constantFrom(1, 2 ** 31 - 1) }, { requiredKeys: ['host', 'port'] }) }), weight: 3 },
  fc.record({ rpc: fc.constantFrom('RemovePeer' as const, 'SetPeerDown' as const, 'SetPeerUp' as const), ...peerRef }),
  fc.record({ rpc: fc.constant('UpdatePeer' as const), ...peerRef, weight: fc.constantFrom(0, 2, 2 ** 31 - 1), max_fails: fc.constantFrom(0, 3), fail_timeout_ms: fc.constantFrom(0, 1, 100, 5000) }, { requiredKeys: ['rpc', 'skey', 'host', 'port'] }),
);

function send(c: Clients, o: Op): Promise<unknown> {
  switch (o.rpc) {
    case 'UpdateUpstream':
      return call(c.admin, c.admin.UpdateUpstream, { skey: o.skey, upstream: jsonToStruct(o.upstream) });
    case 'UpdateCluster':
      return call(c.admin, c.admin.UpdateUpstream, { skey: o.skey, cluster: { listValue: { values: o.cluster.map((l) => ({ structValue: jsonToStruct(l as object) })) } } });
    case 'DeleteUpstream':
      return call(c.admin, c.admin.DeleteUpstream, { skey: o.skey });
    case 'AddPeer':
      return call(c.admin, c.admin.AddPeer, { skey: o.skey, cluster: o.cluster, server: o.server });
    case 'RemovePeer':
      return call(c.admin, c.admin.RemovePeer, { skey: o.skey, host: o.host, port: o.port });
    case 'SetPeerDown':
      return call(c.admin, c.admin.SetPeerDown, { skey: o.skey, host: o.host, port: o.port });
    case 'SetPeerUp':
      return call(c.admin, c.admin.SetPeerUp, { skey: o.skey, host: o.host, port: o.port });
    case 'UpdatePeer':
      return call(c.admin, c.admin.UpdatePeer, o);
  }
}

/** Everything an admin write can change, as a client reads it: documents, versions, peers' admin state. */
async function readState(c: Clients): Promise<Map<string, unknown>> {
  const list = await call(c.admin, c.admin.ListUpstreams, {});
  const state = new Map<string, unknown>();
  for (const u of list.upstreams) {
    const got = await call(c.admin, c.admin.GetUpstream, { skey: u.skey });
    const servers = await call(c.admin, c.admin.GetServers, { skey: u.skey });
    state.set(u.skey, {
      version: Number(got.version),
      upstream: got.upstream === null ? null : structToJson(got.upstream),
      peers: servers.clusters.map((cl) => cl.peers.map((p) => p.server)),
    });
  }
  return state;
}

describe('admin writes survive a restart (property)', () => {
  const dirs: string[] = [];
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('every acknowledged state loads again; a refused write changes nothing', async () => {
    let acked = 0;
    let refused = 0;
    // fast-check's report names the inputs; the property's own assertion is in its cause.
    const withCause = (err: unknown) => {
      const cause = (err as { cause?: unknown }).cause;
      if (err instanceof Error && cause instanceof Error) err.message += `\nCause: ${cause.message}`;
      throw err;
    };
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 20 }), async (ops) => {
        const dir = await mkdtemp(join(tmpdir(), 'checkups-restart-prop-'));
        dirs.push(dir);
        await writeFile(join(dir, 'checkups.yaml'), 'upstreams:\n  api:\n    cluster:\n      - servers: [ { host: 10.0.0.1, port: 80 } ]\n');
        let s: Checkups | undefined = await startTestServer(dir);
        let c = clients(s.grpcAddress);
        // A restarted server numbers versions from its own start: they must not go backwards.
        const withoutVersions = (state: Map<string, unknown>) => new Map([...state].map(([k, v]) => [k, { ...(v as object), version: undefined }]));
        const versions = (state: Map<string, unknown>) => [...state.values()].map((v) => (v as { version: number }).version);
        try {
          for (const o of ops) {
            const before = await readState(c);
            try {
              await send(c, o);
              acked++;
            } catch (err) {
              const code = (err as grpc.ServiceError).code;
              assert.ok(code === grpc.status.INVALID_ARGUMENT || code === grpc.status.NOT_FOUND || code === grpc.status.FAILED_PRECONDITION, `${o.rpc}: ${(err as Error).message}`);
              refused++;
              assert.deepEqual(await readState(c), before, `refused ${o.rpc} changed nothing`);
            }
          }
          const final = await readState(c);
          const expected = withoutVersions(final);
          c.close();
          await s.stop(0);
          s = await startTestServer(dir);
          c = clients(s.grpcAddress);
          const restarted = await readState(c);
          assert.deepEqual(withoutVersions(restarted), expected, 'the state after a restart is the acknowledged one');
          assert.ok(Math.min(...versions(restarted)) > Math.max(...versions(final)), 'versions after the restart are above every version before it');
        } finally {
          c.close();
          await s?.stop(0);
        }
      }),
      { numRuns: 8, endOnFailure: true },
    ).catch(withCause);
    console.log(`admin restart property: ${acked} acknowledged and ${refused} refused writes over 8 runs`);
    assert.ok(acked > 0 && refused > 0, 'both kinds happened');
  });
});
