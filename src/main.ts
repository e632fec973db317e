/**
 * Composition root of `checkups serve`: load the config, restore admin changes from the data
 * dir on top of it, start health checking, the gRPC server and the HTTP status endpoint.
 * The only module that sees everything.
 *
 * Restore rule (docs/durability.md): the config file first, then every upstream written or
 * deleted through the admin API, as last stored. Upstreams never touched by the admin API
 * follow the file.
 */
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { ClusterNode } from './cluster/cluster-node.ts';
import pino, { type Logger } from 'pino';
import { SelectionEngine } from './balance/selection-engine.ts';
import { buildFeedbackLimits } from './config/build.ts';
import { loadConfigFile } from './config/load.ts';
import { isLoopbackHost, readProtected, serverSecurity, type TlsFiles } from './config/security.ts';
import { upstreamCodec } from './config/codec.ts';
import type { CheckupsConfig, DiscoveryAuthMode, FeedbackLimits } from './core/model.ts';
import { UpstreamRegistry } from './core/registry.ts';
import type { ChangeStore } from './core/store/change-store.ts';
import { FileChangeStore } from './core/store/file-change-store.ts';
import { CLUSTER_NAME, clusterKeys, DEFAULT_CLUSTER_NAME } from './core/store/redis-keys.ts';
import { parseRedisUrl, redactRedisUrl, RedisChangeStore } from './core/store/redis-store.ts';
import { UpstreamWritePath } from './core/write-path.ts';
import { HealthChecker } from './health/health-checker.ts';
import { LocalPassivePublisher } from './health/passive-publisher.ts';
import { runProbe } from './health/probes/index.ts';
import { Authenticator } from './server/grpc/auth.ts';
import { DEFAULT_CLUSTER_MAX_CONNECTION_AGE_MS, startGrpcServer, type RunningGrpcServer } from './server/grpc/server.ts';
import { startHttpServer, type RunningHttpServer } from './server/http/admin-http.ts';
import { serveEventStream } from './server/http/events-sse.ts';
import { recordActiveTransition, recordPassiveTransition, recordRefusal } from './server/audit.ts';
import { Readiness } from './server/readiness.ts';
import { timedChangeStore } from './server/timed-change-store.ts';
import { ConfigReloader, shadowedUpstreams, type ReloadResult } from './server/reload.ts';
import { StateMetrics, statusView, type StatusSources } from './server/status-view.ts';
import { DEFAULT_EVENT_BUFFER, EventLog } from './observability/events.ts';
import { buildInfo, clusterMembers, clusterRevision, clusterShardsHeld, onScrape, scrapeMetrics, streamsOpen } from './observability/metrics.ts';
import { systemClock, type Clock } from './util/clock.ts';
import { CheckupsError } from './util/errors.ts';
import { packageRoot } from './util/package-root.ts';
import { checkupsVersion } from './util/version.ts';

export const DEFAULT_GRPC_LISTEN = '127.0.0.1:7600';
export const DEFAULT_HTTP_LISTEN = '127.0.0.1:7601';
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Relative to the working directory, as `serve --data-dir` is. */
export const DEFAULT_DATA_DIR = 'checkups-data';

export interface ServeOptions {
  /** Config file; default: the embedded examples/checkups.yaml. */
  readonly configFile?: string;
  readonly grpcListen?: string;
  readonly httpListen?: string;
  /** Where admin changes are kept; default DEFAULT_DATA_DIR. */
  readonly dataDir?: string;
  readonly adminToken?: string;
  /** Token with the read right (default: CHECKUPS_READ_TOKEN, then server.read_token). */
  readonly readToken?: string;
  /** Token with the read and feedback rights (default: CHECKUPS_FEEDBACK_TOKEN, then server.feedback_token). */
  readonly feedbackToken?: string;
  /** When read and feedback calls need a token (default: server.discovery_auth, then auto). */
  readonly discoveryAuth?: DiscoveryAuthMode;
  /** Feedback limits (default: server.feedback, then config/defaults.ts). */
  readonly feedbackLimits?: FeedbackLimits;
  /** Serve the admin API without a token on a non-loopback address anyway. */
  readonly allowInsecureAdmin?: boolean;
  readonly tls?: TlsFiles;
  readonly maxMessageBytes?: number;
  /**
   * Cluster mode (docs/cluster.md): admin changes, probing and verdicts shared with the other
   * instances through Redis instead of the data dir. Default: the config's server.store.
   */
  readonly cluster?: ClusterSettings;
  /** Cluster mode's store URL (`--store`), over the config's server.store. */
  readonly store?: string;
  /** Cluster name (`--cluster`), over the config's server.cluster. */
  readonly clusterName?: string;
  /** This instance's id in the cluster (`--instance-id`). */
  readonly instanceId?: string;
  /** Turn active health checking off (tests of other parts). */
  readonly healthChecks?: boolean;
  readonly logger?: Logger;
  readonly clock?: Clock;
}

export interface ClusterSettings {
  /** redis://[:password@]host:port[/db] */
  readonly redisUrl: string;
  /** Cluster name: several clusters may share one Redis. */
  readonly name: string;
  /** This instance's id among the members (default: host name and pid). */
  readonly instanceId?: string;
  /** Lease and membership lifetime (default: the probe interval). */
  readonly leaseTtlMs?: number;
}

export interface Checkups {
  readonly version: string;
  readonly registry: UpstreamRegistry;
  /** The event and audit trail (also on WatchEvents, /events and in the log). */
  readonly events: EventLog;
  /** Readiness checks of /readyz; add one with `readiness.register(name, check)`. */
  readonly readiness: Readiness;
  /**
   * Reloads the config file (what SIGHUP does): validates all of it first; an invalid file
   * changes nothing. Applies the difference at once and logs it per upstream.
   */
  reload(): ReloadResult;
  readonly engine: SelectionEngine;
  readonly checker: HealthChecker | undefined;
  readonly cluster: ClusterNode | undefined;
  readonly grpc: RunningGrpcServer;
  readonly http: RunningHttpServer;
  readonly grpcAddress: string;
  readonly httpAddress: string;
  /** The data dir in use, absolute. */
  readonly dataDir: string;
  /** Upstreams written or deleted through the admin API in earlier runs, restored from the data dir. */
  readonly restoredUpstreams: number;
  /** Drains streams and calls (up to graceMs), stops probing, releases the data dir. */
  stop(graceMs?: number): Promise<void>;
}

export function defaultConfigFile(): string {
  return join(packageRoot(), 'examples', 'checkups.yaml');
}

/** Splits host:port, accepting [v6]:port. */
export function parseListen(value: string, what: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port > 65535) throw new CheckupsError('INVALID_CONFIG', `${what}: must be host:port (got ${JSON.stringify(value)})`);
  return { host: (m[1] ?? m[2])!, port };
}

/**
 * Loads the config file's upstreams with the store's changes on top, and starts following the
 * store. Returns how many upstreams the admin API wrote or deleted in earlier runs.
 */
/** Why this instance is not in step with the store (for /readyz), or null. */
export function unsyncedText(store: ChangeStore): string | null {
  const sync = store.syncState();
  return sync.synced ? null : `unsynced since ${new Date(sync.since).toISOString()}: ${store.location}: ${sync.reason}`;
}

async function restore(config: CheckupsConfig, writes: UpstreamWritePath, store: ChangeStore, log: Logger): Promise<number> {
  const snapshot = await writes.open(config.upstreams);
  for (const w of snapshot.warnings) log.warn({ module: 'store' }, w);
  let admin = 0;
  for (const stored of snapshot.upstreams.values()) if (stored.origin === 'admin') admin++;
  log.info({ module: 'main', store: store.location, restored: admin, revision: snapshot.revision }, `restored admin changes from the ${store.kind === 'file' ? 'data dir' : 'cluster store'}`);
  return admin;
}

/**
 * The cluster node (probe ownership, fenced verdicts, fleet-wide passive windows) of an
 * instance whose store is `store()`: it checks the store's epoch and waits on its reader, the
 * one reader of the change stream in this instance.
 */
function clusterNode(settings: ClusterSettings, instanceId: string, registry: UpstreamRegistry, clock: Clock, log: Logger, store: () => RedisChangeStore): ClusterNode {
  const redis = new Redis({ ...parseRedisUrl(settings.redisUrl), lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, commandTimeout: 5000, connectionName: 'checkups-cluster' });
  redis.on('error', () => undefined); // reported by the failing calls
  return new ClusterNode({
    redis,
    keys: clusterKeys(settings.name),
    instanceId,
    registry,
    clock,
    logger: log,
    leaseTtlMs: settings.leaseTtlMs ?? registry.global.checkupTimerIntervalMs,
    epoch: () => store().epochId,
    reached: (revision) => store().reached(revision),
  });
}

export async function startCheckups(opts: ServeOptions = {}): Promise<Checkups> {
  const log = opts.logger ?? pino({ level: 'info' });
  const clock = opts.clock ?? systemClock;
  const configFile = opts.configFile ?? defaultConfigFile();
  const config: CheckupsConfig = loadConfigFile(configFile);
  const settings = config.server;
  const grpcListen = opts.grpcListen ?? settings.grpcListen ?? DEFAULT_GRPC_LISTEN;
  const httpListen = parseListen(opts.httpListen ?? settings.httpListen ?? DEFAULT_HTTP_LISTEN, 'http listen address');
  const grpcHost = parseListen(grpcListen, 'grpc listen address').host;
  // One rule set for the merged settings: flags over environment over file.
  const security = serverSecurity({
    adminToken: opts.adminToken ?? process.env['CHECKUPS_ADMIN_TOKEN'] ?? settings.adminToken,
    readToken: opts.readToken ?? process.env['CHECKUPS_READ_TOKEN'] ?? settings.readToken,
    feedbackToken: opts.feedbackToken ?? process.env['CHECKUPS_FEEDBACK_TOKEN'] ?? settings.feedbackToken,
    discoveryAuth: opts.discoveryAuth ?? settings.discoveryAuth,
    tlsCert: opts.tls?.certFile ?? settings.tlsCert,
    tlsKey: opts.tls?.keyFile ?? settings.tlsKey,
    tlsClientCa: opts.tls?.clientCaFile ?? settings.tlsClientCa,
  });
  const auth = new Authenticator({
    adminToken: security.adminToken,
    readToken: security.readToken,
    feedbackToken: security.feedbackToken,
    grpcReadProtected: readProtected(security, grpcHost),
    httpReadProtected: readProtected(security, httpListen.host),
    clock,
  });
  if (!auth.required && !isLoopbackHost(grpcHost) && !(opts.allowInsecureAdmin ?? settings.allowInsecureAdmin ?? false)) {
    throw new CheckupsError(
      'INVALID_CONFIG',
      `refusing to serve the admin API on ${grpcListen} without a token: set CHECKUPS_ADMIN_TOKEN (or server.admin_token), listen on loopback, or pass --allow-insecure-admin`,
    );
  }
  const tls = security.tls;
  for (const [port, host] of [['grpc', grpcHost], ['http', httpListen.host]] as const) {
    if (!isLoopbackHost(host) && !auth.protects('read', port)) {
      log.warn(
        { module: 'main', port, listen: host, discoveryAuth: security.discoveryAuth },
        `${port === 'grpc' ? 'DiscoveryService and xDS' : 'the HTTP status (/, /status, /api/status, /events)'} open to anyone who reaches ${host}: ${security.discoveryAuth === 'off' ? 'server.discovery_auth is off' : 'no token is configured'} (docs/security.md)`,
      );
    }
  }

  const version = checkupsVersion();
  buildInfo.set({ version, node_version: process.version }, 1);
  const events = new EventLog({ capacity: settings.eventBuffer ?? DEFAULT_EVENT_BUFFER, logger: log, wallNow: () => clock.wallNow() });
  auth.onRefused = (refusal) => recordRefusal(events, refusal);
  const readiness = new Readiness();
  let storeOpen = false;
  // The config file is loaded by the time anything can ask (startCheckups threw otherwise).
  readiness.register('config', () => null);
  readiness.register('store', () => (storeOpen ? unsyncedText(store) : 'the store is not open'));

  // Cluster mode from the flags (opts.cluster) or from the config's server.store / server.cluster.
  const storeUrl = opts.store ?? settings.store;
  const clusterSettings: ClusterSettings | undefined =
    opts.cluster ??
    (storeUrl !== undefined
      ? { redisUrl: storeUrl, name: opts.clusterName ?? settings.cluster ?? DEFAULT_CLUSTER_NAME, ...(opts.instanceId !== undefined ? { instanceId: opts.instanceId } : {}) }
      : undefined);
  if (clusterSettings === undefined && (settings.cluster !== undefined || opts.clusterName !== undefined || opts.instanceId !== undefined)) {
    throw new CheckupsError('INVALID_CONFIG', '--cluster, --instance-id and server.cluster need a store: --store or server.store (redis://HOST:PORT/DB)');
  }
  // A single instance starts versions at its start time (in microseconds), so they keep growing
  // across restarts; in a cluster every version comes from the shared revision counter.
  // Slow-start ramps start on the registry's clock, which the engine and Watch read as well.
  const registry = new UpstreamRegistry(config.global, { initialRevision: clusterSettings !== undefined ? 0 : Math.floor(clock.wallNow()) * 1000, clock });
  const dataDir = resolve(opts.dataDir ?? settings.dataDir ?? DEFAULT_DATA_DIR);
  const storeLog = log.child({ module: 'store' });
  // Cluster mode: the node first (the store hands it the verdict entries of the stream), then
  // the store, whose reader is the ONE reader of the change stream in this instance: admin
  // changes and verdicts are applied in stream order, so versions never go back.
  let redisStore: RedisChangeStore | undefined;
  let cluster: ClusterNode | undefined;
  if (clusterSettings !== undefined) {
    parseRedisUrl(clusterSettings.redisUrl); // a bad URL is a clear error before anything starts
    if (!CLUSTER_NAME.test(clusterSettings.name)) throw new CheckupsError('INVALID_CONFIG', `--cluster: ${JSON.stringify(clusterSettings.name.slice(0, 80))}: use letters, digits, _ . - (1..64)`);
    const instanceId = clusterSettings.instanceId ?? `${hostname()}-${process.pid}`;
    const node = clusterNode(clusterSettings, instanceId, registry, clock, log, () => redisStore!);
    cluster = node;
    redisStore = new RedisChangeStore({
      url: clusterSettings.redisUrl,
      cluster: clusterSettings.name,
      configFile,
      instanceId,
      warn: (m) => storeLog.warn(m),
      onVerdict: (e) => node.applyVerdictEntry(e),
      onRebase: (why) => node.rebase(why),
    });
  }
  const store: ChangeStore = timedChangeStore(redisStore ?? new FileChangeStore(dataDir), clock);
  const writes = new UpstreamWritePath(registry, store, upstreamCodec, { warn: (m) => log.warn({ module: 'store' }, m) });
  let restoredUpstreams: number;
  try {
    restoredUpstreams = await restore(config, writes, store, log);
  } catch (err) {
    await cluster?.stop();
    throw err;
  }
  storeOpen = true;
  // Upstreams the admin API wrote or deleted shadow the file (docs/durability.md).
  const adminWritten = (skey: string) => writes.origin(skey) === 'admin';
  for (const s of shadowedUpstreams(config, adminWritten)) log.warn({ module: 'config', skey: s.skey }, s.message);

  const passivePublisher = new LocalPassivePublisher(registry, clock);
  const engine = new SelectionEngine(
    registry,
    clock,
    cluster === undefined
      ? { onPassiveVerdict: (skey, id, verdict) => passivePublisher.publish(skey, id, verdict) }
      : { countLocally: false, onOutcome: (skey, host, port, failed) => failed && cluster.passiveFailure(skey, host, port) },
  );
  // Passive exclusions as published (what every reader sees): one event when set, one when lifted.
  const stopPassiveEvents = registry.subscribe((change) => {
    if (change.cause === 'passive' && change.peer !== undefined) recordPassiveTransition(events, registry, change.skey, change.peer, change.relayed === true);
  });
  const checker =
    opts.healthChecks === false
      ? undefined
      : new HealthChecker(registry, { clock, probe: runProbe, logger: log, onTransition: (t) => recordActiveTransition(events, t), ...(cluster !== undefined ? { ownership: cluster } : {}) });
  if (checker !== undefined) cluster?.attach(checker);
  checker?.start();
  try {
    await cluster?.start();
  } catch (err) {
    checker?.stop();
    stopPassiveEvents();
    await cluster?.stop();
    await writes.close();
    throw new CheckupsError('STORE_UNAVAILABLE', `cluster ${clusterSettings!.name} on ${redactRedisUrl(clusterSettings!.redisUrl)}: ${(err as Error).message}`);
  }
  const startedAt = clock.wallNow();
  const sources: StatusSources = {
    registry,
    checker: () => checker?.status(),
    version,
    startedAt,
    wallNow: () => clock.wallNow(),
    lastEventSeq: () => events.lastSeq,
  };
  const stateMetrics = new StateMetrics(sources, settings.metricsPerPeer ?? true);
  let grpc: RunningGrpcServer | undefined;
  let http: RunningHttpServer | undefined;
  try {
    grpc = await startGrpcServer(
      { registry, engine, checker, clock, startedAt, writes, store, auth, events, version, xdsLogger: log.child({ module: 'xds' }), watchLogger: log.child({ module: 'watch' }) },
      {
        listen: grpcListen,
        ...(tls !== undefined ? { tls } : {}),
        maxMessageBytes: opts.maxMessageBytes ?? settings.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
        ...(settings.streamStallTimeoutMs !== undefined ? { streamStallTimeoutMs: settings.streamStallTimeoutMs } : {}),
        ...(settings.maxResponseBytes !== undefined ? { maxResponseBytes: settings.maxResponseBytes } : {}),
        feedbackLimits: opts.feedbackLimits ?? settings.feedback ?? buildFeedbackLimits(),
        ...(settings.streamAdmission !== undefined ? { streamAdmission: settings.streamAdmission } : {}),
        maxConnectionAgeMs: settings.maxConnectionAgeMs ?? (clusterSettings !== undefined ? DEFAULT_CLUSTER_MAX_CONNECTION_AGE_MS : 0),
        ...(settings.maxConnectionAgeGraceMs !== undefined ? { maxConnectionAgeGraceMs: settings.maxConnectionAgeGraceMs } : {}),
      },
    );
    http = await startHttpServer(httpListen, {
      luaStatus: () => ({
        registry,
        checker: checker?.status(),
        startedAt,
        checkupTimerOvertimeMs: registry.global.checkupTimerOvertimeMs,
        wallNow: clock.wallNow(),
      }),
      statusView: () => statusView(sources),
      metrics: () => scrapeMetrics(() => stateMetrics.peerUpText()),
      readiness: () => readiness.report(),
      events: (req, res, query) => serveEventStream(events, clock, req, res, query),
      authorize: (req, route) => auth.checkHttp(req, route),
    });
  } catch (err) {
    checker?.stop();
    passivePublisher.close();
    stopPassiveEvents();
    await cluster?.stop();
    await grpc?.close(0);
    await writes.close();
    throw err;
  }
  const runningGrpc = grpc;
  const stopScrape = onScrape(() => {
    stateMetrics.fill();
    streamsOpen.set({ kind: 'watch' }, runningGrpc.watch.stats().streams);
    streamsOpen.set({ kind: 'xds' }, runningGrpc.xds.stats().streams);
    if (cluster !== undefined) {
      const c = cluster.status();
      clusterMembers.set(c.members.length);
      clusterShardsHeld.set(c.shardsHeld);
      clusterRevision.set(redisStore?.cursorRevision ?? 0);
    }
  });
  const grpcAddress = `${grpcHost.includes(':') ? `[${grpcHost}]` : grpcHost}:${grpc.port}`;
  const httpAddress = `${httpListen.host}:${http.port}`;
  log.info({ module: 'main', version, config: configFile, grpc: grpcAddress, http: httpAddress, upstreams: registry.skeys().length, auth: auth.required, readAuth: { grpc: auth.protects('read', 'grpc'), http: auth.protects('read', 'http') }, tls: tls !== undefined }, 'checkups serving');
  const runningHttp = http;
  const reloader = new ConfigReloader(
    {
      configFile,
      registry,
      adminWritten,
      log,
      events,
      ...(cluster !== undefined
        ? { refuse: 'cluster mode: config-file upstreams live in the cluster store and are seeded when an instance starts; restart the instances one by one with the new file (docs/cluster.md)' }
        : {}),
    },
    config,
  );
  return {
    version,
    registry,
    events,
    readiness,
    reload: () => reloader.reload(),
    engine,
    checker,
    cluster,
    grpc: runningGrpc,
    http: runningHttp,
    grpcAddress,
    httpAddress,
    dataDir,
    restoredUpstreams,
    stop: async (graceMs = 5000) => {
      stopScrape();
      stopPassiveEvents();
      checker?.stop();
      passivePublisher.close();
      events.close();
      await cluster?.stop();
      await runningGrpc.close(graceMs);
      await runningHttp.close();
      await writes.close();
    },
  };
}
