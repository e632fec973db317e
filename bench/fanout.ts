/**
 * `npm run bench -- fanout`: push latency of one health flip to N xDS (SotW ADS, EDS subscribed,
 * ACKing like gRPC) and N checkups Watch streams at once, for N = 1,000 and 5,000.
 *
 * The server runs in a child process (this file with FANOUT_ROLE=server, --expose-gc) so its
 * CPU and RSS are its own; the clients here share a few dozen channels (one HTTP/2 connection
 * each, loopback). Latency = the flip command written to the child -> the update read on a
 * stream, so it includes the client's own queueing (same 2 cores). Per size: one warm-up flip,
 * then FLIPS measured ones (percentiles over every stream of every measured flip).
 * Target (issue 5): p99 < 200 ms at 1,000 streams; encodes per flip independent of N.
 */
import * as grpc from '@grpc/grpc-js';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { packageDefinition } from '../src/wire/proto.ts';
import { envoyCodec } from '../src/server/xds/proto.ts';
import { ENDPOINT } from '../src/server/xds/type-urls.ts';
import { stringField } from '../src/server/xds/wire.ts';
import { printTable, quantile, writeResult } from './harness.ts';

const SIZES = [1000, 5000];
const FLIPS = 5;
/** Flips before measuring: the first pushes run cold (JIT, setup garbage). */
const WARMUP_FLIPS = 1;
const STREAMS_PER_CHANNEL = 100;
const ADS = '/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources';
const WATCH = '/checkups.v1.DiscoveryService/Watch';

interface ServerStats {
  rss: number;
  cpuUs: number;
  xds: { streams: number; encodes: number; responses: number; nacks: number };
  watch: { streams: number; encodes: number; messages: number };
}

/** One client stream: counts messages and stamps the latest arrival. */
interface Probe {
  count: number;
  at: number;
}

/** The child: a checkups server that flips a peer's health on "flip" and reports on "stats". */
async function serveChild(): Promise<void> {
  const pino = (await import('pino')).default;
  const { startCheckups } = await import('../src/main.ts');
  const dir = mkdtempSync(join(tmpdir(), 'checkups-bench-fanout-'));
  const level = (base: number) => Array.from({ length: 20 }, (_, i) => `{ host: 10.0.${base}.${i + 1}, port: 8080 }`).join(', ');
  // Its clients open every stream at once and do not retry: admission is lifted (the fleet bench measures storms).
  writeFileSync(join(dir, 'c.yaml'), `server:\n  stream_admission: { rate: 1000000, burst: 1000000 }\nupstreams:\n  api:\n    cluster:\n      - servers: [ ${level(1)} ]\n      - servers: [ ${level(2)} ]\n`);
  const server = await startCheckups({ configFile: join(dir, 'c.yaml'), dataDir: join(dir, 'data'), grpcListen: '127.0.0.1:0', httpListen: '127.0.0.1:0', healthChecks: false, logger: pino({ level: 'silent' }) });
  server.grpc.xds.start();
  let bad = false;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (cmd) => {
    if (cmd === 'flip') {
      bad = !bad;
      server.registry.setHealth('api', '10.0.1.1:8080', { status: bad ? 'err' : 'ok', failNum: bad ? 1 : 0, lastModified: Date.now(), msg: null });
    } else if (cmd === 'stats') {
      (globalThis as { gc?: () => void }).gc?.();
      const cpu = process.cpuUsage();
      const stats: ServerStats = { rss: process.memoryUsage().rss, cpuUs: cpu.user + cpu.system, xds: server.grpc.xds.stats(), watch: server.grpc.watch.stats() };
      process.stdout.write(`${JSON.stringify(stats)}\n`);
    }
  });
  lines.on('close', () => void server.stop(500).then(() => (rmSync(dir, { recursive: true, force: true }), process.exit(0))));
  process.stdout.write(`${JSON.stringify({ grpc: server.grpcAddress })}\n`);
}

class Child {
  private readonly proc: ChildProcess;
  private readonly lines: Interface;
  private readonly answers: Array<(line: string) => void> = [];

  constructor() {
    this.proc = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', fileURLToPath(import.meta.url)], { env: { ...process.env, FANOUT_ROLE: 'server' }, stdio: ['pipe', 'pipe', 'inherit'] });
    this.lines = createInterface({ input: this.proc.stdout! });
    this.lines.on('line', (l) => this.answers.shift()?.(l));
  }

  private next(): Promise<string> {
    return new Promise((resolve) => this.answers.push(resolve));
  }

  async address(): Promise<string> {
    return (JSON.parse(await this.next()) as { grpc: string }).grpc;
  }

  async stats(): Promise<ServerStats> {
    const answer = this.next();
    this.proc.stdin!.write('stats\n');
    return JSON.parse(await answer) as ServerStats;
  }

  flip(): void {
    this.proc.stdin!.write('flip\n');
  }

  async stop(): Promise<void> {
    const exited = once(this.proc, 'exit');
    this.proc.stdin!.end();
    await exited;
  }
}

/** Reads version_info (1) and nonce (5) from DiscoveryResponse bytes without decoding the rest. */
function versionAndNonce(b: Buffer): { version: string; nonce: string } {
  let i = 0;
  const out = { version: '', nonce: '' };
  const varint = () => {
    let n = 0;
    let mul = 1;
    for (;;) {
      const x = b[i++]!;
      n += (x & 0x7f) * mul;
      if (x < 0x80) return n;
      mul *= 0x80;
    }
  };
  while (i < b.length) {
    const tag = varint();
    const len = varint();
    if (tag === 0x0a) out.version = b.toString('utf8', i, i + len);
    else if (tag === 0x2a) out.nonce = b.toString('utf8', i, i + len);
    i += len;
  }
  return out;
}

function channels(address: string, n: number): grpc.Client[] {
  return Array.from({ length: Math.ceil(n / STREAMS_PER_CHANNEL) }, () => new grpc.Client(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
}

function openAds(clients: grpc.Client[], n: number): { probes: Probe[]; calls: grpc.ClientDuplexStream<Buffer, Buffer>[] } {
  const serialize = (envoyCodec().packageDefinition['envoy.service.discovery.v3.AggregatedDiscoveryService'] as unknown as Record<string, { requestSerialize(v: object): Buffer }>)['StreamAggregatedResources']!.requestSerialize;
  const first = serialize({ node: { id: 'bench', locality: {} }, type_url: ENDPOINT, resource_names: ['api'] });
  const names = stringField(3, 'api');
  const probes: Probe[] = [];
  const calls = Array.from({ length: n }, (_, i) => {
    const call = clients[i % clients.length]!.makeBidiStreamRequest(ADS, (b: Buffer) => b, (b: Buffer) => b);
    const probe: Probe = { count: 0, at: 0 };
    probes.push(probe);
    call.on('data', (b: Buffer) => {
      probe.at = performance.now();
      probe.count++;
      const { version, nonce } = versionAndNonce(b);
      // Hand-assembled ACK (DiscoveryRequest fields 1, 3, 4, 5): keeps the clients' CPU low.
      call.write(Buffer.concat([stringField(1, version), names, stringField(4, ENDPOINT), stringField(5, nonce)]));
    });
    call.on('error', () => {});
    call.write(first);
    return call;
  });
  return { probes, calls };
}

function openWatch(clients: grpc.Client[], n: number): { probes: Probe[]; calls: grpc.ClientReadableStream<Buffer>[] } {
  const request = (packageDefinition()['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition)['Watch']!.requestSerialize({ skeys: ['api'] });
  const probes: Probe[] = [];
  const calls = Array.from({ length: n }, (_, i) => {
    const call = clients[i % clients.length]!.makeServerStreamRequest(WATCH, (b: Buffer) => b, (b: Buffer) => b, request);
    const probe: Probe = { count: 0, at: 0 };
    probes.push(probe);
    call.on('data', () => {
      probe.at = performance.now();
      probe.count++;
    });
    call.on('error', () => {});
    return call;
  });
  return { probes, calls };
}

async function until(cond: () => boolean, what: string, maxMs = 60_000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`fanout: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function measureSize(n: number): Promise<Record<string, string | number>[]> {
  const child = new Child();
  const address = await child.address();
  const clientsAds = channels(address, n);
  const clientsWatch = channels(address, n);
  try {
    const empty = await child.stats();
    const ads = openAds(clientsAds, n);
    await until(() => ads.probes.every((p) => p.count >= 1), `${n} ADS streams synced`);
    const afterAds = await child.stats();
    const watch = openWatch(clientsWatch, n);
    await until(() => watch.probes.every((p) => p.count >= 1), `${n} Watch streams synced`);
    const afterWatch = await child.stats();
    let base = afterWatch;
    let coldP99 = 0;
    const lat = { ads: [] as number[], watch: [] as number[] };
    let clientCpuUs = 0;
    for (let f = -WARMUP_FLIPS; f < FLIPS; f++) {
      await new Promise((r) => setTimeout(r, 200)); // let ACKs settle
      const want = { ads: ads.probes.map((p) => p.count + 1), watch: watch.probes.map((p) => p.count + 1) };
      const cpu0 = process.cpuUsage();
      const t0 = performance.now();
      child.flip();
      await until(() => ads.probes.every((p, i) => p.count >= want.ads[i]!) && watch.probes.every((p, i) => p.count >= want.watch[i]!), `flip ${f} to reach every stream`);
      if (f < 0) {
        base = await child.stats(); // the warm-up flip's CPU is not counted
        const all = [...ads.probes, ...watch.probes].map((p) => p.at - t0).sort((a, b) => a - b);
        coldP99 = quantile(all, 0.99);
        continue;
      }
      const cpu = process.cpuUsage(cpu0);
      clientCpuUs += cpu.user + cpu.system;
      for (const p of ads.probes) lat.ads.push(p.at - t0);
      for (const p of watch.probes) lat.watch.push(p.at - t0);
    }
    const end = await child.stats();
    for (const c of [...ads.calls, ...watch.calls]) c.cancel();
    const row = (kind: 'ads' | 'watch', rssBytes: number, encodes: number) => {
      const sorted = lat[kind].sort((a, b) => a - b);
      return {
        streams: n,
        kind: kind === 'ads' ? 'xDS ADS (EDS)' : 'Watch',
        'p50 ms': quantile(sorted, 0.5),
        'p99 ms': quantile(sorted, 0.99),
        'max ms': sorted.at(-1)!,
        'encodes/flip': encodes / FLIPS,
        'RSS KiB/stream': rssBytes / n / 1024,
      };
    };
    const rows = [row('ads', afterAds.rss - empty.rss, end.xds.encodes - base.xds.encodes), row('watch', afterWatch.rss - afterAds.rss, end.watch.encodes - base.watch.encodes)];
    const cpuMsPerFlip = (end.cpuUs - base.cpuUs) / 1000 / FLIPS;
    for (const r of rows) Object.assign(r, { 'server CPU ms/flip': cpuMsPerFlip, 'client CPU ms/flip': clientCpuUs / 1000 / FLIPS, 'cold p99 ms': coldP99 });
    return rows;
  } finally {
    for (const c of [...clientsAds, ...clientsWatch]) c.close();
    await child.stop();
  }
}

export async function run(): Promise<void> {
  const rows: Record<string, string | number>[] = [];
  for (const n of SIZES) rows.push(...(await measureSize(n)));
  printTable(`fanout: one health flip -> every stream (${FLIPS} measured flips per size after ${WARMUP_FLIPS} warm-up; CPU and cold p99 cover both kinds together)`, rows);
  const p99 = rows.filter((r) => r['streams'] === 1000).map((r) => r['p99 ms'] as number);
  const encodes = rows.filter((r) => r['kind'] !== 'Watch').map((r) => r['encodes/flip']);
  console.log(`1,000 streams p99 ${p99.map((x) => x.toFixed(1)).join(' / ')} ms (target < 200: ${p99.every((x) => x < 200) ? 'ok' : 'MISSED'}); xDS encodes per flip ${encodes.join(' / ')} (independent of N: ${new Set(encodes).size === 1 ? 'ok' : 'MISSED'})`);
  console.log(`written: ${writeResult('fanout', { flips: FLIPS, rows })}`);
}

if (process.env['FANOUT_ROLE'] === 'server') await serveChild();
