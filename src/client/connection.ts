/**
 * Channels to one or more checkups servers, shared by the SDK's watch, its unary calls and the
 * admin client (and so by the CLI): one DiscoveryService and one AdminService client per server
 * over one channel, the index of the server in use, and a unary call with a deadline, the
 * token on every call (bearer.ts) and errors turned into CheckupsErrors (src/wire/errors.ts).
 */
import * as grpc from '@grpc/grpc-js';
import type { AdminServiceClient } from '../generated/checkups/v1/AdminService.ts';
import type { DiscoveryServiceClient } from '../generated/checkups/v1/DiscoveryService.ts';
import type { Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { errorFromWire } from '../wire/errors.ts';
import { checkupsProto } from '../wire/proto.ts';
import { tokenOrEnv, withBearer } from './bearer.ts';

export interface ConnectionOptions {
  /** One or more checkups servers (host:port); calls fail over between them. */
  readonly servers: string | readonly string[];
  /** Default: plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /**
   * Sent as `authorization: Bearer <token>` on every call, Watch and DiscoveryService included
   * (default: CHECKUPS_TOKEN): the read, feedback or admin token (docs/security.md).
   */
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

/**
 * HTTP/2 receive window of the SDK's and CLI's connections (grpc-js's default is 64 KiB). A
 * server sends at most a window's worth before the client's WINDOW_UPDATE comes back, so a
 * 1 MB GetStatus page or Watch snapshot took 16 round trips through both event loops, each
 * waiting a turn of a busy server (fleet bench, short mode, mass failure: GetStatus p99
 * 175-205 ms with the default, 63-121 ms with this). One message of the default 4 MiB limit fits.
 * grpc-go grows its window by itself (BDP estimation); grpc-js does not.
 */
export const RECEIVE_WINDOW_BYTES = 4 << 20;

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
    const channelOptions: grpc.ChannelOptions = {
      'grpc.keepalive_time_ms': 10_000,
      'grpc.keepalive_timeout_ms': 5_000,
      'grpc-node.flow_control_window': RECEIVE_WINDOW_BYTES,
      ...opts.channelOptions,
    };
    // The token rides on every call of both services (an interceptor), streams included.
    const clientOptions = withBearer(channelOptions, tokenOrEnv(opts.token));
    this.endpoints = addresses.map((address) => {
      const discovery = new proto.DiscoveryService(address, credentials, clientOptions);
      // One channel per server for both services.
      const admin = new proto.AdminService(address, credentials, { ...clientOptions, channelOverride: discovery.getChannel() });
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
    return this.call((e) => e.discovery, invoke);
  }

  adminCall<R>(invoke: Invoke<AdminServiceClient, R>): Promise<R> {
    return this.call((e) => e.admin, invoke);
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
      const call = open(endpoint.admin, new grpc.Metadata(), options);
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

  private call<C extends grpc.Client, R>(pick: (e: Endpoint) => C, invoke: Invoke<C, R>): Promise<R> {
    if (this.closed) return Promise.reject(new CheckupsError('CLOSED', 'the client is closed'));
    const endpoint = this.current;
    const client = pick(endpoint);
    const metadata = new grpc.Metadata();
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
