/**
 * CheckupsClient: the SDK. Watches upstreams, keeps the last good snapshot of each (also while
 * every server is unreachable), picks peers locally with the server's own selection code
 * (src/balance: the same smooth WRR, hash ring, levels, eligibility, passive state, readyOk
 * retries), and reports every outcome back as Feedback so passive health is shared fleet-wide.
 * An upstream not in the cache is picked by SelectPeer RPC while it is added to the watch.
 *
 *   await using client = new CheckupsClient({ servers: '127.0.0.1:7600' });
 *   await client.ready();
 *   client.on('change', (u) => console.log(u.skey, u.version));
 *   for await (const u of client.watch('api')) ...
 *   const { version } = await client.admin.peers.down('api', { host: '10.0.0.1', port: 80 });
 *   await client.synced(version); // the local picks now see the change
 */
import type * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import { SelectionEngine, type ReadyOkOptions, type SelectedPeer, type SelectOptions, type UpsTimeout } from '../balance/selection-engine.ts';
import type { AttemptInfo } from '../balance/try-driver.ts';
import type { FeedbackBatchResponse__Output } from '../generated/checkups/v1/FeedbackBatchResponse.ts';
import type { WatchResponse__Output } from '../generated/checkups/v1/WatchResponse.ts';
import { systemClock, type Clock, type Timer } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { snapshotReport, type UpstreamReport } from '../wire/report.ts';
import { AdminClient } from './admin.ts';
import { Connection } from './connection.ts';
import { FeedbackQueue, type FeedbackQueueOptions } from './feedback-queue.ts';
import { SnapshotCache, watchClocks } from './snapshot-cache.ts';
import { errorChannel, WatchConnection } from './watch-connection.ts';

export interface CheckupsClientOptions {
  /** One or more checkups servers (host:port); the client fails over between them. */
  readonly servers: string | readonly string[];
  /** Default: plaintext. */
  readonly credentials?: grpc.ChannelCredentials;
  /**
   * Sent as `authorization: Bearer <token>` on every call (default: CHECKUPS_TOKEN). Beyond
   * loopback the server wants the feedback token (Watch and FeedbackBatch), or the admin token
   * for `client.admin` calls too: docs/security.md.
   */
  readonly token?: string;
  /** Upstreams to watch; default: all. Others are added on first use. */
  readonly upstreams?: readonly string[];
  readonly feedback?: FeedbackQueueOptions;
  /** Time source of every timer, deadline and budget (tests pass a fake one). */
  readonly clock?: Clock;
  readonly random?: () => number;
  readonly channelOptions?: grpc.ChannelOptions;
  /** Deadline of unary RPCs (SelectPeer fallback, feedback, admin), default 2,000 ms. */
  readonly rpcTimeoutMs?: number;
}

export interface ClientStatus {
  /** Server the watch is synced with, or null. */
  readonly connectedTo: string | null;
  /** Milliseconds since the cache last heard from a server (0 while connected). */
  readonly staleMs: number;
  readonly upstreams: number;
  /** Highest registry revision the client holds (what `synced(version)` compares with). */
  readonly revision: number;
  readonly feedbackQueued: number;
  readonly feedbackDropped: number;
  /** Outcomes the server did not apply (unknown upstream or peer); see the `feedbackRejected` event. */
  readonly feedbackRejected: number;
}

/** One outcome the server did not apply, with its reason. */
export interface RejectedFeedback {
  readonly reason: string;
}

/** Events of a CheckupsClient. */
export interface ClientEvents {
  /** An upstream arrived or changed (configuration or peer health). */
  change: [upstream: UpstreamReport];
  /** An upstream was deleted on the server. */
  remove: [skey: string];
  /** The watch is synced with `address` (first time and after every reconnect). */
  connect: [address: string];
  /** The watch lost its server; the client keeps its snapshots and reconnects. */
  disconnect: [address: string, reason: string];
  feedbackRejected: [rejected: RejectedFeedback];
  /** A snapshot could not be used (the previous one of that upstream is kept). */
  snapshotError: [error: CheckupsError];
}

/** Outstanding `for await` watchers of one client keep at most this many pending snapshots each: the newest per upstream. */
interface Waiter {
  done(): boolean;
  resolve(): void;
}

export class CheckupsClient extends EventEmitter<ClientEvents> {
  /** Typed AdminService calls over the same channels. */
  readonly admin: AdminClient;
  private readonly cache = new SnapshotCache();
  private readonly engine: SelectionEngine;
  private readonly feedbackQueue: FeedbackQueue;
  private readonly connection: Connection;
  private readonly watcher: WatchConnection;
  private readonly watched: Set<string> | null;
  private readonly clock: Clock;
  private readonly rpcTimeoutMs: number;
  /** Completed initial syncs (every Watch stream ends its first batch with one). */
  private syncs = 0;
  private revision = 0;
  private rejected = 0;
  private closed = false;
  private lastHeardAt: number;
  /** Woken after every message applied. */
  private waiters: Waiter[] = [];

  constructor(opts: CheckupsClientOptions) {
    super();
    this.clock = opts.clock ?? systemClock;
    this.rpcTimeoutMs = opts.rpcTimeoutMs ?? 2000;
    this.lastHeardAt = this.clock.now();
    this.connection = new Connection(
      {
        servers: opts.servers,
        ...(opts.credentials !== undefined ? { credentials: opts.credentials } : {}),
        ...(opts.channelOptions !== undefined ? { channelOptions: opts.channelOptions } : {}),
        token: opts.token,
        rpcTimeoutMs: this.rpcTimeoutMs,
      },
      this.clock,
    );
    this.admin = new AdminClient(this.connection);
    this.watched = opts.upstreams === undefined ? null : new Set(opts.upstreams);
    this.engine = new SelectionEngine(this.cache, this.clock, {
      onOutcome: (skey, host, port, failed) => this.feedbackQueue.push({ skey, host, port, failed }),
    });
    this.feedbackQueue = new FeedbackQueue(
      async (outcomes) => {
        const res = await this.connection.discoveryCall<FeedbackBatchResponse__Output>((c, md, o, cb) => c.FeedbackBatch({ outcomes }, md, o, cb));
        for (const reason of res.rejected) {
          this.rejected++;
          this.emit('feedbackRejected', { reason });
        }
      },
      this.clock,
      opts.feedback,
    );
    this.watcher = new WatchConnection({
      connection: this.connection,
      clock: this.clock,
      random: opts.random ?? Math.random,
      skeys: () => (this.watched === null ? null : [...this.watched]),
      known: () => this.cache.versions(),
      onMessage: (m) => this.onMessage(m),
      onState: (state, address, why) => (state === 'synced' ? this.emit('connect', address) : this.emit('disconnect', address, why ?? '')),
    });
    this.watcher.start();
  }

  /** Resolves once the first full snapshot arrived; SERVER_UNAVAILABLE after `timeoutMs`. */
  ready(timeoutMs = 10_000): Promise<void> {
    return this.until(
      () => this.syncs > 0,
      timeoutMs,
      () => new CheckupsError('SERVER_UNAVAILABLE', `no snapshot from ${this.connection.endpoints.map((e) => e.address).join(', ')} within ${timeoutMs} ms`),
    );
  }

  /**
   * Resolves once the client holds registry revision `version` or newer: after an admin write
   * (which returns the version it made), local picks see the write. The upstream written must be
   * watched (every upstream is, unless `upstreams` narrowed it). TIMEOUT after `timeoutMs`.
   */
  synced(version: number, timeoutMs = 10_000): Promise<void> {
    return this.until(
      () => this.revision >= version,
      timeoutMs,
      () => new CheckupsError('TIMEOUT', `revision ${version} did not arrive within ${timeoutMs} ms (holding ${this.revision})`),
    );
  }

  /** The upstream as the client holds it now, in the JSON vocabulary (undefined when not held). */
  upstream(skey: string): UpstreamReport | undefined {
    const s = this.cache.snapshot(skey);
    return s === undefined ? undefined : snapshotReport(s);
  }

  /**
   * The upstream now (when held) and then after every change, newest first: a slow consumer
   * skips intermediate versions, never sees them out of order. Ends when the upstream is
   * deleted or the client closes; `break` stops watching.
   */
  async *watch(skey: string): AsyncGenerator<UpstreamReport, void, undefined> {
    this.watchToo(skey);
    let sent = -1;
    let removed = false;
    const onRemove = (k: string) => {
      if (k === skey) removed = true;
    };
    this.on('remove', onRemove);
    try {
      for (;;) {
        const s = this.cache.snapshot(skey);
        if (s !== undefined && s.version > sent) {
          sent = s.version;
          yield snapshotReport(s);
          continue;
        }
        if (removed || this.closed) return;
        await new Promise<void>((resolve) => this.waiters.push({ done: () => false, resolve }));
      }
    } finally {
      this.off('remove', onRemove);
    }
  }

  /** Picks locally from the cache (synchronous, no I/O). NOT_SYNCED before the first snapshot, UNKNOWN_SKEY after. */
  pick(skey: string, opts?: SelectOptions): SelectedPeer {
    if (this.syncs === 0 && !this.cache.has(skey)) throw new CheckupsError('NOT_SYNCED', `no snapshot yet (await client.ready()); cannot pick from ${skey}`);
    return this.engine.selectPeer(skey, opts);
  }

  /** Picks locally; an upstream not cached yet is picked by the server (and watched from now on). */
  async selectPeer(skey: string, opts: SelectOptions = {}): Promise<SelectedPeer> {
    if (this.cache.has(skey)) return this.engine.selectPeer(skey, opts);
    this.watchToo(skey);
    return this.admin.select(skey, opts);
  }

  /**
   * ready_ok with local picks (docs/compat.md): tries peers until `attempt` succeeds,
   * within `try` and `tryTimeoutMs`, falling through levels. Every outcome is reported to the
   * server. An upstream the server does not know fails with UNKNOWN_SKEY as soon as the server
   * has said so (its next full sync), not after a timeout.
   */
  async readyOk<T>(skey: string, attempt: (peer: SelectedPeer, info: AttemptInfo) => Promise<T> | T, opts: ReadyOkOptions = {}): Promise<T> {
    if (!this.cache.has(skey)) await this.arrival(skey);
    return this.engine.readyOk(skey, attempt, opts);
  }

  /** Reports the outcome of a request made outside readyOk (local passive state + server). */
  feedback(skey: string, host: string, port: number, failed: boolean): void {
    if (this.cache.has(skey)) this.engine.feedback(skey, host, port, failed);
    else this.feedbackQueue.push({ skey, host, port, failed });
  }

  getUpsTimeout(skey: string): UpsTimeout | undefined {
    return this.engine.getUpsTimeout(skey);
  }

  status(): ClientStatus {
    const connectedTo = this.watcher.connectedTo;
    return {
      connectedTo,
      staleMs: connectedTo !== null ? 0 : this.clock.now() - this.lastHeardAt,
      upstreams: this.cache.size,
      revision: this.revision,
      feedbackQueued: this.feedbackQueue.queued,
      feedbackDropped: this.feedbackQueue.dropped,
      feedbackRejected: this.rejected,
    };
  }

  /** Stops watching, sends queued feedback (best effort), closes channels. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.watcher.stop();
    this.wake();
    await this.feedbackQueue.close();
    this.connection.close();
  }

  /** `await using client = new CheckupsClient(...)` closes it at the end of the scope. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private onMessage(m: WatchResponse__Output): void {
    this.lastHeardAt = this.clock.now();
    const clocks = watchClocks(m, this.lastHeardAt);
    for (const s of m.upstreams) {
      let decoded;
      try {
        decoded = this.cache.apply(s, clocks);
      } catch (err) {
        // Keep the last good snapshot of that upstream; say why.
        const error = new CheckupsError('INTERNAL', `snapshot of ${s.skey} v${s.version} is unusable: ${err instanceof Error ? err.message : String(err)}`, [], { cause: err });
        errorChannel.publish({ skey: s.skey, version: s.version, error });
        this.emit('snapshotError', error);
        continue;
      }
      if (decoded !== undefined) this.emit('change', snapshotReport(decoded));
    }
    for (const skey of m.removedSkeys) if (this.cache.remove(skey)) this.emit('remove', skey);
    if (m.revision > this.revision) this.revision = m.revision;
    if (m.syncComplete) this.syncs++;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w.resolve();
  }

  /** Resolves when `ok()` holds after some message, rejects with `fail()` after `timeoutMs` (injected clock) or on close. */
  private until(ok: () => boolean, timeoutMs: number, fail: () => CheckupsError): Promise<void> {
    if (ok()) return Promise.resolve();
    if (this.closed) return Promise.reject(new CheckupsError('CLOSED', 'the client is closed'));
    return new Promise((resolve, reject) => {
      let timer: Timer | undefined;
      const waiter: Waiter = {
        done: () => timer === undefined,
        resolve: () => {
          if (timer === undefined) return;
          if (ok()) {
            timer.cancel();
            timer = undefined;
            resolve();
          } else if (this.closed) {
            timer.cancel();
            timer = undefined;
            reject(new CheckupsError('CLOSED', 'the client is closed'));
          } else this.waiters.push(waiter);
        },
      };
      timer = this.clock.setTimer(timeoutMs, () => {
        timer = undefined;
        reject(fail());
      });
      this.waiters.push(waiter);
    });
  }

  /** Waits until `skey` is cached, or fails once a full sync that covered it came without it. */
  private async arrival(skey: string): Promise<void> {
    const watchedAlready = this.watched === null || this.watched.has(skey);
    this.watchToo(skey);
    // A sync that started after the watch covered skey: the one in progress when it already did.
    const decisive = watchedAlready ? Math.max(1, this.syncs) : this.syncs + 1;
    await this.until(
      () => this.cache.has(skey) || this.syncs >= decisive,
      this.rpcTimeoutMs,
      () => new CheckupsError('SERVER_UNAVAILABLE', `no snapshot of ${skey} within ${this.rpcTimeoutMs} ms (no server answered)`),
    );
    if (!this.cache.has(skey)) throw new CheckupsError('UNKNOWN_SKEY', `unknown skey ${skey} (not known to ${this.watcher.connectedTo ?? 'the server'})`);
  }

  private watchToo(skey: string): void {
    if (this.watched === null || this.watched.has(skey)) return;
    this.watched.add(skey);
    this.watcher.restart();
  }
}
