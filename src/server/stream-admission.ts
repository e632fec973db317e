/**
 * Admission of new Watch and xDS streams at a bounded rate. After a restart or a network blip
 * every client reconnects at once (a reconnect storm); each new stream costs a full snapshot,
 * and admitting them all in the same moment would starve SelectPeer and the streams already
 * open. A token bucket (server.stream_admission: `rate` per second, `burst`) admits what it can;
 * the rest get UNAVAILABLE (SERVER_UNAVAILABLE on the wire) and come back after a backoff with
 * jitter, as the SDK, grpc-js, gRPC C-core and Envoy all do for a failed stream. Refusals are
 * counted in checkups_streams_refused_total{kind,reason="admission"}.
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
}

/** Generous enough for a fleet of 10,000 reconnecting in a few seconds, bounded beyond. */
export const DEFAULT_STREAM_ADMISSION: StreamAdmissionLimits = { rate: 2000, burst: 4000 };

export class StreamAdmission {
  private readonly bucket: TokenBucket;

  constructor(
    private readonly limits: StreamAdmissionLimits,
    private readonly clock: Pick<Clock, 'now'>,
  ) {
    this.bucket = new TokenBucket(limits.rate, limits.burst, clock.now());
  }

  /** Admits one new stream of `kind`, or throws SERVER_UNAVAILABLE saying when to come back. */
  admit(kind: 'watch' | 'xds'): void {
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
