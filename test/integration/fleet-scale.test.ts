/**
 * Fleet scale end to end at default settings (every client's 4 MiB receive limit): 10,000
 * upstreams of 3 servers plus one upstream of 10,000 servers.
 *
 * - the SDK (CheckupsClient, defaults) syncs all 10,001 upstreams (its initial snapshot comes in
 *   messages of about 1 MiB) and picks from the big one;
 * - the CLI (`checkups status --json`, `checkups get big`) answers, paging GetStatus;
 * - grpc-js-xds resolves `xds:///big` and `xds:///u42` and calls a real backend;
 * - a raw ADS client with a CDS wildcard subscription (what Envoy sends) at grpc-js defaults gets
 *   all 10,001 clusters in one response under the limit.
 *
 * grpc-js-xds' register() and bootstrap are process-global, hence a file of its own.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { CheckupsClient } from '../../src/client/index.ts';
import type { Checkups } from '../../src/main.ts';
import { CLUSTER } from '../../src/server/xds/type-urls.ts';
import { startBackend, waitFor, who, type Backend } from '../support/xds-backends.ts';
import { adsCall, NODE, xdsClient, type SotwResponse } from '../support/xds-harness.ts';
import { startTestServer } from '../support/test-server.ts';

const UPSTREAMS = 10_000;
const BIG = 10_000;
const LIMIT = 4 * 1024 * 1024;
const run = promisify(execFile);

describe('fleet scale at default client settings', () => {
  let dir: string;
  let server: Checkups;
  let backend: Backend;

  before(async () => {
    backend = await startBackend('real');
    dir = mkdtempSync(join(tmpdir(), 'checkups-scale-'));
    const small = Array.from({ length: UPSTREAMS }, (_, i) => `  u${i}: { cluster: [ { servers: [ { host: 10.2.${i >> 8}.${i & 255}, port: 80 }, { host: 10.3.${i >> 8}.${i & 255}, port: 80 }, { host: 127.0.0.1, port: ${backend.port} } ] } ] }`).join('\n');
    const big = Array.from({ length: BIG - 1 }, (_, i) => `        - { host: 10.1.${i >> 8}.${i & 255}, port: 80, weight: 1 }`).join('\n');
    // In `big`, every server but the real backend has weight 1 and is down: picks land on the backend.
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `upstreams:\n${small}\n  big:\n    cluster:\n      - servers:\n${big.replaceAll('weight: 1 }', 'weight: 1, down: true }')}\n        - { host: 127.0.0.1, port: ${backend.port} }\n`,
    );
    server = await startTestServer(dir);
    process.env['GRPC_XDS_BOOTSTRAP_CONFIG'] = JSON.stringify({
      xds_servers: [{ server_uri: server.grpcAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
      node: { id: 'grpc-js-scale', cluster: 'tests', locality: {} },
    });
    (await import('@grpc/grpc-js-xds')).register();
  });

  after(async () => {
    await server?.stop(200);
    await backend?.close();
    rmSync(dir, { recursive: true, force: true });
    // grpc-js-xds leaves ref'd retention timers behind (see xds-grpc-js.test.ts).
    setTimeout(() => process.exit(), 1000).unref();
  });

  it('the SDK syncs 10,001 upstreams and picks from one of 10,000 servers', async () => {
    const sdk = new CheckupsClient({ servers: server.grpcAddress, token: '' });
    try {
      const t0 = performance.now();
      await sdk.ready(60_000);
      await waitFor(() => sdk.status().upstreams === UPSTREAMS + 1, 'every upstream in the SDK', 60_000);
      console.log(`fleet scale: the SDK held ${sdk.status().upstreams} upstreams after ${(performance.now() - t0).toFixed(0)} ms`);
      assert.equal(sdk.pick('big').port, backend.port);
      assert.equal(sdk.upstream('big')!.clusters[0]!.peers.length, BIG);
    } finally {
      await sdk.close();
    }
  });

  it('the CLI answers status (paged) and get for the big upstream', async () => {
    const cli = ['--import', 'tsx', 'src/cli/main.ts'];
    const env = { ...process.env, CHECKUPS_ADMIN_TOKEN: '', CHECKUPS_TOKEN: '' };
    const status = await run(process.execPath, [...cli, 'status', '--json', '--server', server.grpcAddress], { env, maxBuffer: 256 * 1024 * 1024 });
    const report = JSON.parse(status.stdout) as { upstreams: Array<{ skey: string }> };
    assert.equal(report.upstreams.length, UPSTREAMS + 1);
    const get = await run(process.execPath, [...cli, 'get', 'big', '--server', server.grpcAddress], { env, maxBuffer: 64 * 1024 * 1024 });
    assert.match(get.stdout, new RegExp(`port: ${backend.port}`));
  });

  it('grpc-js-xds resolves xds:///big and xds:///u42 and calls the backend', async () => {
    for (const target of ['big', 'u42']) {
      const c = new grpc.Client(`xds:///${target}`, grpc.credentials.createInsecure());
      try {
        if (target === 'big') assert.equal(await who(c, { timeoutMs: 30_000 }), 'real');
        else {
          // u42 lists two unreachable servers and the backend: some call reaches it.
          await waitFor(async () => (await who(c, { timeoutMs: 5000 }).catch(() => '')) === 'real', `a call through ${target} to the backend`, 30_000);
        }
      } finally {
        c.close();
      }
    }
  });

  it('a CDS wildcard (as Envoy asks) brings all 10,001 clusters in one response under 4 MiB', async () => {
    const client = xdsClient(server.grpcAddress);
    const stream = adsCall(client);
    try {
      const first = await new Promise<SotwResponse>((resolve, reject) => {
        stream.on('data', resolve);
        stream.on('error', reject);
        stream.write({ node: NODE, type_url: CLUSTER, resource_names: [] });
      });
      assert.equal(first.resources.length, UPSTREAMS + 1);
      // grpc-js refuses a message over its default receive limit: arriving is the proof.
      console.log(`fleet scale: a CDS wildcard response with ${first.resources.length} clusters arrived under grpc-js' default ${LIMIT}-byte limit`);
    } finally {
      stream.cancel();
      client.close();
    }
  });
});
