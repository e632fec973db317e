/**
 * The gRPC server: DiscoveryService, AdminService, grpc.health.v1.Health, the xDS services and
 * server reflection of all of them (v1 and v1alpha, from compiled descriptors, so grpcurl
 * works) on one port, plaintext or TLS (optionally requiring client certificates).
 */
import { DEFAULT_STREAM_ADMISSION, StreamAdmission, type StreamAdmissionLimits } from '../stream-admission.ts';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { readFileSync } from 'node:fs';
import { buildFeedbackLimits } from '../../config/build.ts';
import type { TlsFiles } from '../../config/security.ts';
import type { FeedbackLimits } from '../../core/model.ts';
import { FeedbackLimiter } from '../feedback-limiter.ts';
import { OutcomeApplier } from '../outcome-applier.ts';
import { registerXds, XDS_SERVICES, type XdsServer } from '../xds/index.ts';
import type { XdsLogger } from '../xds/status.ts';
import { adminHandlers, type AdminDeps } from './admin.ts';
import { instrumentUnary } from './instrument.ts';
import { discoveryHandlers, statusPageSerializer, type DiscoveryDeps, type StatusEncoder } from './discovery.ts';
import { packageDefinition } from '../../wire/proto.ts';
import { addReflection, REFLECTION_SERVICES } from './reflection.ts';
import { guardService } from './unparseable.ts';
import type { StreamLogger } from '../stream-flow.ts';
import { WatchHub, type WatchEncoder } from './watch.ts';

export interface GrpcServerOptions {
  /** host:port; port 0 picks a free one. */
  readonly listen: string;
  readonly tls?: TlsFiles;
  /** Largest request accepted, bytes. */
  readonly maxMessageBytes: number;
  /** Coalescing window of Watch, ms. */
  readonly watchCoalesceMs?: number;
  /** Watch and xDS streams whose client leaves a message unread this long are closed (stream-flow.ts). */
  readonly streamStallTimeoutMs?: number;
  /** Largest GetStatus response (pages beyond) and xDS response (split where xDS allows), bytes. */
  readonly maxResponseBytes?: number;
  /** Feedback limits (default: config/defaults.ts). */
  readonly feedbackLimits?: FeedbackLimits;
  /** New Watch and xDS streams per second and at once (default DEFAULT_STREAM_ADMISSION). */
  readonly streamAdmission?: StreamAdmissionLimits;
  /** Connections are asked to reconnect after this long ±10% (grpc-js GOAWAY); 0 or none: never. */
  readonly maxConnectionAgeMs?: number;
  /** Their streams may go on this long after that (default DEFAULT_MAX_CONNECTION_AGE_GRACE_MS). */
  readonly maxConnectionAgeGraceMs?: number;
}

/**
 * In cluster mode connections get a maximum age by default, so clients spread over instances
 * again after one restarts (all its clients moved to the others) and after scaling out.
 */
export const DEFAULT_CLUSTER_MAX_CONNECTION_AGE_MS = 30 * 60_000;
/** Enough for a client to open its new stream (resuming with what it holds) before the old one ends. */
export const DEFAULT_MAX_CONNECTION_AGE_GRACE_MS = 30_000;

export type GrpcDeps = Omit<DiscoveryDeps, 'watch' | 'xdsNodes' | 'encodeStatus' | 'maxResponseBytes' | 'feedbackLimiter' | 'outcomes' | 'admission'> &
  Omit<AdminDeps, 'engine' | 'registry' | 'clock' | 'auth'> & { readonly xdsLogger?: XdsLogger; readonly watchLogger?: StreamLogger };

export interface RunningGrpcServer {
  readonly port: number;
  readonly watch: WatchHub;
  /** Envoy xDS (ADS, delta, per-type services) on the same port. */
  readonly xds: XdsServer;
  /** The feedback limits' state (callers tracked, evictions). */
  readonly feedback: FeedbackLimiter;
  /** Marks the server not serving, ends Watch streams, waits up to `graceMs` for calls, then closes. */
  close(graceMs: number): Promise<void>;
}

function credentials(tls: TlsFiles | undefined): grpc.ServerCredentials {
  if (tls === undefined) return grpc.ServerCredentials.createInsecure();
  const ca = tls.clientCaFile !== undefined ? readFileSync(tls.clientCaFile) : null;
  return grpc.ServerCredentials.createSsl(ca, [{ cert_chain: readFileSync(tls.certFile), private_key: readFileSync(tls.keyFile) }], ca !== null);
}

export async function startGrpcServer(deps: GrpcDeps, opts: GrpcServerOptions): Promise<RunningGrpcServer> {
  const server = new grpc.Server({
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    // Notice dead Watch clients: ping idle connections, allow clients' own keepalive pings.
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_timeout_ms': 10_000,
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 5_000,
    // grpc-js sends GOAWAY after the age (with ±10% jitter of its own), then closes after the grace.
    ...(opts.maxConnectionAgeMs !== undefined && opts.maxConnectionAgeMs > 0
      ? { 'grpc.max_connection_age_ms': opts.maxConnectionAgeMs, 'grpc.max_connection_age_grace_ms': opts.maxConnectionAgeGraceMs ?? DEFAULT_MAX_CONNECTION_AGE_GRACE_MS }
      : {}),
  });
  const defs = packageDefinition();
  const discovery = defs['checkups.v1.DiscoveryService'] as grpc.ServiceDefinition;
  const watchMethod = discovery['Watch']!;
  const statusMethod = discovery['GetStatus']!;
  // Watch writes pre-encoded bytes (encode once per upstream version, shared by every stream).
  const stall = opts.streamStallTimeoutMs !== undefined ? { stallTimeoutMs: opts.streamStallTimeoutMs } : {};
  const watch = new WatchHub(deps.registry, watchMethod.responseSerialize as WatchEncoder, deps.clock, opts.watchCoalesceMs ?? 20, {
    ...stall,
    ...(deps.watchLogger !== undefined ? { logger: deps.watchLogger } : {}),
  });
  const admission = new StreamAdmission(opts.streamAdmission ?? DEFAULT_STREAM_ADMISSION, deps.clock, (detail, msg) => deps.watchLogger?.warn(detail, msg));
  // xDS serves the same endpoints as Watch: it needs the read right too.
  const xds = registerXds(server, {
    registry: deps.registry,
    clock: deps.clock,
    authorize: (call, start) => {
      deps.auth.check(call, 'read');
      admission.admit('xds', call, start);
    },
    ...(opts.streamStallTimeoutMs !== undefined ? { streamStallTimeoutMs: opts.streamStallTimeoutMs } : {}),
    ...(opts.maxResponseBytes !== undefined ? { maxResponseBytes: opts.maxResponseBytes } : {}),
    ...(deps.xdsLogger !== undefined ? { logger: deps.xdsLogger } : {}),
  });
  const feedbackLimiter = new FeedbackLimiter(opts.feedbackLimits ?? buildFeedbackLimits(), deps.clock);
  const outcomes = new OutcomeApplier();
  // Unparseable requests are answered INVALID_ARGUMENT (guard), and counted like any call (instrument).
  // Watch and GetStatus answer with bytes they assembled (encode once; pages measured in bytes).
  const identity = (b: Buffer) => b;
  const [discoveryDef, discoveryImpl] = guardService(
    { ...discovery, Watch: { ...watchMethod, responseSerialize: identity }, GetStatus: { ...statusMethod, responseSerialize: statusPageSerializer() } },
    discoveryHandlers({
      ...deps,
      watch,
      feedbackLimiter,
      outcomes,
      admission,
      xdsNodes: xds.nodeSource,
      encodeStatus: statusMethod.responseSerialize as StatusEncoder,
      ...(opts.maxResponseBytes !== undefined ? { maxResponseBytes: opts.maxResponseBytes } : {}),
    }) as unknown as grpc.UntypedServiceImplementation,
  );
  server.addService(discoveryDef, instrumentUnary('checkups.v1.DiscoveryService', discoveryDef, discoveryImpl, deps.clock));
  const [adminDef, adminImpl] = guardService(defs['checkups.v1.AdminService'] as grpc.ServiceDefinition, adminHandlers(deps) as unknown as grpc.UntypedServiceImplementation);
  server.addService(adminDef, instrumentUnary('checkups.v1.AdminService', adminDef, adminImpl, deps.clock));

  const health = new HealthImplementation({ '': 'NOT_SERVING', 'checkups.v1.DiscoveryService': 'NOT_SERVING', 'checkups.v1.AdminService': 'NOT_SERVING' });
  health.addToServer(server);
  addReflection(server, ['checkups.v1.DiscoveryService', 'checkups.v1.AdminService', 'grpc.health.v1.Health', ...REFLECTION_SERVICES, ...XDS_SERVICES]);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(opts.listen, credentials(opts.tls), (err, p) => (err === null ? resolve(p) : reject(new Error(`cannot listen on ${opts.listen}: ${err.message}`)))),
  );
  for (const name of ['', 'checkups.v1.DiscoveryService', 'checkups.v1.AdminService']) health.setStatus(name, 'SERVING');

  return {
    port,
    watch,
    xds,
    feedback: feedbackLimiter,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        for (const name of ['', 'checkups.v1.DiscoveryService', 'checkups.v1.AdminService']) health.setStatus(name, 'NOT_SERVING');
        admission.close();
        watch.close();
        xds.close();
        const force = setTimeout(() => {
          // Batches still waiting are refused rather than applied after the server is gone.
          outcomes.close();
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      }),
  };
}
