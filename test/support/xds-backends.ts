/**
 * Loopback gRPC backends for xDS end-to-end tests: each answers the unary method `WHO` with its
 * own name (raw bytes, no protos needed by any client, grpc-js or C-core), and counts calls.
 */
import * as grpc from '@grpc/grpc-js';

export const WHO = '/checkups.test.Backend/Who';

export interface Backend {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  calls: number;
  close(): Promise<void>;
}

export async function startBackend(name: string): Promise<Backend> {
  const server = new grpc.Server();
  const backend = { name, port: 0, address: '', calls: 0, close: async () => {} };
  server.register(
    WHO,
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      backend.calls++;
      callback(null, Buffer.from(name));
    },
    (b: Buffer) => b,
    (b: Buffer) => b,
    'unary',
  );
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return Object.assign(backend, {
    port,
    address: `127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
  });
}

/** Calls WHO on `client` and resolves with the answering backend's name. */
export function who(client: grpc.Client, opts: { metadata?: grpc.Metadata; timeoutMs?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      WHO,
      (b: Buffer) => b,
      (b: Buffer) => b,
      Buffer.alloc(0),
      opts.metadata ?? new grpc.Metadata(),
      { deadline: Date.now() + (opts.timeoutMs ?? 5000) },
      (err, res) => (err ? reject(err) : resolve(res!.toString())),
    );
  });
}

/** Counts which backend answers each of `n` calls. */
export async function spread(client: grpc.Client, n: number, metadata?: grpc.Metadata): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) {
    const name = await who(client, metadata !== undefined ? { metadata } : {});
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

/** Polls `fn` until it returns true (bounded); resolves with the elapsed ms. */
export async function waitFor(fn: () => Promise<boolean> | boolean, what: string, maxMs = 5000): Promise<number> {
  const start = Date.now();
  while (!(await fn())) {
    if (Date.now() - start > maxMs) throw new Error(`timed out after ${maxMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
  return Date.now() - start;
}
