/**
 * `npm run bench -- rpc`: SelectPeer throughput and latency with 64 concurrent callers, side by
 * side with a no-op unary RPC (grpc.health.v1.Health/Check) on the same server, in alternating
 * rounds. The server runs in a child process; the callers share one channel here.
 * Target (issue 4): SelectPeer at >= 90% of the no-op's throughput.
 */
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkupsProto } from '../src/wire/proto.ts';
import { closedLoop, printTable, quantile, writeResult } from './harness.ts';

const CALLERS = 64;
const ROUND_MS = 2000;
const ROUNDS = 3;

type Caller = (done: (err: unknown) => void) => void;

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-rpc-'));
  const servers = Array.from({ length: 100 }, (_, i) => `{ host: 10.0.${i >> 8}.${i & 255}, port: 8080, weight: ${1 + (i % 5)} }`).join(', ');
  writeFileSync(join(dir, 'c.yaml'), `upstreams:\n  api:\n    cluster:\n      - servers: [ ${servers} ]\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve-child.ts', join(dir, 'c.yaml'), join(dir, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const address = (JSON.parse(line) as { grpc: string }).grpc;
  try {
    const proto = checkupsProto();
    const discovery = new proto.DiscoveryService(address, grpc.credentials.createInsecure());
    const healthPkg = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath)) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    // Same channel for both, so the comparison is of the handlers, not of connections.
    const health = new healthPkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure(), { channelOverride: discovery.getChannel() }) as unknown as {
      Check(req: object, cb: (e: Error | null) => void): void;
    };
    const select: Caller = (done) => discovery.SelectPeer({ skey: 'api' }, (e) => done(e));
    const noop: Caller = (done) => health.Check({ service: '' }, (e) => done(e));
    for (const warm of [noop, select]) await closedLoop(CALLERS, ROUND_MS, warm);
    const results: Record<string, { perSec: number[]; errors: number; lat: number[] }> = {};
    for (let r = 0; r < ROUNDS; r++) {
      for (const [name, fn] of [['no-op (Health/Check)', noop], ['SelectPeer', select]] as const) {
        const res = await closedLoop(CALLERS, ROUND_MS, fn);
        const acc = (results[name] ??= { perSec: [], errors: 0, lat: [] });
        acc.perSec.push(res.perSec);
        acc.errors += res.errors;
        acc.lat.push(...res.latencies);
      }
    }
    const rows = Object.entries(results).map(([name, r]) => {
      const sorted = r.lat.sort((a, b) => a - b);
      const perSec = r.perSec.reduce((a, b) => a + b, 0) / r.perSec.length;
      return { rpc: name, 'calls/s': Math.round(perSec), 'p50 ms': quantile(sorted, 0.5), 'p99 ms': quantile(sorted, 0.99), errors: r.errors };
    });
    printTable(`rpc: ${CALLERS} concurrent callers, ${ROUNDS} alternating rounds of ${ROUND_MS} ms each`, rows);
    const ratio = (rows[1]!['calls/s'] as number) / (rows[0]!['calls/s'] as number);
    console.log(`SelectPeer / no-op throughput: ${(ratio * 100).toFixed(1)}% (target >= 90%: ${ratio >= 0.9 ? 'ok' : 'MISSED'})`);
    console.log(`written: ${writeResult('rpc', { callers: CALLERS, rows, ratio })}`);
    discovery.close();
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}
