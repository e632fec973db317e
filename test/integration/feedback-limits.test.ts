/**
 * Feedback limits on real sockets (docs/security.md, "Feedback limits"): nine failed Feedback
 * calls from one caller no longer take a healthy priority level away; another caller's reports
 * still count; a FeedbackBatch over max_batch is refused whole; a caller over its rate is
 * refused with the time to wait; the ejection cap holds through the RPC whoever reports; the
 * counters are on /metrics.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Checkups } from '../../src/main.ts';
import { bearer, call, clients, grpcError, type Clients } from '../support/grpc-clients.ts';
import { startTestServer } from '../support/test-server.ts';

const FEED = 'limits-feedback-token-0123456789ab';
const ADMIN = 'limits-admin-token-0123456789abcd';

// Level 1 holds half of the six peers: the ejection cap (50% of 6 = 3) alone would let it go.
const CONFIG = `
server:
  feedback: { max_batch: 50, caller_rate: 1, caller_burst: 60 }
upstreams:
  lvl:
    cluster:
      - servers:
          - { host: 10.7.0.1, port: 80, max_fails: 3, fail_timeout: 60 }
          - { host: 10.7.0.2, port: 80, max_fails: 3, fail_timeout: 60 }
          - { host: 10.7.0.3, port: 80, max_fails: 3, fail_timeout: 60 }
      - servers:
          - { host: 10.7.1.1, port: 80 }
          - { host: 10.7.1.2, port: 80 }
          - { host: 10.7.1.3, port: 80 }
  cap:
    cluster:
      - servers:
          - { host: 10.8.0.1, port: 80, max_fails: 1, fail_timeout: 60 }
          - { host: 10.8.0.2, port: 80, max_fails: 1, fail_timeout: 60 }
          - { host: 10.8.0.3, port: 80, max_fails: 1, fail_timeout: 60 }
          - { host: 10.8.0.4, port: 80, max_fails: 1, fail_timeout: 60 }
  batch:
    cluster: [ { servers: [ { host: 10.9.0.1, port: 80, max_fails: 100 } ] } ]
`;

function sample(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? 0 : Number(line.slice(series.length + 1));
}

describe('feedback limits', () => {
  let dir: string;
  let server: Checkups;
  let c: Clients;
  const metrics = async () => (await fetch(`http://${server.httpAddress}/metrics`)).text();
  const passive = async (skey: string) => {
    const st = await call(c.discovery, c.discovery.GetStatus, {});
    return st.upstreams.find((u) => u.skey === skey)!.clusters.flatMap((cl) => cl.peers.map((p) => [`${p.server!.host}`, p.passiveStatus === 'PASSIVE_STATUS_ERR' ? 'err' : 'ok', p.passiveFailedCount] as const));
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-fb-limits-'));
    writeFileSync(join(dir, 'checkups.yaml'), CONFIG);
    server = await startTestServer(dir, { feedbackToken: FEED, adminToken: ADMIN });
    c = clients(server.grpcAddress);
  });

  after(async () => {
    c?.close();
    await server?.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('nine failed Feedback calls from one caller exclude one peer of the level, not the level; another caller completes a second', async () => {
    const m0 = await metrics();
    const results: string[] = [];
    for (const host of ['10.7.0.1', '10.7.0.2', '10.7.0.3']) {
      for (let i = 0; i < 3; i++) {
        results.push(
          await call(c.discovery, c.discovery.Feedback, { skey: 'lvl', host, port: 80, failed: true }).then(
            () => 'ok',
            (err: grpc.ServiceError) => `${grpc.status[err.code]}: ${err.details}`,
          ),
        );
      }
    }
    assert.deepEqual(results.slice(0, 5), ['ok', 'ok', 'ok', 'ok', 'ok']);
    assert.match(
      results[5]!,
      /^RESOURCE_EXHAUSTED: lvl 10\.7\.0\.2:80: failure not counted: this caller's failures alone already brought another peer of the upstream to max_fails within fail_timeout, the most one caller may \(server\.feedback\.peers_per_caller: 1\); failures other callers report still count$/,
    );
    assert.deepEqual(results.slice(6, 8), ['ok', 'ok']);
    assert.match(results[8]!, /^RESOURCE_EXHAUSTED: lvl 10\.7\.0\.3:80: failure not counted: /);
    assert.deepEqual((await passive('lvl')).slice(0, 3), [
      ['10.7.0.1', 'err', 3],
      ['10.7.0.2', 'ok', 2],
      ['10.7.0.3', 'ok', 2],
    ]);
    // Picks stay on level 1 (its two peers left), as no real outage moved them.
    const hosts = new Set<string>();
    for (let i = 0; i < 6; i++) hosts.add((await call(c.discovery, c.discovery.SelectPeer, { skey: 'lvl' })).peer!.host);
    assert.deepEqual([...hosts].sort(), ['10.7.0.2', '10.7.0.3']);

    // A second caller (another credential) seeing the same peer fail completes max_fails.
    await call(c.discovery, c.discovery.Feedback, { skey: 'lvl', host: '10.7.0.2', port: 80, failed: true }, bearer(FEED));
    assert.deepEqual((await passive('lvl'))[1], ['10.7.0.2', 'err', 3]);

    const m1 = await metrics();
    const d = (result: string) => sample(m1, `checkups_feedback_outcomes_total{result="${result}"}`) - sample(m0, `checkups_feedback_outcomes_total{result="${result}"}`);
    assert.equal(d('peer_limited'), 2);
    assert.equal(d('applied'), 8);
  });

  it('a FeedbackBatch over max_batch is refused whole, naming the limit; one within it is applied', async () => {
    const outcomes = (n: number) => Array.from({ length: n }, () => ({ skey: 'batch', host: '10.9.0.1', port: 80, failed: true }));
    await assert.rejects(
      call(c.discovery, c.discovery.FeedbackBatch, { outcomes: outcomes(51) }, bearer(ADMIN)),
      grpcError(grpc.status.INVALID_ARGUMENT, /^outcomes: 51 in one FeedbackBatch, at most 50 \(server\.feedback\.max_batch\); nothing was applied: send them in batches of 50 or fewer$/),
    );
    assert.deepEqual(await passive('batch'), [['10.9.0.1', 'ok', 0]]);
    const res = await call(c.discovery, c.discovery.FeedbackBatch, { outcomes: outcomes(50) }, bearer(ADMIN));
    assert.deepEqual([res.applied, res.rejected], [50, []]);
    assert.deepEqual(await passive('batch'), [['10.9.0.1', 'ok', 50]]);
    assert.ok(sample(await metrics(), 'checkups_feedback_outcomes_total{result="batch_too_large"}') >= 51);
  });

  it('a caller over its rate is refused with the time to wait; nothing of that call is applied; other callers are not affected', async () => {
    // The admin token's bucket (60 at once, 1 per second) has 10 left after the batch above.
    const one = [{ skey: 'batch', host: '10.9.0.1', port: 80, failed: false }];
    await assert.rejects(
      call(c.discovery, c.discovery.FeedbackBatch, { outcomes: Array.from({ length: 20 }, () => one[0]!) }, bearer(ADMIN)),
      grpcError(grpc.status.RESOURCE_EXHAUSTED, /^feedback rate limit: one caller may report 1 outcomes per second, 60 at once \(server\.feedback\.caller_rate, caller_burst\); nothing of this call was applied: retry in \d+ ms$/),
    );
    assert.equal((await call(c.discovery, c.discovery.FeedbackBatch, { outcomes: one }, bearer(ADMIN))).applied, 1, 'a smaller call still fits');
    assert.equal((await call(c.discovery, c.discovery.FeedbackBatch, { outcomes: one }, bearer(FEED))).applied, 1);
    assert.ok(sample(await metrics(), 'checkups_feedback_outcomes_total{result="rate_limited"}') >= 20);
  });

  it('the ejection cap holds through the RPC whoever reports: at most half of an upstream is excluded', async () => {
    // Three callers (anonymous, feedback token, admin token), one peer each: the third is over the cap.
    await call(c.discovery, c.discovery.Feedback, { skey: 'cap', host: '10.8.0.1', port: 80, failed: true });
    await call(c.discovery, c.discovery.Feedback, { skey: 'cap', host: '10.8.0.2', port: 80, failed: true }, bearer(FEED));
    await call(c.discovery, c.discovery.Feedback, { skey: 'cap', host: '10.8.0.3', port: 80, failed: true }, bearer(ADMIN));
    assert.deepEqual(await passive('cap'), [
      ['10.8.0.1', 'err', 1],
      ['10.8.0.2', 'err', 1],
      ['10.8.0.3', 'ok', 1],
      ['10.8.0.4', 'ok', 0],
    ]);
    const hosts = new Set<string>();
    for (let i = 0; i < 6; i++) hosts.add((await call(c.discovery, c.discovery.SelectPeer, { skey: 'cap' })).peer!.host);
    assert.deepEqual([...hosts].sort(), ['10.8.0.3', '10.8.0.4']);
  });

  it('a batch reports the failures it did not count, one line per peer', async () => {
    // The anonymous caller already brought cap's 10.8.0.1 to max_fails: 10.8.0.4 is a second peer.
    const outcomes = Array.from({ length: 3 }, () => ({ skey: 'cap', host: '10.8.0.4', port: 80, failed: true }));
    const res = await call(c.discovery, c.discovery.FeedbackBatch, { outcomes: [...outcomes, { skey: 'nope', host: 'x', port: 1, failed: true }] });
    assert.equal(res.applied, 0);
    assert.deepEqual(res.rejected.map((r) => r.replace(/: .*/s, '')), ['nope x:1', 'cap 10.8.0.4:80']);
    assert.match(res.rejected[1]!, /^cap 10\.8\.0\.4:80: 3 failures not counted: /);
  });
});
