/**
 * Passive health shared both ways on one server (issue: after two Feedback RPCs for a peer with
 * max_fails 2, an SDK's next readyOk still picked it). The server's verdict reaches the SDK's
 * local picks, GetStatus, `/status` and xDS EDS; the ejection cap holds everywhere.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CheckupsClient } from '../../src/client/index.ts';
import type { Checkups } from '../../src/main.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { until } from '../support/async.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';
import { ack, NODE, sotwStream, xdsClient, type AnyResource } from '../support/xds-harness.ts';

const CONFIG = `
upstreams:
  pas:
    cluster:
      - servers:
          - { host: 10.3.0.1, port: 80, max_fails: 2, fail_timeout: 30 }
          - { host: 10.3.0.2, port: 80, max_fails: 2, fail_timeout: 30 }
          - { host: 10.3.0.3, port: 80, max_fails: 2, fail_timeout: 30 }
`;

type Cla = AnyResource & { endpoints: Array<{ lb_endpoints: Array<{ health_status: string; endpoint: { address: { socket_address: { address: string } } } }> }> };
const edsHealth = (r: AnyResource) =>
  Object.fromEntries((r as Cla).endpoints.flatMap((l) => l.lb_endpoints.map((e) => [e.endpoint.address.socket_address.address, e.health_status])));

describe('passive health shared both ways (one server)', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-passive-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    server = await startTestServer(dir);
    c = clients(server.grpcAddress);
  });

  after(async () => {
    c.close();
    await server.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it("two Feedback failures (max_fails 2) make the SDK's next readyOk avoid the peer; GetStatus, /status and EDS agree", async () => {
    const sdk = new CheckupsClient({ servers: server.grpcAddress });
    const xds = xdsClient(server.grpcAddress);
    const eds = sotwStream(xds);
    try {
      await sdk.ready();
      eds.send({ node: NODE, type_url: ENDPOINT, resource_names: ['pas'] });
      const first = await eds.next();
      assert.deepEqual(edsHealth(first.resources[0]!), { '10.3.0.1': 'UNKNOWN', '10.3.0.2': 'UNKNOWN', '10.3.0.3': 'UNKNOWN' });
      eds.send(ack(first, ['pas']));

      for (let i = 0; i < 2; i++) await call(c.discovery, c.discovery.Feedback, { skey: 'pas', host: '10.3.0.1', port: 80, failed: true });
      const st = await call(c.discovery, c.discovery.GetStatus, {});
      const ups = st.upstreams.find((u) => u.skey === 'pas')!;
      const peer = ups.clusters[0]!.peers[0]!;
      assert.equal(peer.passiveStatus, 'PASSIVE_STATUS_ERR');
      assert.equal(peer.passiveFailedCount, 2);
      const untilMs = Number(peer.passiveUntilMs);
      assert.ok(untilMs > Date.now() + 25_000 && untilMs <= Date.now() + 30_000, `exclusion ends fail_timeout after the window opened (${untilMs - Date.now()} ms left)`);

      // The SDK holds the version that carries the verdict (Watch pushes it), then picks around it.
      await sdk.synced(Number(ups.version));
      const seen: string[] = [];
      for (let i = 0; i < 20; i++) await sdk.readyOk('pas', (p) => seen.push(p.host));
      assert.ok(!seen.includes('10.3.0.1'), `readyOk picked the excluded peer: ${seen.join(' ')}`);
      assert.ok(seen.includes('10.3.0.2') && seen.includes('10.3.0.3'));

      const update = await eds.next();
      assert.deepEqual(edsHealth(update.resources[0]!), { '10.3.0.1': 'UNHEALTHY', '10.3.0.2': 'UNKNOWN', '10.3.0.3': 'UNKNOWN' });
      eds.send(ack(update, ['pas']));

      const lua = (await (await fetch(`http://${server.httpAddress}/status`)).json()) as Record<string, Array<Array<Record<string, unknown>>>>;
      const peers = lua['cls:pas']![0]!;
      assert.deepEqual(
        peers.map((p) => p['passive_status']),
        ['err', 'ok', 'ok'],
      );
      assert.equal(typeof peers[0]!['passive_until'], 'string');

      // SDK-reported failures count on the server. The cap (50% of 3 = 1) keeps 10.3.0.2 in.
      for (let i = 0; i < 2; i++) sdk.feedback('pas', '10.3.0.2', 80, true);
      await until(() => sdk.status().feedbackQueued === 0, 'the SDK to send its feedback');
      const st2 = await call(c.discovery, c.discovery.GetStatus, {});
      const p2 = st2.upstreams.find((u) => u.skey === 'pas')!.clusters[0]!.peers[1]!;
      assert.equal(p2.passiveFailedCount, 2, 'the SDK-reported failures were counted by the server');
      assert.equal(p2.passiveStatus, 'PASSIVE_STATUS_OK', 'one of three is out already: the cap keeps this one in');
      const hosts = new Set<string>();
      for (let i = 0; i < 6; i++) hosts.add((await call(c.discovery, c.discovery.SelectPeer, { skey: 'pas' })).peer!.host);
      assert.deepEqual([...hosts].sort(), ['10.3.0.2', '10.3.0.3']);
    } finally {
      eds.close();
      xds.close();
      await sdk.close();
    }
  });
});
