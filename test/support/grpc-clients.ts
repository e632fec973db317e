/** Real grpc-js clients for checkups.v1, with promisified unary calls. */
import * as grpc from '@grpc/grpc-js';
import type { AdminServiceClient } from '../../src/generated/checkups/v1/AdminService.ts';
import type { DiscoveryServiceClient } from '../../src/generated/checkups/v1/DiscoveryService.ts';
import { checkupsProto } from '../../src/wire/proto.ts';

export interface Clients {
  readonly discovery: DiscoveryServiceClient;
  readonly admin: AdminServiceClient;
  close(): void;
}

export function clients(address: string, opts: grpc.ChannelOptions = {}): Clients {
  const proto = checkupsProto();
  const creds = grpc.credentials.createInsecure();
  const discovery = new proto.DiscoveryService(address, creds, opts);
  const admin = new proto.AdminService(address, creds, opts);
  return {
    discovery,
    admin,
    close: () => {
      discovery.close();
      admin.close();
    },
  };
}

/** The last overload of a generated client method, `(argument, callback)`, which TypeScript infers from. */
type Unary<Req, Res> = (req: Req, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;
type UnaryFull<Req, Res> = (req: Req, metadata: grpc.Metadata, options: grpc.CallOptions, cb: grpc.requestCallback<Res>) => grpc.ClientUnaryCall;

/** Calls a unary method with metadata and a deadline; rejects with the ServiceError. */
export function call<Req, Res>(client: grpc.Client, method: Unary<Req, Res>, req: Req, metadata = new grpc.Metadata(), timeoutMs = 5000): Promise<Res> {
  return new Promise((resolve, reject) => {
    (method as unknown as UnaryFull<Req, Res>).call(client, req, metadata, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}

export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** assert.rejects predicate: a ServiceError with this code whose details match. */
export function grpcError(code: grpc.status, details?: RegExp) {
  return (err: unknown): boolean => {
    const e = err as grpc.ServiceError;
    if (e.code !== code) throw new Error(`expected ${grpc.status[code]}, got ${grpc.status[e.code] ?? e.code}: ${e.details ?? String(err)}`);
    if (details !== undefined && !details.test(e.details)) throw new Error(`details ${JSON.stringify(e.details)} do not match ${details}`);
    return true;
  };
}
