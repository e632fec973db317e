/**
 * registerXds: the Envoy xDS services on checkups' gRPC server (docs/envoy.md).
 *
 * - ADS: `AggregatedDiscoveryService.StreamAggregatedResources` (SotW, what gRPC clients use)
 *   and `DeltaAggregatedResources`; per type: `Stream*`/`Delta*` of the Listener, Route,
 *   Cluster and Endpoint discovery services. One generic handler per variant, keyed by type URL
 *   (null for ADS), as go-control-plane does. REST `Fetch*` is not served (UNIMPLEMENTED).
 * - Methods are registered with `Server.register` and an identity response serializer: handlers
 *   write pre-assembled response bytes (encode once, wire.ts). The Envoy protos, the resource
 *   cache and its registry subscription start with the first xDS stream (or `start()`), so a
 *   server nobody asks for xDS pays nothing.
 * - Responses stay under `maxResponseBytes` where the protocol allows splitting them
 *   (response-size.ts); the same limit as GetStatus pages, `server.max_response_bytes`.
 * - Every stream is authorized first (`authorize`: the read right, docs/security.md): CDS and
 *   EDS carry the same peers as Watch. A refused stream costs no proto loading.
 */
import * as grpc from '@grpc/grpc-js';
import type { UpstreamRegistry } from '../../core/registry.ts';
import type { Clock } from '../../util/clock.ts';
import { tolerantDeserializer } from '../grpc/unparseable.ts';
import { StallGuard } from '../stream-flow.ts';
import { errorToWire } from '../../wire/errors.ts';
import { DEFAULT_MAX_RESPONSE_BYTES } from '../response-limit.ts';
import { DEFAULT_XDS_COALESCE_MS, XdsResourceCache } from './cache.ts';
import { DeltaStream } from './delta.ts';
import { DEFAULT_DNS_REFRESH_MS, systemResolveHost, type ResolveHost } from './dns.ts';
import type { DeltaDiscoveryRequest, DiscoveryRequest } from './envoy-types.ts';
import { XdsHub } from './hub.ts';
import { envoyCodec, type EnvoyCodec } from './proto.ts';
import { ResponseSizeLimit } from './response-size.ts';
import { SotwStream } from './sotw.ts';
import type { StreamContext, XdsCall, XdsCounters } from './stream-base.ts';
import { XdsStatus, type NodeStatus, type XdsLogger, type XdsNodeSource } from './status.ts';
import { CLUSTER, ENDPOINT, LISTENER, ROUTE, type ResourceTypeUrl } from './type-urls.ts';

export interface XdsDeps {
  readonly registry: UpstreamRegistry;
  readonly clock: Clock;
  /** NACKs and DNS failures are logged here (default: NACKs as process warnings). */
  readonly logger?: XdsLogger;
  /** Host name -> IP literals (default: the system resolver). */
  readonly resolveHost?: ResolveHost;
  readonly dnsRefreshMs?: number;
  /** Changes arriving within this window go out as one response per stream and type. */
  readonly coalesceMs?: number;
  /** A stream whose client has not read a response for this long is closed (stream-flow.ts). */
  readonly streamStallTimeoutMs?: number;
  /**
   * Largest response, bytes (default DEFAULT_MAX_RESPONSE_BYTES, at least MIN_XDS_RESPONSE_BYTES):
   * larger pushes are split where the protocol allows, and counted where it does not.
   */
  readonly maxResponseBytes?: number;
  /**
   * Throws (a CheckupsError) when the call may not open a stream (the read right,
   * docs/security.md); otherwise calls `start` now or later (admission, stream-admission.ts).
   */
  readonly authorize?: (call: grpc.ServerDuplexStream<unknown, Buffer>, start: () => void) => void;
}

export interface XdsStats {
  readonly streams: number;
  /** (type, name) subscriptions held by open streams (0 once all are gone). */
  readonly watches: number;
  /** Resource serializations: grows with changes, not with streams. */
  readonly encodes: number;
  readonly responses: number;
  readonly requests: number;
  readonly nacks: number;
  /** Warnings not logged because a stream had used its budget (MAX_WARNINGS_PER_STREAM). */
  readonly suppressedWarnings: number;
  /** Requests for type URLs beyond a stream's MAX_TYPES_PER_STREAM, ignored. */
  readonly ignoredTypes: number;
  /** Flushes that held a response back until the previous one of its type was ACKed. */
  readonly ackHeld: number;
  /** Types, summed over streams, with changes waiting (for an ACK or the transport). */
  readonly pendingTypes: number;
  /** Streams with a write the client has not taken yet (HTTP/2 flow control). */
  readonly busyStreams: number;
  /** Streams closed because their client stopped reading. */
  readonly stalls: number;
  /** Responses that carried part of a push over maxResponseBytes; the rest followed their ACK. */
  readonly responseParts: number;
  /** Responses sent over maxResponseBytes (a SotW Listener/Cluster set, or one resource alone). */
  readonly oversizedResponses: number;
}

export interface XdsServer {
  /** Loads the protos and builds the resources now instead of on the first stream (CLAs: when first asked for, cache.ts). */
  start(): void;
  stats(): XdsStats;
  /** Per node id: versions sent, ACKed and NACKed per type (what GetStatus/CSDS show). */
  nodeStatus(): NodeStatus[];
  /** The same nodes in the same order, not copied, with the revision they are at (GetStatus). */
  readonly nodeSource: XdsNodeSource;
  /** The resource cache (tests, benchmarks); starts the server if needed. */
  cache(): XdsResourceCache;
  /** Ends every xDS stream and stops watching the registry. */
  close(): void;
}

export { DEFAULT_XDS_COALESCE_MS };

const SOTW_METHODS: ReadonlyArray<[string, ResourceTypeUrl | null]> = [
  ['/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources', null],
  ['/envoy.service.listener.v3.ListenerDiscoveryService/StreamListeners', LISTENER],
  ['/envoy.service.route.v3.RouteDiscoveryService/StreamRoutes', ROUTE],
  ['/envoy.service.cluster.v3.ClusterDiscoveryService/StreamClusters', CLUSTER],
  ['/envoy.service.endpoint.v3.EndpointDiscoveryService/StreamEndpoints', ENDPOINT],
];

const DELTA_METHODS: ReadonlyArray<[string, ResourceTypeUrl | null]> = [
  ['/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources', null],
  ['/envoy.service.listener.v3.ListenerDiscoveryService/DeltaListeners', LISTENER],
  ['/envoy.service.route.v3.RouteDiscoveryService/DeltaRoutes', ROUTE],
  ['/envoy.service.cluster.v3.ClusterDiscoveryService/DeltaClusters', CLUSTER],
  ['/envoy.service.endpoint.v3.EndpointDiscoveryService/DeltaEndpoints', ENDPOINT],
];

/** The xDS services registered (for reflection's `list`). */
export const XDS_SERVICES: readonly string[] = [...new Set([...SOTW_METHODS, ...DELTA_METHODS].map(([path]) => path.split('/')[1]!))];

export function registerXds(server: grpc.Server, deps: XdsDeps): XdsServer {
  const status = new XdsStatus(() => deps.clock.wallNow(), deps.logger);
  const counters: XdsCounters = { responses: 0, requests: 0, ackHeld: 0 };
  // Checked now, not at the first stream: a bad limit fails the server's start.
  const size = new ResponseSizeLimit(deps.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES, (detail, msg) => status.warn(detail, msg));
  let running: { codec: EnvoyCodec; ctx: StreamContext } | undefined;
  let closed = false;

  const start = () => {
    if (running !== undefined) return running;
    const codec = envoyCodec();
    const cache = new XdsResourceCache(deps.registry, codec, {
      clock: deps.clock,
      resolveHost: deps.resolveHost ?? systemResolveHost,
      dnsRefreshMs: deps.dnsRefreshMs ?? DEFAULT_DNS_REFRESH_MS,
      coalesceMs: deps.coalesceMs ?? DEFAULT_XDS_COALESCE_MS,
      ...(deps.logger !== undefined ? { logger: deps.logger } : {}),
    });
    const hub = new XdsHub(cache, deps.clock, deps.coalesceMs ?? DEFAULT_XDS_COALESCE_MS);
    const stalls = new StallGuard({
      kind: 'xds',
      clock: deps.clock,
      ...(deps.streamStallTimeoutMs !== undefined ? { timeoutMs: deps.streamStallTimeoutMs } : {}),
      ...(deps.logger !== undefined ? { logger: deps.logger } : {}),
    });
    running = { codec, ctx: { cache, hub, status, counters, stalls, size } };
    return running;
  };

  /**
   * Starts a stream with `begin` once it is authorized and admitted (now or at its turn), or
   * fails the call when it lacks the right, is refused, or xDS cannot run (protos missing,
   * server closed).
   */
  const open = (call: grpc.ServerDuplexStream<unknown, Buffer>, begin: (ctx: StreamContext) => void): void => {
    const go = () => {
      let ctx: StreamContext;
      try {
        if (closed) throw new Error('server is shutting down');
        ctx = start().ctx;
      } catch (err) {
        const details = `xDS unavailable: ${(err as Error).message}`;
        call.emit('error', Object.assign(new Error(details), { code: grpc.status.UNAVAILABLE, details }));
        return;
      }
      begin(ctx);
    };
    try {
      if (deps.authorize !== undefined) deps.authorize(call, go);
      else go();
    } catch (err) {
      call.emit('error', errorToWire(err));
      return;
    }
    // Admitted, maybe held for its turn: grpc-js decodes the stream's requests as they come,
    // with our codec, whether or not the turn came yet.
    if (running === undefined && !closed) {
      try {
        start();
      } catch {
        // go() says why when the turn comes.
      }
    }
  };

  const identity = (b: Buffer) => b;
  for (const [path, typeUrl] of SOTW_METHODS) {
    const handler = (call: XdsCall<DiscoveryRequest>) => open(call, (ctx) => new SotwStream(call, ctx, typeUrl));
    server.register(path, handler, identity, tolerantDeserializer((b: Buffer) => running!.codec.decodeSotwRequest(b)), 'bidi');
  }
  for (const [path, typeUrl] of DELTA_METHODS) {
    const handler = (call: XdsCall<DeltaDiscoveryRequest>) => open(call, (ctx) => new DeltaStream(call, ctx, typeUrl));
    server.register(path, handler, identity, tolerantDeserializer((b: Buffer) => running!.codec.decodeDeltaRequest(b)), 'bidi');
  }

  return {
    start: () => void start(),
    stats: () => ({
      streams: running?.ctx.hub.streamCount ?? 0,
      watches: running?.ctx.hub.watchEntries() ?? 0,
      encodes: running?.ctx.cache.encodes ?? 0,
      responses: counters.responses,
      requests: counters.requests,
      nacks: status.nacks,
      suppressedWarnings: status.suppressedWarnings,
      ignoredTypes: status.ignoredTypes,
      ackHeld: counters.ackHeld,
      pendingTypes: running?.ctx.hub.pendingTypes() ?? 0,
      busyStreams: running?.ctx.stalls.busyStreams ?? 0,
      stalls: running?.ctx.stalls.stalls ?? 0,
      responseParts: size.parts,
      oversizedResponses: size.oversized,
    }),
    nodeStatus: () => status.nodes(),
    nodeSource: status,
    cache: () => start().ctx.cache,
    close: () => {
      closed = true;
      running?.ctx.hub.close();
      running?.ctx.stalls.close();
      running?.ctx.cache.close();
    },
  };
}

export type { NodeStatus, ResolveHost, XdsLogger };
