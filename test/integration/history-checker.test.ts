/**
 * A Watch and xDS history checker in the style of etcd's robustness tests: clients record every
 * message they get while an admin writer changes upstreams and faults are injected (a client
 * drops its stream and resumes, a client stops reading for a while, the server is killed with
 * SIGKILL and restarted on the same data dir and port). Then, per client:
 *
 * - versions of every upstream only go up, within a stream and across reconnects;
 * - one version always carries the same content;
 * - a resumed stream (known_versions) resends nothing the client holds;
 * - no gap loses the final state: once the writer stops, every client's view equals what a fresh
 *   client gets, for Watch (snapshots) and for xDS (EDS ClusterLoadAssignments).
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import type { WatchResponse__Output } from '../../src/generated/checkups/v1/WatchResponse.ts';
import { ENDPOINT } from '../../src/server/xds/type-urls.ts';
import { structToJson } from '../../src/wire/struct.ts';
import { call, clients, type Clients } from '../support/grpc-clients.ts';
import { freePort } from '../support/net.ts';
import { adsCall, NODE, xdsClient, type SotwResponse } from '../support/xds-harness.ts';
import { waitFor } from '../support/xds-backends.ts';

const SKEYS = ['u0', 'u1', 'u2', 'u3'];
const WRITES = 60;
const KILL_AT = 30;

interface Seen {
  readonly version: number;
  readonly content: string;
}

/** One Watch client that records its history and resumes with what it holds. */
class WatchHistory {
  readonly view = new Map<string, Seen>();
  /** Every version ever seen per skey, with its content. */
  private readonly seen = new Map<string, Map<number, string>>();
  readonly violations: string[] = [];
  resent = 0;
  messages = 0;
  reconnects = 0;
  private call: grpc.ClientReadableStream<WatchResponse__Output> | undefined;
  private stopped = false;
  private client: Clients | undefined;

  constructor(
    readonly name: string,
    private readonly address: string,
  ) {}

  start(): void {
    if (this.stopped) return;
    this.client ??= clients(this.address);
    const known = Object.fromEntries([...this.view].map(([k, v]) => [k, v.version]));
    const call = this.client.discovery.Watch({ skeys: [], knownVersions: known });
    this.call = call;
    call.on('data', (m: WatchResponse__Output) => this.record(m));
    call.on('error', () => undefined);
    // 'status' ends every call, whichever side ended it ('close' needs both halves closed).
    call.on('status', () => {
      if (this.call !== call || this.stopped) return;
      this.reconnects++;
      // The server may be restarting: try again shortly; grpc-js waits for it to come back.
      setTimeout(() => this.start(), 50);
    });
  }

  private record(m: WatchResponse__Output): void {
    this.messages++;
    for (const u of m.upstreams) {
      const version = Number(u.version);
      const content = JSON.stringify({ config: u.config === null ? null : structToJson(u.config), clusters: u.clusters, heartbeat: u.heartbeat });
      const prev = this.view.get(u.skey);
      if (prev !== undefined && version < prev.version) this.violations.push(`${this.name}: ${u.skey} went back from ${prev.version} to ${version}`);
      if (prev !== undefined && version === prev.version) this.resent++;
      const versions = this.seen.get(u.skey) ?? new Map<number, string>();
      this.seen.set(u.skey, versions);
      const before = versions.get(version);
      if (before !== undefined && before !== content) this.violations.push(`${this.name}: ${u.skey}@${version} came with two contents`);
      versions.set(version, content);
      this.view.set(u.skey, { version, content });
    }
    for (const skey of m.removedSkeys) this.view.delete(skey);
  }

  /** Ends the current stream; the close handler resumes it. */
  drop(): void {
    this.call?.cancel();
  }

  pause(ms: number): void {
    this.call?.pause();
    const c = this.call;
    setTimeout(() => c?.resume(), ms);
  }

  stop(): void {
    this.stopped = true;
    this.call?.cancel();
    this.client?.close();
  }
}

/** One ADS (SotW) client holding the EDS resources of SKEYS; re-subscribes after a reconnect. */
class XdsHistory {
  readonly assignments = new Map<string, string>();
  readonly violations: string[] = [];
  responses = 0;
  reconnects = 0;
  private stopped = false;
  private client: grpc.Client | undefined;
  private call: grpc.ClientDuplexStream<object, SotwResponse> | undefined;

  constructor(private readonly address: string) {}

  start(): void {
    if (this.stopped) return;
    this.client ??= xdsClient(this.address);
    const call = adsCall(this.client);
    this.call = call;
    call.on('data', (r: SotwResponse) => {
      this.responses++;
      if (r.type_url !== ENDPOINT) this.violations.push(`xds: unexpected ${r.type_url}`);
      for (const res of r.resources) this.assignments.set(res['cluster_name'] as string, JSON.stringify(res['endpoints']));
      call.write({ type_url: ENDPOINT, version_info: r.version_info, response_nonce: r.nonce, resource_names: SKEYS });
    });
    call.on('error', () => undefined);
    call.on('status', () => {
      if (this.call !== call || this.stopped) return;
      this.reconnects++;
      setTimeout(() => this.start(), 50);
    });
    call.write({ node: NODE, type_url: ENDPOINT, resource_names: SKEYS });
  }

  stop(): void {
    this.stopped = true;
    this.call?.cancel();
    this.client?.close();
  }
}

describe('Watch and xDS history under faults', () => {
  let dir: string;
  let child: ChildProcess | undefined;
  after(async () => {
    child?.kill('SIGKILL');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  async function serve(address: string): Promise<void> {
    child = spawn(process.execPath, ['--import', 'tsx', 'test/support/serve-child.ts', join(dir, 'checkups.yaml'), join(dir, 'data')], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: { ...process.env, SERVE_CHILD_GRPC_LISTEN: address },
    });
    const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    assert.equal((JSON.parse(line) as { grpc: string }).grpc, address);
  }

  it('versions only go up, nothing is resent on resume, every client ends with the final state', async () => {
    dir = await mkdtemp(join(tmpdir(), 'checkups-history-'));
    const servers = (n: number) => Array.from({ length: 3 }, (_, i) => `{ host: 10.0.${n}.${i + 1}, port: 80 }`).join(', ');
    await writeFile(join(dir, 'checkups.yaml'), `upstreams:\n${SKEYS.map((s, n) => `  ${s}:\n    cluster:\n      - servers: [ ${servers(n)} ]\n`).join('')}`);
    const address = `127.0.0.1:${await freePort()}`;
    await serve(address);

    const steady = new WatchHistory('steady', address);
    const dropper = new WatchHistory('dropper', address);
    const slow = new WatchHistory('slow', address);
    const xds = new XdsHistory(address);
    const watchers = [steady, dropper, slow];
    for (const w of watchers) w.start();
    xds.start();
    const admin = clients(address);
    try {
      await waitFor(() => watchers.every((w) => w.view.size === SKEYS.length), 'every watcher to hold every upstream', 10_000);

      // The writer: idempotent writes, retried until acknowledged (a write cut by the kill is sent again).
      const write = async (n: number) => {
        const skey = SKEYS[n % SKEYS.length]!;
        const host = `10.0.${n % SKEYS.length}.${1 + (n % 3)}`;
        for (;;) {
          try {
            if (n % 4 === 3) await call(admin.admin, admin.admin.SetPeerDown, { skey, host, port: 80 });
            else if (n % 4 === 2) await call(admin.admin, admin.admin.SetPeerUp, { skey, host, port: 80 });
            else await call(admin.admin, admin.admin.UpdatePeer, { skey, host, port: 80, weight: 1 + (n % 9) });
            return;
          } catch (err) {
            if ((err as grpc.ServiceError).code !== grpc.status.UNAVAILABLE && (err as grpc.ServiceError).code !== grpc.status.DEADLINE_EXCEEDED) throw err;
            await new Promise((r) => setTimeout(r, 50));
          }
        }
      };
      for (let n = 0; n < WRITES; n++) {
        if (n % 7 === 3) dropper.drop();
        if (n % 10 === 5) slow.pause(300);
        if (n === KILL_AT) {
          child!.kill('SIGKILL');
          await once(child!, 'exit');
          await serve(address);
        }
        await write(n);
      }

      // The final state, as a fresh client sees it.
      const fresh = new WatchHistory('fresh', address);
      fresh.start();
      const freshXds = new XdsHistory(address);
      freshXds.start();
      try {
        await waitFor(() => fresh.view.size === SKEYS.length && freshXds.assignments.size === SKEYS.length, 'a fresh client to sync', 10_000);
        const final = JSON.stringify([...fresh.view].sort());
        await waitFor(() => watchers.every((w) => JSON.stringify([...w.view].sort()) === final), 'every watcher to reach the final state', 10_000);
        const finalXds = JSON.stringify([...freshXds.assignments].sort());
        await waitFor(() => JSON.stringify([...xds.assignments].sort()) === finalXds, 'the xDS client to reach the final state', 10_000);
      } finally {
        fresh.stop();
        freshXds.stop();
      }
      const violations = [...watchers.flatMap((w) => w.violations), ...xds.violations];
      assert.deepEqual(violations, []);
      for (const w of watchers) assert.equal(w.resent, 0, `${w.name} was resent ${w.resent} upstreams it held`);
      assert.ok(dropper.reconnects >= WRITES / 7, `the dropper resumed ${dropper.reconnects} times`);
      assert.ok(steady.reconnects >= 1 && xds.reconnects >= 1, 'the kill ended every stream');
      console.log(
        `history: ${WRITES} writes, kill -9 at ${KILL_AT}; ` +
          watchers.map((w) => `${w.name} ${w.messages} messages/${w.reconnects} reconnects`).join(', ') +
          `; xds ${xds.responses} responses/${xds.reconnects} reconnects; 0 violations, 0 resends`,
      );
    } finally {
      for (const w of watchers) w.stop();
      xds.stop();
      admin.close();
    }
  });
});
