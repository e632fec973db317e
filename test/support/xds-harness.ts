/**
 * xDS test support: an in-process checkups xDS server over a bare registry, and raw SotW/delta
 * ADS streams (grpc-js + the same Envoy protos) that check protocol invariants on every
 * response they receive, like go-control-plane's mockStream.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import type { PeerHealth } from '../../src/core/model.ts';
import { UpstreamRegistry } from '../../src/core/registry.ts';
import { registerXds, type XdsDeps, type XdsServer } from '../../src/server/xds/index.ts';
import { envoyCodec } from '../../src/server/xds/proto.ts';
import { systemClock } from '../../src/util/clock.ts';
import { config } from './builders.ts';

export const GLOBAL = config({ upstreams: {} }).global;

export const health = (status: PeerHealth['status']): PeerHealth => ({ status, failNum: status === 'ok' ? 0 : 1, lastModified: Date.now(), msg: null });

export interface LogLine {
  readonly level: 'info' | 'warn';
  readonly obj: object;
  readonly msg: string;
}

export interface XdsHarness {
  readonly registry: UpstreamRegistry;
  readonly xds: XdsServer;
  readonly address: string;
  /** What the server logged (unless a logger was passed in). */
  readonly logs: LogLine[];
  close(): Promise<void>;
}

/** `serverOptions`: the grpc.Server's own (`grpc.max_send_message_length` makes grpc-js fail a larger response). */
export async function startXdsServer(
  opts: Partial<Omit<XdsDeps, 'registry'>> & { registry?: UpstreamRegistry; serverOptions?: grpc.ServerOptions } = {},
): Promise<XdsHarness> {
  const { serverOptions, ...deps } = opts;
  const registry = deps.registry ?? new UpstreamRegistry(GLOBAL, { initialRevision: Date.now() * 1000 });
  const server = new grpc.Server(serverOptions);
  const logs: LogLine[] = [];
  const logger = { info: (obj: object, msg: string) => void logs.push({ level: 'info', obj, msg }), warn: (obj: object, msg: string) => void logs.push({ level: 'warn', obj, msg }) };
  const xds = registerXds(server, { clock: systemClock, coalesceMs: 5, logger, ...deps, registry });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return {
    registry,
    xds,
    address: `127.0.0.1:${port}`,
    logs,
    close: async () => {
      xds.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
    },
  };
}

/** A decoded resource (Any unpacked: `@type` plus the message's fields). */
export type AnyResource = { '@type': string; name?: string; cluster_name?: string } & Record<string, unknown>;

export interface SotwResponse {
  version_info: string;
  resources: AnyResource[];
  type_url: string;
  nonce: string;
}

export interface DeltaResponse {
  system_version_info: string;
  resources: Array<{ name: string; version: string; resource: AnyResource }>;
  type_url: string;
  removed_resources: string[];
  nonce: string;
}

export const nameOf = (r: AnyResource): string => (r.cluster_name ?? r.name) as string;

type Ctor = new (address: string, creds: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => grpc.Client;

function services() {
  const pkg = grpc.loadPackageDefinition(envoyCodec().packageDefinition) as unknown as {
    envoy: { service: Record<string, { v3: Record<string, Ctor> }> };
  };
  return pkg.envoy.service;
}

/** A client for any of the xDS services: `service` like 'discovery.AggregatedDiscoveryService'. */
export function xdsClient(address: string, service = 'discovery.AggregatedDiscoveryService', options?: grpc.ChannelOptions): grpc.Client {
  const [pkg, name] = service.split('.') as [string, string];
  const ctor = services()[pkg]!.v3[name]!;
  return new ctor(address, grpc.credentials.createInsecure(), options);
}

/** A raw ADS (SotW) call on an `xdsClient`, for clients that drive the protocol themselves. */
export function adsCall(client: grpc.Client): grpc.ClientDuplexStream<object, SotwResponse> {
  return (client as unknown as { StreamAggregatedResources(): grpc.ClientDuplexStream<object, SotwResponse> }).StreamAggregatedResources();
}

/** One raw stream: send requests, await responses in order, assert silence. */
export class RawStream<Res extends { nonce: string; type_url: string }> {
  readonly received: Res[] = [];
  private read = 0;
  private waiters: Array<() => void> = [];
  private readonly nonces = new Set<string>();
  readonly status: Promise<grpc.StatusObject>;
  readonly call: grpc.ClientDuplexStream<object, Res>;

  constructor(client: grpc.Client, method: string, check: (r: Res) => void, metadata = new grpc.Metadata()) {
    this.call = (client as unknown as Record<string, (md: grpc.Metadata) => grpc.ClientDuplexStream<object, Res>>)[method]!.call(client, metadata);
    this.status = new Promise((resolve) => this.call.on('status', resolve));
    this.call.on('error', () => {});
    this.call.on('data', (r: Res) => {
      assert.ok(r.nonce !== '' && !this.nonces.has(r.nonce), `nonce ${JSON.stringify(r.nonce)} empty or reused`);
      this.nonces.add(r.nonce);
      check(r);
      this.received.push(r);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(req: object): void {
    this.call.write(req);
  }

  /** The next unread response (waits up to `ms`). */
  async next(ms = 3000): Promise<Res> {
    const deadline = Date.now() + ms;
    while (this.read >= this.received.length) {
      if (Date.now() > deadline) throw new Error(`no response within ${ms} ms (read ${this.read})`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 25);
      });
    }
    return this.received[this.read++]!;
  }

  /** Asserts nothing arrives for `ms`. */
  async none(ms: number, what = 'response'): Promise<void> {
    await new Promise((r) => setTimeout(r, ms));
    assert.equal(this.received.length, this.read, `unexpected ${what}: ${JSON.stringify(this.received.slice(this.read)).slice(0, 500)}`);
  }

  close(): void {
    this.call.cancel();
  }
}

/** Invariants of every SotW response (docs/envoy.md). */
function checkSotw(r: SotwResponse): void {
  assert.notEqual(r.version_info, '', 'version_info set');
  const names = new Set<string>();
  for (const res of r.resources) {
    assert.equal(res['@type'], r.type_url, 'every Any has the response type');
    assert.ok(!names.has(nameOf(res)), `duplicate ${nameOf(res)} in one response`);
    names.add(nameOf(res));
  }
}

function checkDelta(r: DeltaResponse): void {
  const names = new Set<string>();
  for (const res of r.resources) {
    assert.equal(res.resource['@type'], r.type_url);
    assert.equal(nameOf(res.resource), res.name, 'Resource.name is the resource name');
    assert.notEqual(res.version, '');
    assert.ok(!names.has(res.name), `duplicate ${res.name}`);
    names.add(res.name);
  }
}

/** A SotW stream; `metadata` is what Envoy sends as the grpc_service's initial_metadata. */
export function sotwStream(client: grpc.Client, method = 'StreamAggregatedResources', metadata?: grpc.Metadata): RawStream<SotwResponse> {
  return new RawStream<SotwResponse>(client, method, checkSotw, metadata);
}

export function deltaStream(client: grpc.Client, method = 'DeltaAggregatedResources'): RawStream<DeltaResponse> {
  return new RawStream<DeltaResponse>(client, method, checkDelta);
}

export const NODE = { id: 'test-node', cluster: 'tests', locality: {}, user_agent_name: 'raw-test' };

/** ACK of `r` keeping the subscription `names`. */
export function ack(r: SotwResponse, names: string[]): object {
  return { type_url: r.type_url, version_info: r.version_info, response_nonce: r.nonce, resource_names: names };
}

/** Splits google.protobuf.Any bytes into its type URL and value (the packed message's bytes). */
export function unpackAny(any: Buffer): { type_url: string; value: Buffer } {
  const out: { type_url: string; value: Buffer } = { type_url: '', value: Buffer.alloc(0) };
  let i = 0;
  const varint = () => {
    let n = 0;
    let shift = 1;
    for (;;) {
      const b = any[i++]!;
      n += (b & 0x7f) * shift;
      if (b < 0x80) return n;
      shift *= 0x80;
    }
  };
  while (i < any.length) {
    const tag = varint();
    const len = varint();
    const bytes = any.subarray(i, i + len);
    i += len;
    if (tag === 0x0a) out.type_url = bytes.toString();
    else if (tag === 0x12) out.value = bytes;
  }
  return out;
}
