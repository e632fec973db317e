/**
 * The fleet bench's floor: a bare grpc-js server in a child process that does nothing but write
 * given bytes to its streams, for the same client processes as checkups
 * (fleet-client-child.ts). What it costs to push one message to every stream, and how late the
 * last client sees it, is what this machine allows with no server logic at all: no decoding of
 * requests, no planning, no accounting. argv: watchFile adsFile (a Watch message and an EDS
 * DiscoveryResponse as checkups sent them; every ADS stream gets the same one, and the clients
 * ACK it as they do checkups').
 *
 * Prints {"grpc": "host:port"} once listening, then answers one JSON line per command line:
 *   flip -> {} once every stream was written (in slices of the event loop, as checkups fans out)
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { FANOUT_SLICE_MS } from '../src/server/stream-flow.ts';
import { systemClock } from '../src/util/clock.ts';
import { forEachSliced } from '../src/util/sliced.ts';

const [watchFile, adsFile] = process.argv.slice(2) as [string, string];
const watchBytes = readFileSync(watchFile);
const adsBytes = readFileSync(adsFile);
const identity = (b: Buffer) => b;
const method = (path: string, requestStream: boolean) => ({ path, requestStream, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity });

/** Every open stream with the bytes it gets, Watch and ADS interleaved in the order they came. */
const streams = new Set<{ call: grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>; bytes: Buffer }>();
const server = new grpc.Server();
server.addService(
  { Watch: method('/checkups.v1.DiscoveryService/Watch', false), StreamAggregatedResources: method('/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', true) },
  {
    Watch: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
      const s = { call, bytes: watchBytes };
      streams.add(s);
      call.on('cancelled', () => streams.delete(s));
      call.write(watchBytes);
    },
    // The first request subscribes; the rest are ACKs, read and dropped.
    StreamAggregatedResources: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      const s = { call, bytes: adsBytes };
      call.once('data', () => {
        streams.add(s);
        call.write(adsBytes);
      });
      call.on('data', () => undefined);
      call.on('error', () => undefined);
      call.on('cancelled', () => streams.delete(s));
    },
  },
);
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err !== null) throw err;
  process.stdout.write(`${JSON.stringify({ grpc: `127.0.0.1:${port}` })}\n`);
});

const reply = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line === 'flip') forEachSliced(systemClock, [...streams], FANOUT_SLICE_MS, (s) => s.call.write(s.bytes), () => reply({}));
  else reply({ error: `unknown command ${line}` });
}
