/**
 * `grpc` probe: `grpc.health.v1.Health/Check` with `{service: grpc_opts.service ?? ""}`. Not in
 * the original (docs/compat.md adds it); it follows the shape of the other probes:
 * one check within `timeout`. SERVING is ok; any other serving status or an RPC error is err.
 *
 * Each probe has its own channel (channel-local subchannel pool) and its own credentials object
 * that records the sockets grpc-js opens: closing a grpc-js channel whose HTTP/2 handshake is
 * still pending (a peer that accepts TCP and never speaks HTTP/2) leaves that socket open until
 * the peer hangs up, so the probe destroys the sockets itself and settles once they are closed.
 */
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath } from 'grpc-health-check';
import type { ProbeResult } from '../state-machine.ts';
import { codeText, OK, TIMEOUT } from './tcp.ts';
import type { Probe } from './types.ts';

interface HealthCheckResponse {
  status?: string;
}

type CheckCallback = (err: grpc.ServiceError | null, res?: HealthCheckResponse) => void;

interface HealthClient extends grpc.Client {
  Check(req: { service: string }, options: grpc.CallOptions, cb: CheckCallback): grpc.ClientUnaryCall;
}

type HealthClientCtor = new (address: string, credentials: grpc.ChannelCredentials, options?: grpc.ChannelOptions) => HealthClient;

let healthClientCtor: HealthClientCtor | undefined;

/** Loads the health proto once per process. */
function healthClient(): HealthClientCtor {
  if (healthClientCtor === undefined) {
    const definition = protoLoader.loadSync(protoPath, { keepCase: true, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: HealthClientCtor } } } };
    healthClientCtor = pkg.grpc.health.v1.Health;
  }
  return healthClientCtor;
}

type ConnectorArgs = Parameters<grpc.ChannelCredentials['_createSecureConnector']>;
type SecureConnector = ReturnType<grpc.ChannelCredentials['_createSecureConnector']>;

/** Insecure credentials that remember every socket of the channel, so the probe can close them. */
class TrackedInsecureCredentials extends grpc.ChannelCredentials {
  private readonly inner = grpc.credentials.createInsecure();
  private readonly sockets = new Set<Socket>();
  private closed = false;

  override _isSecure(): boolean {
    return false;
  }
  override _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }
  override _createSecureConnector(...args: ConnectorArgs): SecureConnector {
    const connector = this.inner._createSecureConnector(...args);
    return {
      connect: (socket) => {
        // A TCP connect that completes after the probe ended is closed on arrival.
        if (this.closed) socket.destroy();
        else this.sockets.add(socket);
        return connector.connect(socket);
      },
      waitForReady: () => connector.waitForReady(),
      getCallCredentials: () => connector.getCallCredentials(),
      destroy: () => connector.destroy(),
    };
  }
  /** Destroys every socket seen; resolves once they are all closed. */
  closeAll(): Promise<void> {
    this.closed = true;
    const open = [...this.sockets].filter((s) => !s.closed);
    for (const s of open) s.destroy();
    return Promise.all(open.map((s) => new Promise((resolve) => s.once('close', resolve)))).then(() => undefined);
  }
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  // A probe is one attempt: no transparent retries that could outlast the deadline's meaning.
  'grpc.enable_retries': 0,
};

/**
 * A failed connect surfaces as UNAVAILABLE with the socket error buried in the details; it is
 * recorded in the same words as the other probes ("connection refused"). Other errors keep
 * their status name and details.
 */
function rpcErrorText(err: grpc.ServiceError): string {
  const errno = /\b(E[A-Z]{4,})\b/.exec(err.details)?.[1];
  const known = errno === undefined ? undefined : codeText(errno);
  if (err.code === grpc.status.UNAVAILABLE && known !== undefined) return known;
  return `${grpc.status[err.code] ?? err.code}: ${err.details.replace(/\.? Resolution note: ?$/, '')}`;
}

export const grpcProbe: Probe = async (target, spec, ctx) => {
  if (ctx.signal.aborted) return TIMEOUT;
  const Health = healthClient();
  const address = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
  const credentials = new TrackedInsecureCredentials();
  const client = new Health(address, credentials, CHANNEL_OPTIONS);
  const result = await new Promise<ProbeResult>((resolve) => {
    const onAbort = () => call.cancel();
    const call = client.Check({ service: spec.grpc.service ?? '' }, { deadline: Date.now() + ctx.timeoutMs }, (err, res) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (err !== null) {
        const timedOut = ctx.signal.aborted || err.code === grpc.status.DEADLINE_EXCEEDED || err.code === grpc.status.CANCELLED;
        resolve(timedOut ? TIMEOUT : { status: 'err', msg: rpcErrorText(err) });
      } else if (res?.status === 'SERVING') {
        resolve(OK);
      } else {
        resolve({ status: 'err', msg: `health status ${res?.status ?? 'UNKNOWN'}` });
      }
    });
    ctx.signal.addEventListener('abort', onAbort, { once: true });
  });
  client.close();
  await credentials.closeAll();
  return result;
};
