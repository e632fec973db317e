/**
 * `npm run bench -- feedback`: what one reported outcome costs the server, in a server in this
 * process (its log at info level into /dev/null, as a production log costs). Upstream `big` has
 * 10,000 peers with max_fails 1, so every failure of a peer not yet excluded excludes it (the
 * verdict is published, a Watch/GetStatus change, an event record). Each round is one
 * FeedbackBatch of 1,000 outcomes, timed from the call to its reply:
 *
 * - failures of 1,000 fresh peers while 0, 1,000 and 2,000 are already excluded: with work per
 *   failure that grows with the peers already excluded, the later rounds cost more;
 * - then 1,000 successes (no verdict): the path every outcome takes.
 *
 * Repeated on SERVERS fresh servers; the table has the median. Writes bench/results/feedback.json.
 */
import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { startCheckups } from '../src/main.ts';
import { checkupsProto } from '../src/wire/proto.ts';
import { printTable, quantile, writeResult } from './harness.ts';

const SHORT = process.env['CI'] === 'true' || process.env['CHECKUPS_BENCH_SHORT'] === '1';
const SERVERS = SHORT ? 3 : 7;
const BIG = 10_000;
const BATCH = 1000;

const host = (i: number) => `10.1.${i >> 8}.${i & 255}`;

function feedbackBatch(client: grpc.Client, first: number, failed: boolean): Promise<{ applied: number }> {
  const outcomes = Array.from({ length: BATCH }, (_, k) => ({ skey: 'big', host: host(first + k), port: 80, failed }));
  return new Promise((resolve, reject) =>
    (client as unknown as { FeedbackBatch(r: object, cb: (e: Error | null, r: { applied: number }) => void): void }).FeedbackBatch({ outcomes }, (e, r) => (e ? reject(e) : resolve(r))),
  );
}

export async function run(): Promise<void> {
  const rounds: Array<[string, number, boolean]> = [
    ['failures, 0 excluded before', 0, true],
    ['failures, 1,000 excluded before', BATCH, true],
    ['failures, 2,000 excluded before', 2 * BATCH, true],
    ['successes', 5 * BATCH, false],
  ];
  const samples = new Map<string, number[]>(rounds.map(([name]) => [name, []]));
  const servers = Array.from({ length: BIG }, (_, i) => `          - { host: ${host(i)}, port: 80, max_fails: 1, fail_timeout: 600 }`).join('\n');
  for (let s = 0; s < SERVERS; s++) {
    const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-feedback-'));
    writeFileSync(join(dir, 'c.yaml'), `server:\n  feedback: { peers_per_caller: ${BIG} }\nupstreams:\n  big:\n    cluster:\n      - servers:\n${servers}\n`);
    const server = await startCheckups({
      configFile: join(dir, 'c.yaml'),
      dataDir: join(dir, 'data'),
      grpcListen: '127.0.0.1:0',
      httpListen: '127.0.0.1:0',
      healthChecks: false,
      logger: pino({ level: 'info' }, pino.destination({ dest: '/dev/null', sync: true })),
    });
    const client = new (checkupsProto().DiscoveryService)(server.grpcAddress, grpc.credentials.createInsecure());
    try {
      await feedbackBatch(client, 9 * BATCH, false); // warm-up: connection, code paths
      for (const [name, first, failed] of rounds) {
        const t = performance.now();
        const { applied } = await feedbackBatch(client, first, failed);
        const ms = performance.now() - t;
        if (applied !== BATCH) throw new Error(`${name}: ${applied} of ${BATCH} applied`);
        samples.get(name)!.push((ms * 1000) / BATCH);
      }
    } finally {
      client.close();
      await server.stop(1000);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const results: Record<string, number> = {};
  for (const [name, us] of samples) results[`${name}: us per outcome`] = Number(quantile(us.sort((a, b) => a - b), 0.5).toFixed(1));
  printTable(
    `feedback: one FeedbackBatch of ${BATCH.toLocaleString('en')} outcomes on an upstream of ${BIG.toLocaleString('en')} peers, median of ${SERVERS} servers${SHORT ? ' (short mode)' : ''}`,
    Object.entries(results).map(([figure, value]) => ({ figure, value })),
  );
  console.log(`written: ${writeResult('feedback', { short: SHORT, servers: SERVERS, ...results })}`);
}
