/**
 * CheckupsClient: the SDK. Watches upstreams, keeps the last good snapshot of each (also while
 * every server is unreachable), picks peers locally with the server's own selection code
 * (src/balance: the same smooth WRR, hash ring, levels, eligibility, passive state, readyOk
 * retries), and reports every outcome back as Feedback so passive health is shared fleet-wide.
 * An upstream not in the cache is picked by SelectPeer RPC while it is added to the watch.
 */
import * as grpc from '@grpc/grpc-js';
import { SelectionEngine, type ReadyOkOptions, type SelectedPeer, type SelectOptions, type UpsTimeout } from '../balance/selection-engine.ts';
import type { AttemptInfo } from '../balance/try-driver.ts';
import type { DiscoveryServiceClient } from '../generated/checkups/v1/DiscoveryService.ts';
import type { SelectPeerResponse__Output } from '../generated/checkups/v1/SelectPeerResponse.ts';
import type { WatchResponse__Output } from '../generated/checkups/v1/WatchResponse.ts';
import { checkupsProto } from '../wire/proto.ts';
import { errorFromWire } from '../wire/errors.ts';
import { selectedReport } from '../wire/report.ts';
import { systemClock, type Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { FeedbackQueue, type FeedbackQueueOptions } from './feedback-queue.ts';
import { SnapshotCache, watchClocks } from './snapshot-cache.ts';
import { errorChannel, WatchConnection } from './watch-connection.ts';

export interface CheckupsClientOptions {
  /** One or more checkups servers (host:port); the client fails over between them. */
  readonly servers: string | readonly string[];
  /** Default: plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /** Upstreams to watch; default: all. Others are added on first use. */
  readonly upstreams?: readonly string[];
  readonly feedback?: FeedbackQueueOptions;
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly channelOptions?: grpc.ChannelOptions;
  /** Deadline of the SelectPeer fallback and feedback RPCs (default 2,000 ms). */
  readonly rpcTimeoutMs?: number;
}

export interface ClientStatus {
  /** Server the watch is synced with, or null. */
  readonly connectedTo: string | null;
  /** Milliseconds since the cache last heard from a server (0 while connected). */
  readonly staleMs: number;
  readonly upstreams: number;
  readonly feedbackQueued: number;
  readonly feedbackDropped: number;
}

export class CheckupsClient {
  private readonly cache = new SnapshotCache();
  private readonly engine: SelectionEngine;
  private readonly feedbackQueue: FeedbackQueue;
  private readonly watch: WatchConnection;
  private readonly clients: { address: string; client: DiscoveryServiceClient }[];
  private readonly watched: Set<string> | null;
  private readonly clock: Clock;
  private synced = false;
  private readonly syncWaiters: Array<() => void> = [];
  private lastHeardAt: number;

  constructor(private readonly opts: CheckupsClientOptions) {
    const addresses = typeof opts.servers === 'string' ? [opts.servers] : [...opts.servers];
    if (addresses.length === 0) throw new CheckupsError('INVALID_CONFIG', 'servers: give at least one checkups server (host:port)');
    this.clock = opts.clock ?? systemClock;
    this.lastHeardAt = this.clock.now();
    const Discovery = checkupsProto().DiscoveryService;
    const channelOptions: grpc.ChannelOptions = { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, ...opts.channelOptions };
    this.clients = addresses.map((address) => ({ address, client: new Discovery(address, opts.credentials ?? grpc.credentials.createInsecure(), channelOptions) }));
    this.watched = opts.upstreams === undefined ? null : new Set(opts.upstreams);
    this.engine = new SelectionEngine(this.cache, this.clock, {
      onOutcome: (skey, host, port, failed) => this.feedbackQueue.push({ skey, host, port, failed }),
    });
    this.feedbackQueue = new FeedbackQueue((outcomes) => this.unary((c, md, o, cb) => c.FeedbackBatch({ outcomes }, md, o, cb)).then(() => undefined), this.clock, opts.feedback);
    this.watch = new WatchConnection({
      clients: this.clients,
      clock: this.clock,
      random: opts.random ?? Math.random,
      skeys: () => (this.watched === null ? null : [...this.watched]),
      known: () => this.cache.versions(),
      onMessage: (m) => this.onMessage(m),
    });
    this.watch.start();
  }

  /** Resolves once the first full snapshot arrived; rejects after `timeoutMs`. */
  ready(timeoutMs = 10_000): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new CheckupsError('SERVER_UNAVAILABLE', `no snapshot from ${this.clients.map((c) => c.address).join(', ')} within ${timeoutMs} ms`)), timeoutMs);
      this.syncWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Picks locally from the cache (synchronous, no I/O). Throws UNKNOWN_SKEY when not cached. */
  pick(skey: string, opts?: SelectOptions): SelectedPeer {
    return this.engine.selectPeer(skey, opts);
  }

  /** Picks locally; an upstream not cached yet is picked by the server (and watched from now on). */
  async selectPeer(skey: string, opts: SelectOptions = {}): Promise<SelectedPeer> {
    if (this.cache.has(skey)) return this.engine.selectPeer(skey, opts);
    this.watchToo(skey);
    const res = await this.unary<SelectPeerResponse__Output>((c, md, o, cb) =>
      c.SelectPeer(
        {
          skey,
          hashKey: opts.hashKey ?? '',
          clusterKey: (opts.clusterKey ?? []).map(String),
          request: { path: opts.request?.path ?? '', clientIp: opts.request?.clientIp ?? '', headerHashKey: opts.request?.headerHashKey ?? '' },
        },
        md,
        o,
        cb,
      ),
    );
    if (res.peer === null) throw new CheckupsError('INTERNAL', `${this.watch.currentAddress} answered SelectPeer without a peer`);
    return selectedReport(res.peer);
  }

  /**
   * ready_ok with local picks (docs/compat.md): tries peers until `attempt` succeeds,
   * within `try` and `tryTimeoutMs`, falling through levels. Every outcome is reported to the server.
   */
  async readyOk<T>(skey: string, attempt: (peer: SelectedPeer, info: AttemptInfo) => Promise<T> | T, opts: ReadyOkOptions = {}): Promise<T> {
    if (!this.cache.has(skey)) {
      this.watchToo(skey);
      await this.waitFor(skey, this.opts.rpcTimeoutMs ?? 2000);
    }
    return this.engine.readyOk(skey, attempt, opts);
  }

  /** Reports the outcome of a request made outside readyOk (local passive state + server). */
  feedback(skey: string, host: string, port: number, failed: boolean): void {
    if (this.cache.has(skey)) this.engine.feedback(skey, host, port, failed);
    else this.feedbackQueue.push({ skey, host, port, failed });
  }

  /** Version of the upstream's snapshot held (compare with GetStatus / admin write versions), or undefined. */
  versionOf(skey: string): number | undefined {
    return this.cache.upstream(skey)?.version;
  }

  getUpsTimeout(skey: string): UpsTimeout | undefined {
    return this.engine.getUpsTimeout(skey);
  }

  status(): ClientStatus {
    const connectedTo = this.watch.connectedTo;
    return {
      connectedTo,
      staleMs: connectedTo !== null ? 0 : this.clock.now() - this.lastHeardAt,
      upstreams: this.cache.size,
      feedbackQueued: this.feedbackQueue.queued,
      feedbackDropped: this.feedbackQueue.dropped,
    };
  }

  /** Stops watching, sends queued feedback (best effort), closes channels. */
  async close(): Promise<void> {
    this.watch.stop();
    await this.feedbackQueue.close();
    for (const { client } of this.clients) client.close();
  }

  private onMessage(m: WatchResponse__Output): void {
    this.lastHeardAt = this.clock.now();
    const clocks = watchClocks(m, this.lastHeardAt);
    for (const s of m.upstreams) {
      try {
        this.cache.apply(s, clocks);
      } catch (err) {
        // Keep the last good snapshot of that upstream; say why on the diagnostics channel.
        errorChannel.publish({ skey: s.skey, version: s.version, error: err });
      }
    }
    for (const skey of m.removedSkeys) this.cache.remove(skey);
    if (m.syncComplete && !this.synced) {
      this.synced = true;
      for (const w of this.syncWaiters.splice(0)) w();
    }
    for (const w of this.upstreamWaiters.splice(0)) w();
  }

  private readonly upstreamWaiters: Array<() => void> = [];

  private watchToo(skey: string): void {
    if (this.watched === null || this.watched.has(skey)) return;
    this.watched.add(skey);
    this.watch.restart();
  }

  private async waitFor(skey: string, timeoutMs: number): Promise<void> {
    const deadline = this.clock.now() + timeoutMs;
    while (!this.cache.has(skey)) {
      if (this.clock.now() >= deadline) throw new CheckupsError('UNKNOWN_SKEY', `unknown skey ${skey} (not known to ${this.watch.connectedTo ?? 'any reachable server'})`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50);
        this.upstreamWaiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  private unary<R>(invoke: (c: DiscoveryServiceClient, md: grpc.Metadata, o: grpc.CallOptions, cb: (err: grpc.ServiceError | null, res?: R) => void) => unknown): Promise<R> {
    return new Promise((resolve, reject) => {
      const client = this.watch.current;
      invoke(client, new grpc.Metadata(), { deadline: Date.now() + (this.opts.rpcTimeoutMs ?? 2000) }, (err, res) => {
        if (err === null) return resolve(res as R);
        const connected = client.getChannel().getConnectivityState(false) === grpc.connectivityState.READY;
        reject(errorFromWire(err, this.watch.currentAddress, connected));
      });
    });
  }
}
