/**
 * Admission of new Watch and xDS streams at a bounded rate. After a restart or a network blip
 * every client reconnects at once (a reconnect storm); each new stream costs a full snapshot,
 * and admitting them all in the same moment would starve SelectPeer and the streams already
 * open. A token bucket (server.stream_admission: `rate` per second, `burst`) admits what it can;
 * the rest get UNAVAILABLE (SERVER_UNAVAILABLE on the wire) and come back after a backoff with
 * jitter, as the SDK, grpc-js, gRPC C-core and Envoy all do for a failed stream. Refusals are
 * counted in checkups_streams_refused_total{kind,reason="admission"}.
 *
 * One connection (one client address and port, as grpc-js names it) may also hold at most
 * `per_connection` open streams: a client opening thousands of streams alone is refused beyond
 * that with RESOURCE_EXHAUSTED, counted (reason="per_connection") and logged once per connection
 * while it holds streams, and everyone else is served. The table of open streams holds only
 * connections with open streams (each released when its stream ends: cancelled, closed or
 * failed), so it is bounded by the streams the server holds.
 */
import { streamsRefused } from '../observability/metrics.ts';
import type { Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { TokenBucket } from '../util/token-bucket.ts';

export interface StreamAdmissionLimits {
  /** New streams admitted per second, sustained. */
  readonly rate: number;
  /** New streams admitted at once after a quiet period. */
  readonly burst: number;
  /** Open streams one connection may hold (default DEFAULT_STREAMS_PER_CONNECTION). */
  readonly perConnection?: number;
}

/** Generous enough for a fleet of 10,000 reconnecting in a few seconds, bounded beyond. */
export const DEFAULT_STREAM_ADMISSION: StreamAdmissionLimits = { rate: 2000, burst: 4000 };
/** An SDK, Envoy or a gRPC xDS client holds one or two streams per connection. */
export const DEFAULT_STREAMS_PER_CONNECTION = 1000;

/** What admission needs of a server stream: its client's address and the events that end it. */
export interface AdmittedCall {
  getPeer(): string;
  once(event: 'cancelled' | 'close' | 'error', listener: () => void): unknown;
}

export class StreamAdmission {
  private readonly bucket: TokenBucket;
  private readonly perConnection: number;
  /** Connection -> open streams (only connections holding some). */
  private readonly open = new Map<string, number>();
  /** Connections already logged for reaching the cap (dropped with their last stream). */
  private readonly logged = new Set<string>();

  constructor(
    private readonly limits: StreamAdmissionLimits,
    private readonly clock: Pick<Clock, 'now'>,
    private readonly warn: (detail: object, msg: string) => void = () => undefined,
  ) {
    this.bucket = new TokenBucket(limits.rate, limits.burst, clock.now());
    this.perConnection = limits.perConnection ?? DEFAULT_STREAMS_PER_CONNECTION;
  }

  /**
   * Admits one new stream of `kind` on `call`'s connection, or throws: RATE_LIMITED when the
   * connection holds its most streams, SERVER_UNAVAILABLE (saying when to come back) when the
   * rate is spent.
   */
  admit(kind: 'watch' | 'xds', call: AdmittedCall): void {
    const peer = call.getPeer();
    const open = this.open.get(peer) ?? 0;
    if (open >= this.perConnection) {
      streamsRefused.inc({ kind, reason: 'per_connection' });
      if (!this.logged.has(peer)) {
        this.logged.add(peer);
        this.warn({ kind, peer, open, limit: this.perConnection }, 'a connection reached its most open streams; new ones on it are refused while it holds them');
      }
      throw new CheckupsError('RATE_LIMITED', `this connection holds ${open} open streams, at most ${this.perConnection} (server.stream_admission.per_connection): close some, or open them on other connections`);
    }
    this.take(kind);
    this.open.set(peer, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (this.open.get(peer) ?? 1) - 1;
      if (left > 0) this.open.set(peer, left);
      else {
        this.open.delete(peer);
        this.logged.delete(peer);
      }
    };
    for (const event of ['cancelled', 'close', 'error'] as const) call.once(event, release);
  }

  /** Connections holding open streams now. */
  get connections(): number {
    return this.open.size;
  }

  private take(kind: 'watch' | 'xds'): void {
    const now = this.clock.now();
    if (this.bucket.take(1, now)) return;
    streamsRefused.inc({ kind, reason: 'admission' });
    throw new CheckupsError(
      'SERVER_UNAVAILABLE',
      `too many new streams: checkups admits ${this.limits.rate} per second (burst ${this.limits.burst}, server.stream_admission); ` +
        `retry after a backoff with jitter (a token is free in ${this.bucket.waitMs(1, now)} ms)`,
    );
  }
}
