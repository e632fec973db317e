/**
 * The fleet bench's GetStatus caller, in a process of its own: argv = server address. It stands
 * for an operator's dashboard, not for the services that call SelectPeer: in the bench's own
 * process, receiving its pages (about 2 MB every few ms during the mass failure) kept the event
 * loop that times SelectPeer busy for tens of ms at a time, so the SelectPeer figures measured
 * the bench as much as the server.
 *
 * Prints "ready", then answers one JSON line per command line on stdin:
 * - `warm`: one call, not timed (the first page encodes every peer); answers `{}` when it is back;
 * - `start`: calls GetStatus in a loop, 5 ms apart, timing each; answers `{}` at once;
 * - `stop`: ends the loop; answers `{ "latencies": [ms, ...] }` (sorted).
 * Answers are kept as bytes, not decoded: the timing is the server's and the wire's.
 */
import * as grpc from '@grpc/grpc-js';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { RECEIVE_WINDOW_BYTES } from '../src/client/connection.ts';

const [address] = process.argv.slice(2) as [string];
// With the SDK's and CLI's receive window: grpc-js's default 64 KiB takes a round trip through
// the busy server's loop per 64 KiB of the answer (see RECEIVE_WINDOW_BYTES).
const client = new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc-node.flow_control_window': RECEIVE_WINDOW_BYTES });
const getStatus = () =>
  new Promise((resolve, reject) =>
    client.makeUnaryRequest('/checkups.v1.DiscoveryService/GetStatus', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0), { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r))),
  );

let running = false;
let loop: Promise<number[]> | undefined;

async function timeLoop(): Promise<number[]> {
  const lat: number[] = [];
  while (running) {
    const t = performance.now();
    await getStatus().catch(() => undefined);
    lat.push(performance.now() - t);
    await sleep(5);
  }
  return lat.sort((a, b) => a - b);
}

createInterface({ input: process.stdin }).on('line', (line) => {
  void (async () => {
    if (line === 'warm') {
      await getStatus();
      process.stdout.write('{}\n');
    } else if (line === 'start') {
      running = true;
      loop = timeLoop();
      process.stdout.write('{}\n');
    } else if (line === 'stop') {
      running = false;
      process.stdout.write(`${JSON.stringify({ latencies: (await loop) ?? [] })}\n`);
      client.close();
    }
  })();
});
process.stdout.write('ready\n');
