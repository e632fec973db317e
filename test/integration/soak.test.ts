/**
 * Soak, behind CHECKUPS_SOAK=1 (minutes, not part of a normal `npm test`): a server in a child
 * process holds 1,000 Watch and 1,000 ADS streams while SelectPeer load runs and a peer flips
 * down and up all the time; streams are dropped and reopened now and then. The server's RSS and
 * open fds (read from /proc) must stay flat between the end of the warm-up and the end.
 * CHECKUPS_SOAK_SECONDS sets the length (default 240).
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';
import { adsCall, NODE, xdsClient, type SotwResponse } from '../support/xds-harness.ts';

const ENABLED = process.env['CHECKUPS_SOAK'] === '1';
const SECONDS = Number(process.env['CHECKUPS_SOAK_SECONDS'] ?? 240);
const WATCH_STREAMS = 1000;
const ADS_STREAMS = 1000;
const CHANNELS = 10;

function usage(pid: number): { rssMb: number; fds: number } {
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]!;
  return { rssMb: Number(rss) / 1024, fds: readdirSync(`/proc/${pid}/fd`).length };
}

describe('soak (CHECKUPS_SOAK=1)', { skip: ENABLED ? false : 'set CHECKUPS_SOAK=1 to run the soak (minutes)' }, () => {
  let dir: string;
  let child: ChildProcess;
  after(async () => {
    child?.kill('SIGKILL');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it(`1,000 Watch + 1,000 ADS streams, SelectPeer load and flips for ${SECONDS} s: RSS and fds stay flat`, { timeout: (SECONDS + 120) * 1000 }, async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkups-soak-'));
    const servers = Array.from({ length: 20 }, (_, i) => `{ host: 10.0.0.${i + 1}, port: 80 }`).join(', ');
    await writeFile(join(dir, 'checkups.yaml'), `upstreams:\n  api:\n    cluster:\n      - servers: [ ${servers} ]\n  web:\n    cluster:\n      - servers: [ ${servers} ]\n`);
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve-child.ts', join(dir, 'checkups.yaml'), join(dir, 'data')], { stdio: ['ignore', 'pipe', 'inherit'] });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const address = (JSON.parse(line) as { grpc: string }).grpc;
    const pid = child.pid!;

    const channels: Clients[] = Array.from({ length: CHANNELS }, () => clients(address, { 'grpc.use_local_subchannel_pool': 1 }));
    const xdsChannels = Array.from({ length: CHANNELS }, () => xdsClient(address));
    const watches: grpc.ClientReadableStream<unknown>[] = [];
    const ads: grpc.ClientDuplexStream<object, SotwResponse>[] = [];
    let watchMessages = 0;
    let adsResponses = 0;
    const openWatch = (i: number) => {
      const s = channels[i % CHANNELS]!.discovery.Watch({ skeys: [] });
      s.on('data', () => watchMessages++);
      s.on('error', () => undefined);
      watches[i] = s;
    };
    const openAds = (i: number) => {
      const s = adsCall(xdsChannels[i % CHANNELS]!);
      s.on('data', (r: SotwResponse) => {
        adsResponses++;
        s.write({ type_url: ENDPOINT, version_info: r.version_info, response_nonce: r.nonce, resource_names: ['api', 'web'] });
      });
      s.on('error', () => undefined);
      s.write({ node: { ...NODE, id: `soak-${i}` }, type_url: ENDPOINT, resource_names: ['api', 'web'] });
      ads[i] = s;
    };
    for (let i = 0; i < WATCH_STREAMS; i++) openWatch(i);
    for (let i = 0; i < ADS_STREAMS; i++) openAds(i);

    const admin = channels[0]!;
    let running = true;
    let selects = 0;
    let flips = 0;
    const selectLoop = async (c: Clients) => {
      while (running) {
        await call(c.discovery, c.discovery.SelectPeer, { skey: 'api' }).catch(() => undefined);
        selects++;
      }
    };
    const flipLoop = async () => {
      while (running) {
        const host = `10.0.0.${1 + (flips % 20)}`;
        await call(admin.admin, admin.admin.SetPeerDown, { skey: 'web', host, port: 80 });
        await call(admin.admin, admin.admin.SetPeerUp, { skey: 'web', host, port: 80 });
        flips++;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    let reopened = 0;
    const churn = setInterval(() => {
      // Drop and reopen 1% of each kind of stream.
      for (let k = 0; k < 10; k++) {
        const i = Math.floor(Math.random() * WATCH_STREAMS);
        watches[i]!.cancel();
        openWatch(i);
        const j = Math.floor(Math.random() * ADS_STREAMS);
        ads[j]!.cancel();
        openAds(j);
        reopened += 2;
      }
    }, 1000);
    const loops = [flipLoop(), ...channels.slice(1, 5).map(selectLoop)];

    const warmupMs = Math.max(20_000, SECONDS * 200);
    await new Promise((r) => setTimeout(r, warmupMs));
    const start = usage(pid);
    const samples = [start];
    while (samples.length * 10_000 < SECONDS * 1000 - warmupMs) {
      await new Promise((r) => setTimeout(r, 10_000));
      samples.push(usage(pid));
    }
    running = false;
    clearInterval(churn);
    await Promise.all(loops);
    const end = usage(pid);
    for (const s of watches) s.cancel();
    for (const s of ads) s.cancel();
    for (const c of channels) c.close();
    for (const c of xdsChannels) c.close();
    console.log(
      `soak ${SECONDS} s: ${selects} SelectPeer, ${flips} flips, ${watchMessages} Watch messages, ${adsResponses} ADS responses, ${reopened} streams reopened; ` +
        `RSS ${start.rssMb.toFixed(0)} -> ${end.rssMb.toFixed(0)} MB (max ${Math.max(...samples.map((s) => s.rssMb)).toFixed(0)}), fds ${start.fds} -> ${end.fds}`,
    );
    assert.ok(flips > 10 && selects > 100 && watchMessages > WATCH_STREAMS && adsResponses > ADS_STREAMS, 'the load ran');
    assert.ok(end.rssMb < start.rssMb * 1.25 + 20, `RSS grew from ${start.rssMb.toFixed(0)} to ${end.rssMb.toFixed(0)} MB`);
    assert.ok(Math.abs(end.fds - start.fds) <= 20, `fds went from ${start.fds} to ${end.fds}`);
  });
});
