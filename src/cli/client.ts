/**
 * The CLI's side of the gRPC API: one typed method per RPC, each a unary call with a deadline
 * (and the admin token on AdminService calls). Failures come back as CliError, already worded
 * for a terminal: `<STATUS_NAME>: <details>`, or a plain "cannot reach" when nothing answers.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import type { SelectPeerResponse__Output } from '../generated/checkups/v1/SelectPeerResponse.ts';
import type { UpdateUpstreamResponse__Output } from '../generated/checkups/v1/UpdateUpstreamResponse.ts';
import type { DeleteUpstreamResponse__Output } from '../generated/checkups/v1/DeleteUpstreamResponse.ts';
import type { AddPeerResponse__Output } from '../generated/checkups/v1/AddPeerResponse.ts';
import type { RemovePeerResponse__Output } from '../generated/checkups/v1/RemovePeerResponse.ts';
import type { UpdatePeerResponse__Output } from '../generated/checkups/v1/UpdatePeerResponse.ts';
import type { SetPeerDownResponse__Output } from '../generated/checkups/v1/SetPeerDownResponse.ts';
import type { SetPeerUpResponse__Output } from '../generated/checkups/v1/SetPeerUpResponse.ts';
import type { AddPeerRequest } from '../generated/checkups/v1/AddPeerRequest.ts';
import type { AdminServiceClient } from '../generated/checkups/v1/AdminService.ts';
import type { DiscoveryServiceClient } from '../generated/checkups/v1/DiscoveryService.ts';
import type { GetServersResponse__Output } from '../generated/checkups/v1/GetServersResponse.ts';
import type { GetStatusResponse__Output } from '../generated/checkups/v1/GetStatusResponse.ts';
import type { GetUpstreamResponse__Output } from '../generated/checkups/v1/GetUpstreamResponse.ts';
import type { ListUpstreamsResponse__Output } from '../generated/checkups/v1/ListUpstreamsResponse.ts';
import type { SelectPeerRequest } from '../generated/checkups/v1/SelectPeerRequest.ts';
import type { SelectedPeer__Output } from '../generated/checkups/v1/SelectedPeer.ts';
import type { UpdatePeerRequest } from '../generated/checkups/v1/UpdatePeerRequest.ts';
import type { UpdateUpstreamRequest } from '../generated/checkups/v1/UpdateUpstreamRequest.ts';
import type { WatchEventsRequest } from '../generated/checkups/v1/WatchEventsRequest.ts';
import type { WatchEventsResponse__Output } from '../generated/checkups/v1/WatchEventsResponse.ts';
import { checkupsProto } from '../wire/proto.ts';
import { jsonToStruct, jsonToValue } from '../wire/struct.ts';

export const DEFAULT_SERVER = '127.0.0.1:7600';
export const DEFAULT_TIMEOUT_MS = 5000;

/** An error meant for the operator: printed as is, then the process exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = 1,
    /** The gRPC status, when the error came from a call. */
    readonly grpcCode?: grpc.status,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  /** host:port of `checkups serve`. */
  readonly server: string;
  /** Token (admin, feedback or read), sent as `authorization: Bearer <token>` on every call. */
  readonly token?: string | undefined;
  /** Use TLS (implied by ca/cert/key). */
  readonly tls?: boolean | undefined;
  /** CA bundle to verify the server with (default: the system roots). */
  readonly ca?: string | undefined;
  /** Client certificate and key for mTLS. */
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** Deadline of each call, ms. */
  readonly timeoutMs: number;
}

type Invoke<Res> = (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as Error).message}`, 2);
  }
}

function channelCredentials(opts: ClientOptions, tls: boolean): grpc.ChannelCredentials {
  if ((opts.cert === undefined) !== (opts.key === undefined)) throw new CliError('--cert and --key go together (mTLS needs both)', 2);
  if (!tls) return grpc.credentials.createInsecure();
  // grpc-js sends the target host as SNI even when it is an IP literal, which makes Node print
  // DEP0123 on every call; the certificate is still checked against the IP (subjectAltName).
  if (isIP(opts.server.replace(/^\[|\]?:\d+$/g, '')) !== 0) process.noDeprecation = true;
  return grpc.credentials.createSsl(
    opts.ca !== undefined ? readPem(opts.ca, 'CA file') : null,
    opts.key !== undefined ? readPem(opts.key, 'key file') : null,
    opts.cert !== undefined ? readPem(opts.cert, 'certificate file') : null,
  );
}

/** True when the failure says nothing answered at the address (as opposed to a server's UNAVAILABLE). */
function isConnectFailure(err: grpc.ServiceError): boolean {
  return err.code === grpc.status.UNAVAILABLE && /No connection established|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|Failed to connect|Connection dropped/i.test(err.details);
}

export function describeCallError(err: grpc.ServiceError, server: string, timeoutMs: number, tls: boolean): CliError {
  if (isConnectFailure(err)) {
    const why = err.details.replace(/\.?\s*Resolution note:\s*$/, '');
    if (/certificate|SSL|TLS|handshake/i.test(why)) {
      return new CliError(`TLS handshake with ${server} failed (--ca FILE to trust its CA, --cert/--key for mTLS)\n  ${why}`, 1, err.code);
    }
    const plain = tls ? '' : '\n  (if it serves TLS, add --tls or --ca FILE)';
    return new CliError(`cannot reach checkups at ${server} (is it running? --server)\n  ${why}${/Failed to connect/.test(why) ? plain : ''}`, 1, err.code);
  }
  if (err.code === grpc.status.DEADLINE_EXCEEDED) {
    // grpc-js appends per-phase timings: keep the first sentence.
    const connecting = /Waiting for LB pick/.test(err.details) ? ' while connecting (is it a checkups gRPC port? --server, --timeout)' : ' (--timeout)';
    return new CliError(`DEADLINE_EXCEEDED: no answer from ${server} within ${timeoutMs} ms${connecting}`, 1, err.code);
  }
  const hint =
    err.code === grpc.status.UNAUTHENTICATED
      ? '\n  (give the token with --token, or in CHECKUPS_ADMIN_TOKEN or CHECKUPS_TOKEN)'
      : err.code === grpc.status.PERMISSION_DENIED
        ? '\n  (this token lacks the right: give one with more, see docs/security.md)'
        : '';
  return new CliError(`${grpc.status[err.code] ?? `status ${err.code}`}: ${err.details}${hint}`, 1, err.code);
}

/** Typed access to DiscoveryService and AdminService on one channel. */
export class CheckupsClient {
  private readonly discovery: DiscoveryServiceClient;
  private readonly admin: AdminServiceClient;

  private readonly tls: boolean;

  constructor(private readonly opts: ClientOptions) {
    this.tls = opts.tls === true || opts.ca !== undefined || opts.cert !== undefined;
    const creds = channelCredentials(opts, this.tls);
    const proto = checkupsProto();
    this.discovery = new proto.DiscoveryService(opts.server, creds);
    // Share the discovery client's channel.
    this.admin = new proto.AdminService(opts.server, creds, { channelOverride: this.discovery.getChannel() });
  }

  close(): void {
    this.admin.close();
    this.discovery.close();
  }

  private call<Res>(admin: boolean, invoke: Invoke<Res>): Promise<Res> {
    const metadata = new grpc.Metadata();
    // Every call: a server beyond loopback wants a read token for DiscoveryService too (the admin token has that right).
    if (this.opts.token !== undefined && this.opts.token !== '') metadata.set('authorization', `Bearer ${this.opts.token}`);
    const options: grpc.CallOptions = { deadline: new Date(Date.now() + this.opts.timeoutMs) };
    return new Promise<Res>((resolve, reject) => {
      invoke(metadata, options, (err, res) => {
        if (err !== null) reject(describeCallError(err, this.opts.server, this.opts.timeoutMs, this.tls));
        else if (res === undefined) reject(new CliError(`INTERNAL: empty response from ${this.opts.server}`));
        else resolve(res);
      });
    });
  }

  // DiscoveryService

  getStatus(): Promise<GetStatusResponse__Output> {
    return this.call<GetStatusResponse__Output>(false, (md, o, cb) => this.discovery.GetStatus({}, md, o, cb));
  }

  async selectPeer(req: SelectPeerRequest): Promise<SelectedPeer__Output> {
    const res = await this.call<SelectPeerResponse__Output>(false, (md, o, cb) => this.discovery.SelectPeer(req, md, o, cb));
    if (res.peer === null) throw new CliError(`INTERNAL: ${this.opts.server} answered SelectPeer without a peer`);
    return res.peer;
  }

  // AdminService

  async updateUpstream(req: UpdateUpstreamRequest): Promise<number> {
    return (await this.call<UpdateUpstreamResponse__Output>(true, (md, o, cb) => this.admin.UpdateUpstream(req, md, o, cb))).version;
  }

  async deleteUpstream(skey: string): Promise<number> {
    return (await this.call<DeleteUpstreamResponse__Output>(true, (md, o, cb) => this.admin.DeleteUpstream({ skey }, md, o, cb))).version;
  }

  getUpstream(skey: string): Promise<GetUpstreamResponse__Output> {
    return this.call<GetUpstreamResponse__Output>(true, (md, o, cb) => this.admin.GetUpstream({ skey }, md, o, cb));
  }

  listUpstreams(): Promise<ListUpstreamsResponse__Output> {
    return this.call<ListUpstreamsResponse__Output>(true, (md, o, cb) => this.admin.ListUpstreams({}, md, o, cb));
  }

  getServers(skey: string): Promise<GetServersResponse__Output> {
    return this.call<GetServersResponse__Output>(true, (md, o, cb) => this.admin.GetServers({ skey }, md, o, cb));
  }

  async addPeer(req: AddPeerRequest): Promise<number> {
    return (await this.call<AddPeerResponse__Output>(true, (md, o, cb) => this.admin.AddPeer(req, md, o, cb))).version;
  }

  async removePeer(skey: string, host: string, port: number, cluster: string): Promise<number> {
    return (await this.call<RemovePeerResponse__Output>(true, (md, o, cb) => this.admin.RemovePeer({ skey, host, port, cluster }, md, o, cb))).version;
  }

  async updatePeer(req: UpdatePeerRequest): Promise<number> {
    return (await this.call<UpdatePeerResponse__Output>(true, (md, o, cb) => this.admin.UpdatePeer(req, md, o, cb))).version;
  }

  async setPeerDown(skey: string, host: string, port: number): Promise<number> {
    return (await this.call<SetPeerDownResponse__Output>(true, (md, o, cb) => this.admin.SetPeerDown({ skey, host, port }, md, o, cb))).version;
  }

  async setPeerUp(skey: string, host: string, port: number): Promise<number> {
    return (await this.call<SetPeerUpResponse__Output>(true, (md, o, cb) => this.admin.SetPeerUp({ skey, host, port }, md, o, cb))).version;
  }

  /**
   * Reads the event trail (WatchEvents), calling `onMessage` per message; resolves when the
   * server ends the stream. Without `follow` the deadline applies; with it, none.
   */
  watchEvents(req: WatchEventsRequest, onMessage: (res: WatchEventsResponse__Output) => void): Promise<void> {
    const metadata = new grpc.Metadata();
    if (this.opts.token !== undefined && this.opts.token !== '') metadata.set('authorization', `Bearer ${this.opts.token}`);
    const options: grpc.CallOptions = req.follow === true ? {} : { deadline: new Date(Date.now() + this.opts.timeoutMs) };
    return new Promise<void>((resolve, reject) => {
      const call = this.admin.WatchEvents(req, metadata, options);
      call.on('data', onMessage);
      call.on('error', (err: grpc.ServiceError) => reject(describeCallError(err, this.opts.server, this.opts.timeoutMs, this.tls)));
      call.on('end', () => resolve());
    });
  }
}

// Request building: operands and files as the operator wrote them.

/** HOST:PORT with [v6]:port for IPv6 literals; the port must be 1..65535. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) throw new CliError(`${JSON.stringify(value)} is not HOST:PORT (port 1..65535; write IPv6 as [::1]:80)`, 2);
  return { host: (m[1] ?? m[2])!, port };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body of UpdateUpstream from a YAML/JSON file (`-` = stdin), validated offline when it is a whole upstream. */
export async function readUpstreamFile(skey: string, file: string): Promise<{ form: 'upstream' | 'cluster'; request: UpdateUpstreamRequest }> {
  const source = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${source}: ${(err as Error).message}`, 2);
  }
  let doc: unknown;
  if (file.endsWith('.json')) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new CliError(`${source}: ${(err as Error).message}`, 2);
    }
  } else {
    const parsed = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (parsed.errors.length > 0) {
      const lines = parsed.errors.map((e) => {
        const at = e.linePos?.[0];
        return `${source}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]!}`;
      });
      throw new CliError(lines.join('\n'), 2);
    }
    doc = parsed.toJS({ maxAliasCount: 100 });
  }
  if (doc === null || doc === undefined || typeof doc !== 'object') {
    throw new CliError(`${source}: expected an upstream document (with cluster:) or a cluster list/map, got ${doc === null || doc === undefined ? 'nothing' : typeof doc}`, 2);
  }
  // A whole upstream holds `cluster` (or options: plain values), a cluster map holds only clusters (objects).
  if (isRecord(doc) && ('cluster' in doc || Object.values(doc).some((v) => typeof v !== 'object' || v === null))) {
    // Loaded here: the validator (zod) is only needed by `update`.
    const { parseUpstream } = await import('../config/validate.ts');
    const checked = parseUpstream(skey, doc);
    if (!checked.ok) {
      const n = checked.errors.length;
      throw new CliError(`${source}: ${n} error${n === 1 ? '' : 's'}, nothing sent:\n  ${checked.errors.join('\n  ')}`, 2);
    }
    return { form: 'upstream', request: { skey, upstream: jsonToStruct(doc) } };
  }
  return { form: 'cluster', request: { skey, cluster: jsonToValue(doc) } };
}
