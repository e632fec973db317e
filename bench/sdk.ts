/**
 * `npm run bench -- sdk`: SDK local picks per second vs SelectPeer RPCs per second, same
 * upstream (100 weighted servers), same run. The server runs in a child process.
 * Target (issue 6): local pick >= 100x the RPC rate and < 1 µs.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { CheckupsClient } from '../src/client/index.ts';
import { checkupsProto } from '../src/wire/proto.ts';
import { closedLoop, consume, measure, printTable, quantile, writeResult } from './harness.ts';

const CALLERS = 64;
const RPC_MS = 3000;

async function rpcRate(address: string): Promise<{ perSec: number; p50: number; p99: number }> {
  const client = new (checkupsProto().DiscoveryService)(address, grpc.credentials.createInsecure());
  const r = await closedLoop(CALLERS, RPC_MS, (done) => client.SelectPeer({ skey: 'api' }, done));
  client.close();
  return { perSec: r.perSec, p50: quantile(r.latencies, 0.5), p99: quantile(r.latencies, 0.99) };
}

export async function run(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-sdk-'));
  const servers = Array.from({ length: 100 }, (_, i) => `{ host: 10.0.${i >> 8}.${i & 255}, port: 8080, weight: ${1 + (i % 5)} }`).join(', ');
  writeFileSync(join(dir, 'c.yaml'), `upstreams:\n  api:\n    cluster:\n      - servers: [ ${servers} ]\n  hashed:\n    mode: hash\n    cluster:\n      - servers: [ ${servers} ]\n`);
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve-child.ts', join(dir, 'c.yaml'), join(dir, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  const address = (JSON.parse(line) as { grpc: string }).grpc;
  const sdk = new CheckupsClient({ servers: address });
  try {
    await sdk.ready();
    for (let i = 0; i < 100_000; i++) consume(sdk.pick('api').port);
    const keys = Array.from({ length: 4096 }, (_, i) => `user-${i}`);
    let j = 0;
    const localWrr = measure((n) => {
      for (let i = 0; i < n; i++) consume(sdk.pick('api').port);
    });
    const localHash = measure((n) => {
      for (let i = 0; i < n; i++) consume(sdk.pick('hashed', { hashKey: keys[j++ & 4095]! }).port);
    });
    await rpcRate(address); // warm-up
    const rpc = await rpcRate(address);
    const rows = [
      { path: 'SDK local pick (wrr)', 'picks/s': Math.round(localWrr.opsPerSec), 'ns/pick': localWrr.nsPerOp, 'x RPC': localWrr.opsPerSec / rpc.perSec },
      { path: 'SDK local pick (hash)', 'picks/s': Math.round(localHash.opsPerSec), 'ns/pick': localHash.nsPerOp, 'x RPC': localHash.opsPerSec / rpc.perSec },
      { path: `SelectPeer RPC (${CALLERS} callers)`, 'picks/s': Math.round(rpc.perSec), 'ns/pick': 1e9 / rpc.perSec, 'x RPC': 1 },
    ];
    printTable('sdk: local picks vs SelectPeer RPCs, same upstream (100 servers), same run', rows);
    const ratio = localWrr.opsPerSec / rpc.perSec;
    console.log(
      `local pick ${localWrr.nsPerOp.toFixed(0)} ns (target < 1000 ns: ${localWrr.nsPerOp < 1000 ? 'ok' : 'MISSED'}), ` +
        `${ratio.toFixed(0)}x the RPC rate (target >= 100x: ${ratio >= 100 ? 'ok' : 'MISSED'}); RPC p50 ${rpc.p50.toFixed(1)} ms, p99 ${rpc.p99.toFixed(1)} ms`,
    );
    console.log(`written: ${writeResult('sdk', { rows, ratio, rpc })}`);
  } finally {
    await sdk.close();
    child.kill('SIGTERM');
    await once(child, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
}
