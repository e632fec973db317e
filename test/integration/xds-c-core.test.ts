/**
 * gRPC C-core (Debian's python3-grpcio, /usr/bin/python3) as an xDS client of a running
 * checkups: `xds:///K` reaching loopback grpc-js backends, level failover on a health flip and
 * back, a named cluster, weighted spread, an empty upstream failing fast, and no NACK from this
 * client. Skipped, saying why, when python3-grpcio is not installed.
 *
 * NOTE: no ring-hash RPCs. Debian's python3-grpcio is C-core 1.51.1, whose ring_hash picker
 * crashes the process (SIGSEGV) as soon as it must connect an idle subchannel — on the first RPC,
 * or on channel_ready_future — whatever the resources say (seen here with a minimal ring-hash
 * Cluster, no hash policy, one endpoint). grpc/grpc#31766, fixed by grpc/grpc#32012 in 1.52.
 * What can be checked is that C-core accepts (ACKs) our ring-hash Cluster and hash policies.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { peerId } from '../../src/core/model.ts';
import type { Checkups } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';
import { startBackend, waitFor, type Backend } from '../support/xds-backends.ts';
import { health } from '../support/xds-harness.ts';
import { cCoreMissing, PythonXdsClient } from '../support/xds-python.ts';

const missing = cCoreMissing();
const NODE_ID = 'c-core-e2e';

describe('gRPC C-core (python3-grpcio) against checkups', () => {
  let dir: string;
  let server: Checkups;
  let py: PythonXdsClient;
  const b: Record<string, Backend> = {};

  before(async () => {
    // .ci/run installs python3-grpcio; without it these tests fail rather than prove nothing.
    if (missing !== undefined) throw new Error(missing);
    for (const name of ['a', 'b', 'd', 'w1', 'w3']) b[name] = await startBackend(name);
    const s = (n: string, extra = '') => `{ host: 127.0.0.1, port: ${b[n]!.port}${extra} }`;
    dir = mkdtempSync(join(tmpdir(), 'checkups-xds-ccore-'));
    // `weighted` has slow_start: C-core must accept its Cluster's slow_start_config (no NACK).
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `upstreams:
  api: { cluster: { 1: { servers: [ ${s('a')} ] }, 2: { servers: [ ${s('b')} ] }, dc1: { servers: [ ${s('d')} ] } } }
  weighted: { slow_start: 30, slow_start_aggression: 2, cluster: [ { servers: [ ${s('w1', ', weight: 1')}, ${s('w3', ', weight: 3')} ] } ] }
  sticky: { mode: hash, cluster: [ { servers: [ ${s('a')}, ${s('b')} ] } ] }
  empty: { cluster: [ { servers: [] } ] }
`,
    );
    server = await startTestServer(dir);
    py = new PythonXdsClient({
      xds_servers: [{ server_uri: server.grpcAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: NODE_ID, cluster: 'tests', locality: {} },
    });
  });

  after(async () => {
    await py?.close();
    await server?.stop(200);
    for (const backend of Object.values(b)) await backend.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves level 1, fails over within 1 s of a health flip, and comes back', async () => {
    assert.deepEqual(await py.spread('api', 10), { a: 10 }, py.stderr.join(''));
    const id = peerId('127.0.0.1', b['a']!.port);
    server.registry.setHealth('api', id, health('err'));
    const away = await waitFor(async () => (await py.who('api')) === 'b', 'C-core on level 2', 1000);
    assert.deepEqual(await py.spread('api', 10), { b: 10 });
    server.registry.setHealth('api', id, health('ok'));
    const back = await waitFor(async () => (await py.who('api')) === 'a', 'C-core back on level 1', 1000);
    console.log(`C-core health flip: level 2 after ${away} ms, level 1 again after ${back} ms`);
  });

  it('reaches a named cluster as K~NAME', async () => {
    assert.deepEqual(await py.spread('api~dc1', 5), { d: 5 });
  });

  it('spreads by server weight', async () => {
    const counts = await py.spread('weighted', 400);
    const share = (counts['w3'] ?? 0) / 400;
    assert.ok(Math.abs(share - 0.75) < 0.08, `weight 3 of 4 got ${JSON.stringify(counts)}`);
  });

  it('ring hash: C-core ACKs the RING_HASH Cluster and the hash policies (then hits its own 1.51 picker crash)', async () => {
    const nodeId = 'c-core-ring-hash';
    const crashing = new PythonXdsClient({
      xds_servers: [{ server_uri: server.grpcAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: nodeId, locality: {} },
    });
    void crashing.command('connect sticky').catch(() => {});
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([crashing.exited, new Promise((r) => (timer = setTimeout(() => r('alive'), 10_000)))]);
    clearTimeout(timer);
    await crashing.close();
    const node = server.grpc.xds.nodeStatus().find((n) => n.nodeId === nodeId)!;
    for (const t of node.types.values()) assert.equal(t.nacked, false, `${t.typeUrl}: ${t.lastNack?.message}`);
    assert.equal(node.types.size, 4, 'LDS, RDS, CDS and EDS all received');
    console.log(`C-core 1.51.1 with ring hash: process ended with ${ended} (grpc/grpc#31766) after ACKing every type`);
  });

  it('an upstream without servers fails fast with UNAVAILABLE', async () => {
    const a = await py.command('who empty');
    assert.equal(a.code, 'UNAVAILABLE', JSON.stringify(a));
    assert.ok(a.ms! < 1000, `took ${a.ms} ms`);
  });

  it('C-core NACKed nothing and ACKed the latest version of every type', () => {
    assert.equal(server.grpc.xds.stats().nacks, 0, JSON.stringify(server.grpc.xds.nodeStatus().filter((n) => [...n.types.values()].some((t) => t.lastNack))));
    const node = server.grpc.xds.nodeStatus().find((n) => n.nodeId === NODE_ID)!;
    assert.equal(node.types.size, 4);
    for (const t of node.types.values()) assert.equal(t.ackedVersion, t.sentVersion, t.typeUrl);
  });
});
