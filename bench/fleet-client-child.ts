/**
 * One client process of `bench fleet`: `watch` checkups Watch streams and `ads` xDS ADS (SotW,
 * EDS, ACKing like gRPC) streams on `channels` channels, all following upstream `svc`. Driven by
 * JSON lines on stdin, answers JSON lines on stdout:
 *   {"cmd":"synced"}           -> {"synced": n}        streams that got their first message
 *   {"cmd":"expect"}           -> {"ok": true}         record the next message of every stream
 *   {"cmd":"count"}            -> {"got": n, "of": m}  live (not stalled) streams that got it
 *   {"cmd":"report"}           -> {"at": [...], "majorGcMs": [...]}  their receipt times (epoch ms,
 *                                 fractional); this process's major collections since "expect" (ms each)
 *   {"cmd":"stall","share":s}  -> {"stalled": n}       stop reading (and ACKing) on a share of streams
 *   {"cmd":"unstall"}          -> {"ok": true}
 *   {"cmd":"reconnect"}        -> {"ok": true}         drop every stream and open it again at once
 * argv: address watch ads channels
 */
import * as grpc from '@grpc/grpc-js';
import { PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import protobuf from 'protobufjs/minimal.js';
import { backoffDelayMs, retryDelayMs } from '../src/client/watch-connection.ts';
import { pushbackMs } from '../src/wire/errors.ts';
import { ENDPOINT } from '../src/server/xds/type-urls.ts';
import { checkupsProto } from '../src/wire/proto.ts';
import { isMajorGc } from '../test/support/gc-entries.ts';
import { NODE, xdsClient } from '../test/support/xds-harness.ts';

const [address, watchArg, adsArg, channelsArg] = process.argv.slice(2) as [string, string, string, string];
const WATCH = Number(watchArg);
const ADS = Number(adsArg);
const CHANNELS = Number(channelsArg);
const now = () => performance.timeOrigin + performance.now();

interface Stream {
  synced: boolean;
  stalled: boolean;
  expecting: boolean;
  gotAt: number | null;
  cancel(): void;
  pause(): void;
  resume(): void;
  retry(delay: (attempt: number) => number): void;
}

/**
 * The streams are raw: responses stay bytes. An ADS stream reads only what its ACK needs (the
 * version and the nonce); a Watch stream only that a message came. This process is a load
 * generator holding thousands of clients on the server's cores: decoding every response in full
 * (as each client does on its own machine) cost these processes more CPU than the server spent
 * sending, and the server waited for a core behind them.
 */
const identity = (b: Buffer) => b;
type Serialize = (value: object) => Buffer;
const watchMethod = (checkupsProto().DiscoveryService as unknown as { service: { Watch: { path: string; requestSerialize: Serialize } } }).service.Watch;
// Each channel on its own connection: sharing one, 2,500 ADS streams ran into the server's
// per-connection limit (1,000) in full mode.
const discovery = Array.from({ length: CHANNELS }, () => new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
const xds = Array.from({ length: CHANNELS }, () => xdsClient(address, undefined, { 'grpc.use_local_subchannel_pool': 1 }));
const adsMethod = (xds[0]!.constructor as unknown as { service: { StreamAggregatedResources: { path: string; requestSerialize: Serialize } } }).service.StreamAggregatedResources;
const streams: Stream[] = [];

/** version_info (field 1) and nonce (field 5) of a DiscoveryResponse, skipping the rest. */
function ackFields(bytes: Buffer): { version: string; nonce: string } {
  const r = protobuf.Reader.create(bytes);
  let version = '';
  let nonce = '';
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag >>> 3 === 1) version = r.string();
    else if (tag >>> 3 === 5) nonce = r.string();
    else r.skipType(tag & 7);
  }
  return { version, nonce };
}

/**
 * This process's major (mark-compact) collections since the last `expect`, as wall ms each. The
 * bench shows them beside each flip: these processes hold thousands of clients in one heap and
 * allocate alike, so their major collections can fall in the same flip and delay all of it, for
 * checkups and the floor alike; a client on a machine of its own has a small heap of its own.
 */
const majorGcMs: number[] = [];
let expectAt = 0;
const countGc = (entries: readonly PerformanceEntry[]) => {
  for (const e of entries) if (isMajorGc(e) && e.startTime >= expectAt) majorGcMs.push(e.duration);
};
const gcObserver = new PerformanceObserver((list) => countGc(list.getEntries()));
gcObserver.observe({ entryTypes: ['gc'] });

function onMessage(s: Stream): void {
  s.synced = true;
  if (s.expecting && s.gotAt === null) s.gotAt = now();
}

/**
 * A stream the server refused or ended (admission during a storm, a restart) is opened again
 * after a delay: as the SDK waits for a Watch (the server's pushback, else its backoff), as Envoy
 * for ADS (full jitter below 500 ms x 2^attempt, at most 30 s; no pushback). `cancel()` (ours)
 * ends it for good.
 */
function reopening(open: (attempt: number) => { cancel(): void; pause(): void; resume(): void }, s: Stream): void {
  let attempt = 0;
  let current = open(attempt);
  let cancelled = false;
  s.cancel = () => {
    cancelled = true;
    current.cancel();
  };
  s.pause = () => current.pause();
  s.resume = () => current.resume();
  s.retry = (delay) => {
    if (cancelled) return;
    setTimeout(() => {
      if (!cancelled) current = open(attempt);
    }, delay(attempt++));
  };
}

function openWatch(i: number): Stream {
  const s = { synced: false, stalled: false, expecting: false, gotAt: null } as Stream;
  reopening(() => {
    const call = discovery[i % CHANNELS]!.makeServerStreamRequest(watchMethod.path, watchMethod.requestSerialize, identity, { skeys: ['svc'] });
    call.on('data', () => onMessage(s));
    call.on('error', () => undefined);
    call.on('status', (st: grpc.StatusObject) => st.code !== grpc.status.CANCELLED && s.retry((n) => retryDelayMs(n, Math.random, pushbackMs(st.metadata))));
    return { cancel: () => call.cancel(), pause: () => call.pause(), resume: () => call.resume() };
  }, s);
  return s;
}

function openAds(i: number): Stream {
  const s = { synced: false, stalled: false, expecting: false, gotAt: null } as Stream;
  reopening(() => {
    const call = xds[i % CHANNELS]!.makeBidiStreamRequest(adsMethod.path, adsMethod.requestSerialize, identity);
    call.on('data', (bytes: Buffer) => {
      onMessage(s);
      // A stalled client neither reads nor ACKs; the ACK is what lets the server send the next one.
      if (!s.stalled) {
        const { version, nonce } = ackFields(bytes);
        call.write({ type_url: ENDPOINT, version_info: version, response_nonce: nonce, resource_names: ['svc'] });
      }
    });
    call.on('error', () => undefined);
    call.on('status', (st: grpc.StatusObject) => st.code !== grpc.status.CANCELLED && s.retry((n) => backoffDelayMs(n, Math.random, 500, 30_000)));
    call.write({ node: { ...NODE, id: `fleet-${process.pid}-${i}` }, type_url: ENDPOINT, resource_names: ['svc'] });
    return { cancel: () => call.cancel(), pause: () => call.pause(), resume: () => call.resume() };
  }, s);
  return s;
}

function openAll(): void {
  for (let i = 0; i < WATCH; i++) streams[i] = openWatch(i);
  for (let i = 0; i < ADS; i++) streams[WATCH + i] = openAds(i);
}

openAll();
const reply = (o: object) => process.stdout.write(`${JSON.stringify(o)}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  const msg = JSON.parse(line) as { cmd: string; share?: number };
  const live = streams.filter((s) => !s.stalled);
  switch (msg.cmd) {
    case 'synced':
      reply({ synced: streams.filter((s) => s.synced).length });
      break;
    case 'expect':
      expectAt = performance.now();
      majorGcMs.length = 0;
      for (const s of streams) {
        s.expecting = true;
        s.gotAt = null;
      }
      reply({ ok: true });
      break;
    case 'count':
      reply({ got: live.filter((s) => s.gotAt !== null).length, of: live.length });
      break;
    case 'report':
      countGc(gcObserver.takeRecords()); // collections not delivered to the observer yet
      reply({ at: live.map((s) => s.gotAt).filter((t) => t !== null), majorGcMs });
      break;
    case 'stall': {
      // Spread over both kinds: every n-th stream.
      const every = Math.max(1, Math.round(1 / msg.share!));
      let n = 0;
      streams.forEach((s, i) => {
        if (i % every === 0) {
          s.stalled = true;
          s.pause();
          n++;
        }
      });
      reply({ stalled: n });
      break;
    }
    case 'unstall':
      for (const s of streams) {
        if (s.stalled) {
          s.stalled = false;
          s.resume();
        }
      }
      reply({ ok: true });
      break;
    case 'reconnect':
      for (const s of streams) s.cancel();
      openAll();
      reply({ ok: true });
      break;
    default:
      reply({ error: `unknown command ${msg.cmd}` });
  }
}
