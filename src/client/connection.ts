/**
 * Channels to one or more checkups servers, shared by the SDK's watch, its unary calls and the
 * admin client (and so by the CLI): one DiscoveryService and one AdminService client per server
 * over one channel, the index of the server in use, and a unary call with a deadline, the admin
 * token and errors turned into CheckupsErrors (src/wire/errors.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { AdminServiceClient } from '../generated/checkups/v1/AdminService.ts';
import type { DiscoveryServiceClient } from '../generated/checkups/v1/DiscoveryService.ts';
import type { Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { errorFromWire } from '../wire/errors.ts';
import { checkupsProto } from '../wire/proto.ts';

export interface ConnectionOptions {
  /** One or more checkups servers (host:port); calls fail over between them. */
  readonly servers: string | readonly string[];
  /** Default: plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Admin token, sent as `authorization: Bearer <token>` on AdminService calls. */
  readonly token?: string | undefined;
  readonly channelOptions?: grpc.ChannelOptions;
  /** Deadline of each unary call (default 2,000 ms). */
  readonly rpcTimeoutMs?: number;
}

export interface Endpoint {
  readonly address: string;
  readonly discovery: DiscoveryServiceClient;
  readonly admin: AdminServiceClient;
}

type Invoke<C, R> = (client: C, metadata: grpc.Metadata, options: grpc.CallOptions, callback: (err: grpc.ServiceError | null, res?: R) => void) => unknown;

export class Connection {
  readonly endpoints: readonly Endpoint[];
  private index = 0;
  private closed = false;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly clock: Clock,
  ) {
    const addresses = typeof opts.servers === 'string' ? [opts.servers] : [...opts.servers];
    if (addresses.length === 0) throw new CheckupsError('INVALID_ARGUMENT', 'servers: give at least one checkups server (host:port)');
    const proto = checkupsProto();
    const credentials = opts.credentials ?? grpc.credentials.createInsecure();
    const channelOptions: grpc.ChannelOptions = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, ...opts.channelOptions };
    this.endpoints = addresses.map((address) => {
      const discovery = new proto.DiscoveryService(address, credentials, channelOptions);
      // One channel per server for both services.
      const admin = new proto.AdminService(address, credentials, { ...channelOptions, channelOverride: discovery.getChannel() });
      return { address, discovery, admin };
    });
  }

  /** Deadline of each unary call. */
  get rpcTimeoutMs(): number {
    return this.opts.rpcTimeoutMs ?? 2000;
  }

  get current(): Endpoint {
    return this.endpoints[this.index]!;
  }

  /** Moves to the next server (the watch does after a failure). */
  next(): void {
    this.index = (this.index + 1) % this.endpoints.length;
  }

  /** Makes `address` the server in use (the one the watch is synced with). */
  use(address: string): void {
    const i = this.endpoints.findIndex((e) => e.address === address);
    if (i >= 0) this.index = i;
  }

  discoveryCall<R>(invoke: Invoke<DiscoveryServiceClient, R>): Promise<R> {
    return this.call((e) => e.discovery, false, invoke);
  }

  adminCall<R>(invoke: Invoke<AdminServiceClient, R>): Promise<R> {
    return this.call((e) => e.admin, true, invoke);
  }

  /**
   * An AdminService server stream: `onMessage` per message, resolves when the server ends it.
   * `deadlineMs` bounds the whole stream (none: until the server ends it or `signal` fires).
   */
  adminStream<M>(open: (client: AdminServiceClient, metadata: grpc.Metadata, options: grpc.CallOptions) => grpc.ClientReadableStream<M>, onMessage: (m: M) => void, deadlineMs?: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(new CheckupsError('CLOSED', 'the client is closed'));
    const endpoint = this.current;
    const options: grpc.CallOptions = deadlineMs === undefined ? {} : { deadline: new Date(this.clock.wallNow() + deadlineMs) };
    return new Promise<void>((resolve, reject) => {
      const call = open(endpoint.admin, this.adminMetadata(), options);
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
      call.on('data', onMessage);
      call.on('error', (err: grpc.ServiceError) => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted === true && err.code === grpc.status.CANCELLED) return resolve();
        const connected = endpoint.admin.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
        reject(errorFromWire(err, endpoint.address, connected));
      });
      call.on('end', () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  close(): void {
    this.closed = true;
    for (const e of this.endpoints) {
      e.admin.close();
      e.discovery.close();
    }
  }

  private adminMetadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.opts.token !== undefined && this.opts.token !== '') metadata.set('authorization', `Bearer ${this.opts.token}`);
    return metadata;
  }

  private call<C extends grpc.Client, R>(pick: (e: Endpoint) => C, admin: boolean, invoke: Invoke<C, R>): Promise<R> {
    if (this.closed) return Promise.reject(new CheckupsError('CLOSED', 'the client is closed'));
    const endpoint = this.current;
    const client = pick(endpoint);
    const metadata = admin ? this.adminMetadata() : new grpc.Metadata();
    // gRPC deadlines are wall-clock dates.
    const deadline = new Date(this.clock.wallNow() + this.rpcTimeoutMs);
    return new Promise<R>((resolve, reject) => {
      invoke(client, metadata, { deadline }, (err, res) => {
        if (err === null && res !== undefined) return resolve(res);
        if (err === null) return reject(new CheckupsError('INTERNAL', `empty response from ${endpoint.address}`));
        const connected = client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
        reject(errorFromWire(err, endpoint.address, connected));
      });
    });
  }
}
