/**
 * Admission of new Watch and xDS streams at a bounded rate. After a restart or a network blip
 * every client reconnects at once (a reconnect storm); each new stream costs a full snapshot,
 * and admitting them all in the same moment would starve SelectPeer and the streams already
 * open. A token bucket (server.stream_admission: `rate` per second, `burst`) decides:
 *
 * - A stream that finds a token starts at once.
 * - Otherwise it waits in line: it takes the next token not yet promised (the bucket goes into
 *   debt) and starts when that token is due, if that is within MAX_HOLD_MS. Held, it costs
 *   nothing but its place; it says nothing to the client, which sees its first message late.
 *   This is what spares the server a retry storm: xDS clients (Envoy, grpc-js-xds, gRPC C-core)
 *   retry a refused stream after their own backoff, blind to any hint, and with refusals alone
 *   16,000 streams refused at once came back to be refused again several times each, the
 *   refusals costing the server more than the admissions. MAX_HOLD_MS stays well below the
 *   15 s after which xDS clients give up waiting for a resource they subscribed to.
 * - Beyond that the stream is refused: UNAVAILABLE (SERVER_UNAVAILABLE on the wire) with a place
 *   in line in gRPC's `grpc-retry-pushback-ms` trailer: when the line will have room for it, the
 *   refused taking successive places (one every 1/rate s). The SDK comes back then; clients that
 *   ignore it come back after their backoff with jitter, and are held or refused again. The
 *   pushback is at most MAX_PUSHBACK_MS, so clients that ignore it lengthen the line only that far.
 *
 * Held and refused streams are counted (checkups_streams_held_total{kind},
 * checkups_streams_refused_total{kind,reason="admission"}), and those waiting now shown
 * (checkups_streams_waiting). The line holds at most rate x MAX_HOLD_MS streams; a held stream
 * that ends before its turn gives its place up.
 *
 * One connection (one client address and port, as grpc-js names it) may also hold at most
 * `per_connection` open streams, held ones included: a client opening thousands of streams alone
 * is refused beyond that with RESOURCE_EXHAUSTED, counted (reason="per_connection") and logged
 * once per connection while it holds streams, and everyone else is served. The table of open
 * streams holds only connections with open streams (each released when its stream ends:
 * cancelled, closed or failed), so it is bounded by the streams the server holds.
 */
import { streamsHeld, streamsRefused, streamsWaiting } from '../observability/metrics.ts';
import type { Clock, Timer } from '../util/clock.ts';
import { CheckupsError, withoutStack } from '../util/errors.ts';
import { TokenBucket } from '../util/token-bucket.ts';

export interface StreamAdmissionLimits {
  /** New streams admitted per second, sustained. */
  readonly rate: number;
  /** New streams admitted at once after a quiet period. */
  readonly burst: number;
  /** Open streams one connection may hold (default DEFAULT_STREAMS_PER_CONNECTION). */
  readonly perConnection?: number;
}

/**
 * A fleet of 10,000 reconnects in about 5 s. The burst is half a second of the rate: with 4,000
 * at once, the fleet bench's storm of 4,000 streams (short mode) had SelectPeer p99 65-211 ms;
 * with 1,000, 25-48 ms, and every stream current about 1 s later (docs/churn.md "The burst").
 */
export const DEFAULT_STREAM_ADMISSION: StreamAdmissionLimits = { rate: 2000, burst: 1000 };
/** An SDK, Envoy or a gRPC xDS client holds one or two streams per connection. */
export const DEFAULT_STREAMS_PER_CONNECTION = 1000;
/** The longest a new stream is held for its turn (xDS clients wait 15 s for a first resource). */
export const MAX_HOLD_MS = 5000;
/** The longest pushback given to a refused stream: a minute (120,000 streams at the default rate). */
export const MAX_PUSHBACK_MS = 60_000;

/** What admission needs of a server stream: its client's address and the events that end it. */
export interface AdmittedCall {
  getPeer(): string;
  once(event: 'cancelled' | 'close' | 'error', listener: () => void): unknown;
}

/** A held stream's place in line: when it may start, and how (cleared once started or given up). */
interface Turn {
  readonly due: number;
  start: (() => void) | undefined;
}

export class StreamAdmission {
  private readonly bucket: TokenBucket;
  private readonly perConnection: number;
  /** Connection -> open streams (only connections holding some). */
  private readonly open = new Map<string, number>();
  /** Connections already logged for reaching the cap (dropped with their last stream). */
  private readonly logged = new Set<string>();
  /** Held streams in the order of their turns (from `head` on). */
  private line: Turn[] = [];
  private head = 0;
  /** Turns in `line` not yet started nor given up. */
  private waiting = 0;
  private lineTimer: Timer | undefined;
  /** Monotonic ms from which the next refused stream will find room in the line. */
  private pushbackEnd = 0;
  private closed = false;

  constructor(
    private readonly limits: StreamAdmissionLimits,
    private readonly clock: Pick<Clock, 'now' | 'setTimer'>,
    private readonly warn: (detail: object, msg: string) => void = () => undefined,
  ) {
    this.bucket = new TokenBucket(limits.rate, limits.burst, clock.now());
    this.perConnection = limits.perConnection ?? DEFAULT_STREAMS_PER_CONNECTION;
  }

  /**
   * Admits one new stream of `kind` on `call`'s connection: calls `start` now, or when its turn
   * comes (not at all if the stream ends first); or throws: RATE_LIMITED when the connection
   * holds its most streams, SERVER_UNAVAILABLE (saying when to come back) when the line is full.
   */
  admit(kind: 'watch' | 'xds', call: AdmittedCall, start: () => void): void {
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
    const due = this.take(kind);
    const turn: Turn | undefined = due === undefined ? undefined : { due, start };
    this.open.set(peer, open + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (turn?.start !== undefined) {
        turn.start = undefined;
        this.setWaiting(this.waiting - 1);
      }
      const left = (this.open.get(peer) ?? 1) - 1;
      if (left > 0) this.open.set(peer, left);
      else {
        this.open.delete(peer);
        this.logged.delete(peer);
      }
    };
    for (const event of ['cancelled', 'close', 'error'] as const) call.once(event, release);
    if (turn === undefined) return start();
    this.line.push(turn);
    this.setWaiting(this.waiting + 1);
    if (this.line.length - this.head === 1) this.armLine();
  }

  /** Streams held for their turn now (the gauge checkups_streams_waiting). */
  get held(): number {
    return this.waiting;
  }

  /** Drops the line (the server is closing: its streams are ending anyway). */
  close(): void {
    this.closed = true;
    this.lineTimer?.cancel();
    for (let i = this.head; i < this.line.length; i++) this.line[i]!.start = undefined;
    this.line = [];
    this.head = 0;
    this.setWaiting(0);
  }

  private setWaiting(n: number): void {
    this.waiting = n;
    streamsWaiting.set(n);
  }

  /** Connections holding open streams now. */
  get connections(): number {
    return this.open.size;
  }

  /** A token: undefined when it is there now, else the time its turn is due. Throws when the line is full. */
  private take(kind: 'watch' | 'xds'): number | undefined {
    const now = this.clock.now();
    const wait = this.bucket.waitMs(1, now);
    if (wait === 0 || (wait <= MAX_HOLD_MS && !this.closed)) {
      this.bucket.takeAhead(now);
      if (wait === 0) return undefined;
      streamsHeld.inc({ kind });
      return now + wait;
    }
    streamsRefused.inc({ kind, reason: 'admission' });
    // When the line will have room for it: the refused find room in the order they were refused.
    const room = Math.min(Math.max(this.pushbackEnd, now + wait - MAX_HOLD_MS), now + MAX_PUSHBACK_MS);
    this.pushbackEnd = room + 1000 / this.limits.rate;
    const retryAfterMs = Math.ceil(room - now);
    throw withoutStack(
      () =>
        new CheckupsError(
          'SERVER_UNAVAILABLE',
          `too many new streams: checkups admits ${this.limits.rate} per second (burst ${this.limits.burst}, server.stream_admission) and holds ${MAX_HOLD_MS / 1000} s of them; ` +
            `retry in ${retryAfterMs} ms (grpc-retry-pushback-ms), or after a backoff with jitter`,
          [],
          { retryAfterMs },
        ),
    );
  }

  /** Starts the held streams whose turn has come, then waits for the next one. */
  private armLine(): void {
    const next = this.line[this.head];
    if (next === undefined || this.closed) return;
    this.lineTimer = this.clock.setTimer(Math.max(0, next.due - this.clock.now()), () => {
      this.lineTimer = undefined;
      const now = this.clock.now();
      while (this.head < this.line.length && this.line[this.head]!.due <= now) {
        const turn = this.line[this.head++]!;
        const start = turn.start;
        if (start === undefined) continue; // given up before its turn
        turn.start = undefined;
        this.setWaiting(this.waiting - 1);
        try {
          start();
        } catch (err) {
          // One stream that cannot start must not take the line (and the process) down with it.
          this.warn({ err: (err as Error).message }, 'a stream held for its turn failed to start');
        }
      }
      if (this.head === this.line.length) {
        this.line = [];
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > this.line.length) {
        this.line = this.line.slice(this.head);
        this.head = 0;
      }
      this.armLine();
    });
  }
}
