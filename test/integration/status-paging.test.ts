/**
 * GetStatus under the client's limit (docs/churn.md, size guard): 10,000 upstreams of 10
 * servers are over 4 MiB as one message; a default grpc-js client (4 MiB receive limit) gets a
 * first page and follows next_page_token, the CLI joins the pages, page_size asks for fewer,
 * a forged token is refused with its field.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { GetStatusRequest } from '../../src/generated/checkups/v1/GetStatusRequest.ts';
import type { GetStatusResponse__Output } from '../../src/generated/checkups/v1/GetStatusResponse.ts';
import type { Checkups } from '../../src/main.ts';
import { cluster, server as srv, upstream } from '../support/builders.ts';
import { call, clients, grpcError, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const UPSTREAMS = 10_000;
const SERVERS = 10;

describe('GetStatus pages', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  const status = (req: GetStatusRequest = {}) => call<GetStatusRequest, GetStatusResponse__Output>(c.discovery, c.discovery.GetStatus, req, undefined, 30_000);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-status-pages-'));
    writeFileSync(join(dir, 'checkups.yaml'), 'upstreams: {}\n');
    server = await startTestServer(dir);
    for (let u = 0; u < UPSTREAMS; u++) {
      const servers = Array.from({ length: SERVERS }, (_, s) => srv(`10.${u >> 8}.${u & 255}.${s + 1}:8080`));
      server.registry.put(upstream(`service-${String(u).padStart(5, '0')}`, [cluster(1, servers)]));
    }
    c = clients(server.grpcAddress); // default options: 4 MiB receive limit
  });

  after(async () => {
    c.close();
    await server.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${UPSTREAMS.toLocaleString('en')} upstreams x ${SERVERS} servers: a default client reads every page`, async () => {
    const first = await status();
    assert.ok(first.upstreams.length > 0 && first.upstreams.length < UPSTREAMS, `first page: ${first.upstreams.length} upstreams`);
    assert.notEqual(first.nextPageToken, '');
    assert.equal(first.upstreamsRemaining, UPSTREAMS - first.upstreams.length, 'says how many follow');
    assert.ok(first.checker !== null && first.serverVersion !== '');
    const seen = first.upstreams.map((u) => u.skey);
    let page = first;
    let pages = 1;
    while (page.nextPageToken !== '') {
      page = await status({ pageToken: page.nextPageToken });
      pages++;
      assert.ok(page.upstreams.length > 0);
      seen.push(...page.upstreams.map((u) => u.skey));
      assert.equal(page.upstreamsRemaining, UPSTREAMS - seen.length);
    }
    assert.ok(pages >= 2, 'over 4 MiB in all');
    assert.deepEqual(seen, server.registry.skeys(), 'every upstream once, in registry order');
    assert.equal(page.upstreams.at(-1)!.clusters[0]!.peers.length, SERVERS);
  });

  it('page_size asks for fewer; the token continues after them', async () => {
    const p1 = await status({ pageSize: 3 });
    assert.deepEqual(
      p1.upstreams.map((u) => u.skey),
      ['service-00000', 'service-00001', 'service-00002'],
    );
    const p2 = await status({ pageSize: 2, pageToken: p1.nextPageToken });
    assert.deepEqual(
      p2.upstreams.map((u) => u.skey),
      ['service-00003', 'service-00004'],
    );
    assert.equal(p2.upstreamsRemaining, UPSTREAMS - 5);
    assert.deepEqual(p2.xdsNodes, [], 'xDS nodes are on the first page only');
  });

  it('pages asked for all at once, of different sizes, each come back whole and right (one reused buffer serializes them)', async () => {
    // The server writes every page into one buffer that grpc-js copies at once (statusPageSerializer):
    // were the copy ever later, overlapping answers would carry each other's bytes.
    const asks = Array.from({ length: 24 }, (_, k) => ({ pageSize: 1 + (k % 6), pageToken: '' }));
    const alone: GetStatusResponse__Output[] = [];
    for (const req of asks.slice(0, 6)) alone.push(await status(req));
    const together = await Promise.all(asks.map((req) => status(req)));
    together.forEach((page, k) => {
      assert.deepEqual(
        page.upstreams.map((u) => [u.skey, u.clusters[0]!.peers.length]),
        alone[k % 6]!.upstreams.map((u) => [u.skey, u.clusters[0]!.peers.length]),
        `ask ${k}`,
      );
      assert.equal(page.upstreamsRemaining, UPSTREAMS - (1 + (k % 6)));
    });
    // A long page between short ones: its bytes are not overwritten by theirs.
    const [long, short] = await Promise.all([status({ pageSize: 2_000 }), status({ pageSize: 1 })]);
    assert.equal(long.upstreams.length, 2_000);
    assert.deepEqual(long.upstreams.slice(0, 3).map((u) => u.skey), ['service-00000', 'service-00001', 'service-00002']);
    assert.equal(short.upstreams.length, 1);
  });

  it('a token that is not one is INVALID_ARGUMENT naming page_token', async () => {
    await assert.rejects(status({ pageToken: 'not-a-token' }), grpcError(grpc.status.INVALID_ARGUMENT, /^page_token: /));
    await assert.rejects(status({ pageToken: 'x'.repeat(600) }), grpcError(grpc.status.INVALID_ARGUMENT, /^page_token: /));
  });

  it('`checkups status --json` joins the pages', async () => {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'status', '--json', '--server', server.grpcAddress, '--timeout', '60000'], { cwd: ROOT, maxBuffer: 256 << 20, timeout: 120_000 }, (err, out, stderr) =>
        err === null ? resolve(out) : reject(new Error(`${err.message}\n${stderr}`)),
      ),
    );
    const res = JSON.parse(stdout) as { upstreams: Array<{ skey: string }> };
    assert.equal(res.upstreams.length, UPSTREAMS);
    assert.equal(new Set(res.upstreams.map((u) => u.skey)).size, UPSTREAMS);
  });
});
