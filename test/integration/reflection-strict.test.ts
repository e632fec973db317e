/**
 * Server reflection as a strict client sees it: test/support/strict-grpcurl.py builds every file
 * reflection serves into an empty protobuf DescriptorPool (python3-protobuf, C++), describes
 * every service, and calls methods from JSON the way grpcurl does. Every `grpcurl` line of the
 * README runs through it against a real server.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { Checkups } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';
import { PYTHON } from '../support/xds-python.ts';

const SCRIPT = fileURLToPath(new URL('../support/strict-grpcurl.py', import.meta.url));
const README = fileURLToPath(new URL('../../README.md', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function strictGrpcurl(args: readonly string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, [SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Splits a shell line into words: whitespace, single and double quotes (what README lines use). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  const re = /'([^']*)'|"((?:[^"\\]|\\.)*)"|(\S+)/g;
  let word = '';
  let last = -1;
  for (const m of line.matchAll(re)) {
    const part = m[1] ?? (m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
    if (m.index === last) word += part;
    else {
      if (last !== -1) words.push(word);
      word = part;
    }
    last = m.index + m[0].length;
  }
  if (last !== -1) words.push(word);
  return words;
}

/** `grpcurl [-plaintext] [-H h] [-d json] ADDR VERB...` -> strict-grpcurl arguments for `address`. */
function translate(line: string, address: string): string[] {
  const words = shellWords(line.replace(/\s+#.*$/, ''));
  assert.equal(words.shift(), 'grpcurl');
  const headers: string[] = [];
  let data: string | undefined;
  const rest: string[] = [];
  while (words.length > 0) {
    const w = words.shift()!;
    if (w === '-plaintext') continue;
    if (w === '-H') headers.push('-H', words.shift()!);
    else if (w === '-d') data = words.shift()!;
    else rest.push(w);
  }
  const [, ...verb] = rest; // the README's address, replaced by the test server's
  return [address, ...headers, ...(data !== undefined ? ['-d', data, ...verb] : verb)];
}

describe('reflection with a strict descriptor pool (what grpcurl needs)', () => {
  let dir: string;
  let server: Checkups;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-strict-refl-'));
    writeFileSync(
      join(dir, 'checkups.yaml'),
      `upstreams:
  api:
    cluster:
      - servers: [ { host: 127.0.0.1, port: 12354, weight: 3 }, { host: 127.0.0.1, port: 12355 } ]
      - servers: [ { host: 127.0.0.1, port: 12356 } ]
`,
    );
    server = await startTestServer(dir);
  });

  after(async () => {
    await server?.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('builds every served file, lists and describes every service on the port', async () => {
    const resources = ['envoy.config.listener.v3.Listener', 'envoy.config.route.v3.RouteConfiguration', 'envoy.config.cluster.v3.Cluster', 'envoy.config.endpoint.v3.ClusterLoadAssignment'];
    const run = await strictGrpcurl([server.grpcAddress, 'all', ...resources]);
    assert.equal(run.code, 0, run.stderr);
    const report = JSON.parse(run.stdout) as {
      services: Array<{ service: string; methods: Array<{ name: string; input: string; server_streaming: boolean }> }>;
      messages: Array<{ message: string; fields: Array<{ name: string; json_name: string; type: string | number; map_entry: boolean }> }>;
      files: string[];
    };
    assert.deepEqual(report.services.map((s) => s.service).sort(), [
      'checkups.v1.AdminService',
      'checkups.v1.DiscoveryService',
      'envoy.service.cluster.v3.ClusterDiscoveryService',
      'envoy.service.discovery.v3.AggregatedDiscoveryService',
      'envoy.service.endpoint.v3.EndpointDiscoveryService',
      'envoy.service.listener.v3.ListenerDiscoveryService',
      'envoy.service.route.v3.RouteDiscoveryService',
      'grpc.health.v1.Health',
      'grpc.reflection.v1.ServerReflection',
      'grpc.reflection.v1alpha.ServerReflection',
    ]);
    const methods = (name: string) => report.services.find((s) => s.service === name)!.methods.map((m) => m.name);
    assert.ok(methods('checkups.v1.DiscoveryService').includes('SelectPeer'));
    assert.ok(methods('checkups.v1.AdminService').includes('UpdateUpstream'));
    assert.deepEqual(methods('envoy.service.discovery.v3.AggregatedDiscoveryService'), ['StreamAggregatedResources', 'DeltaAggregatedResources']);
    // What protobufjs-rebuilt descriptors got wrong: the dependency on struct.proto, map entry
    // names, snake_case field names with their JSON names.
    assert.ok(report.files.includes('google/protobuf/struct.proto'));
    assert.ok(report.files.includes('envoy/config/cluster/v3/cluster.proto'));
    const field = (msg: string, name: string) => report.messages.find((m) => m.message === msg)!.fields.find((f) => f.name === name)!;
    assert.deepEqual(field('checkups.v1.WatchRequest', 'known_versions'), { name: 'known_versions', json_name: 'knownVersions', number: 2, type: 'checkups.v1.WatchRequest.KnownVersionsEntry', map_entry: true } as never);
    assert.equal(field('checkups.v1.UpdateUpstreamRequest', 'upstream').type, 'google.protobuf.Struct');
    assert.equal(field('envoy.config.cluster.v3.Cluster', 'lb_policy').json_name, 'lbPolicy');
  });

  it('answers an unknown symbol with NOT_FOUND and keeps serving', async () => {
    const run = await strictGrpcurl([server.grpcAddress, 'describe', 'checkups.v1.NoSuchThing']);
    assert.equal(run.code, 1);
    assert.match(run.stderr, /symbol not found: checkups\.v1\.NoSuchThing/);
    const again = await strictGrpcurl([server.grpcAddress, 'describe', 'checkups.v1.SelectPeerRequest']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual((JSON.parse(again.stdout) as { fields: Array<{ name: string }> }).fields.map((f) => f.name), ['skey', 'hash_key', 'cluster_key', 'request']);
  });

  it("runs every grpcurl line of the README", async () => {
    const lines = readFileSync(README, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.startsWith('grpcurl '));
    assert.ok(lines.length >= 4, `README has ${lines.length} grpcurl lines`);
    const seen = new Set<string>();
    for (const line of lines) {
      const args = translate(line, server.grpcAddress);
      const run = await strictGrpcurl(args);
      assert.equal(run.code, 0, `${line}\n${run.stdout}${run.stderr}`);
      const verb = args.includes('-d') ? args.at(-1)! : args[1]!;
      seen.add(verb);
      if (verb === 'list') assert.match(run.stdout, /^checkups\.v1\.DiscoveryService$/m);
      if (verb === 'checkups.v1.DiscoveryService/SelectPeer') {
        const peer = (JSON.parse(run.stdout) as { peer: { host: string; port: number; cluster: string } }).peer;
        assert.equal(peer.cluster, '1');
        assert.ok([12354, 12355].includes(peer.port));
      }
      if (verb === 'checkups.v1.AdminService/UpdateUpstream') {
        const version = Number((JSON.parse(run.stdout) as { version: string }).version);
        const skey = (JSON.parse(args[args.indexOf('-d') + 1]!) as { skey: string }).skey;
        assert.equal(server.registry.upstream(skey)?.version, version);
      }
    }
    for (const verb of ['list', 'checkups.v1.DiscoveryService/SelectPeer', 'checkups.v1.AdminService/UpdateUpstream']) assert.ok(seen.has(verb), `README has no grpcurl ${verb}`);
  });
});
