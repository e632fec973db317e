/**
 * Transport flow of server streams (Watch and xDS): coalescing instead of queueing, and closing
 * streams whose client stopped reading.
 *
 * - A write is finished when grpc-js calls its callback, which happens once HTTP/2 flow control
 *   let the bytes out. `write()` returning false is not enough: grpc-js keeps buffering whatever
 *   is written after that (measured: 490 writes of 100 KB buffered against a paused reader).
 *   So a stream is `busy` while any write of it is unfinished, and its owner sends nothing more
 *   until it is idle again: changes meanwhile only mark what is dirty, and `onIdle` sends the
 *   newest state once. Per stream that is at most one flush's messages in the transport, plus
 *   a dirty set bounded by what the stream watches.
 * - A stream busy for longer than the stall timeout (`server.stream_stall_timeout`) is closed:
 *   its owner forgets it, the HTTP/2 stream is reset with ENHANCE_YOUR_CALM (gRPC clients report
 *   RESOURCE_EXHAUSTED; trailers with a message could not pass the data the client does not
 *   read), `checkups_stream_stalls_total{kind}` counts it and a warning is logged.
 * - One timer per guard, not per write: busy streams sit in a Set in the order they became
 *   busy, so the oldest is first and a sweep stops at the first one still in time.
 */
import { constants as http2 } from 'node:http2';
import { streamStalls } from '../observability/metrics.ts';
import type { Clock, Timer } from '../util/clock.ts';

export const DEFAULT_STREAM_STALL_TIMEOUT_MS = 30_000;
/** A push to many streams writes for this long, then lets its messages out and other work in (util/sliced.ts). */
export const FANOUT_SLICE_MS = 10;

export type StreamKind = 'watch' | 'xds';

export interface StreamLogger {
  warn(obj: object, msg: string): void;
}

/** What a stream writes to: a grpc-js server call (writable side). */
export interface FlowCall {
  write(chunk: Buffer, cb: (err?: Error | null) => void): boolean;
  getPeer(): string;
  emit(event: 'error', err: Error): boolean;
}

export interface StallGuardOptions {
  readonly kind: StreamKind;
  readonly clock: Clock;
  /** A stream whose oldest unfinished write is this old is closed (ms). */
  readonly timeoutMs?: number;
  readonly logger?: StreamLogger;
}

/** One stream's transport state; made by `StallGuard.open`. */
export class StreamFlow {
  private pending = 0;
  private writing = false;
  /** Clock time the stream became busy. */
  busySince = 0;
  private closed = false;

  constructor(
    private readonly guard: StallGuard,
    private readonly call: FlowCall,
    private readonly onIdle: () => void,
    /** The guard closed this stream: forget it (the call is reset already). */
    readonly onStalled: () => void,
  ) {}

  /** Some write is not finished: send nothing more now, `onIdle` follows. */
  get busy(): boolean {
    return this.pending > 0;
  }

  write(bytes: Buffer): void {
    if (this.closed) return;
    if (this.pending++ === 0) this.guard.enter(this);
    this.writing = true;
    try {
      this.call.write(bytes, () => {
        if (--this.pending > 0 || this.closed) return;
        this.guard.leave(this);
        // A write finished at once (inside write()) needs no follow-up: its caller is still
        // flushing. Later, the owner sends what became dirty meanwhile.
        if (!this.writing) this.onIdle();
      });
    } finally {
      this.writing = false;
    }
  }

  /** The stream ended: stop tracking it (a cancelled call never calls back its writes). */
  close(): void {
    this.closed = true;
    this.guard.leave(this);
  }

  /** Resets the HTTP/2 stream; false if grpc-js internals did not allow it (status sent instead). */
  reset(): boolean {
    this.closed = true;
    if (resetCall(this.call, http2.NGHTTP2_ENHANCE_YOUR_CALM)) return true;
    const details = 'stream stalled: the client stopped reading';
    this.call.emit('error', Object.assign(new Error(details), { code: 8, details }));
    return false;
  }

  get peer(): string {
    try {
      return this.call.getPeer();
    } catch {
      return 'unknown';
    }
  }
}

/** Stall detection for the streams of one hub. */
export class StallGuard {
  readonly timeoutMs: number;
  private readonly busy = new Set<StreamFlow>();
  private timer: Timer | undefined;
  private stallCount = 0;

  constructor(private readonly opts: StallGuardOptions) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_STREAM_STALL_TIMEOUT_MS;
  }

  open(call: FlowCall, onIdle: () => void, onStalled: () => void): StreamFlow {
    return new StreamFlow(this, call, onIdle, onStalled);
  }

  /** Streams with an unfinished write now. */
  get busyStreams(): number {
    return this.busy.size;
  }

  /** Streams closed for stalling so far. */
  get stalls(): number {
    return this.stallCount;
  }

  /** The flow's first unfinished write (it is not in `busy`: leave() took it out when it was idle). */
  enter(flow: StreamFlow): void {
    flow.busySince = this.opts.clock.now();
    this.busy.add(flow);
    this.arm();
  }

  leave(flow: StreamFlow): void {
    this.busy.delete(flow);
  }

  close(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.busy.clear();
  }

  private arm(): void {
    if (this.timer !== undefined) return;
    const oldest = this.busy.values().next().value;
    if (oldest === undefined) return;
    const wait = Math.max(0, oldest.busySince + this.timeoutMs - this.opts.clock.now());
    this.timer = this.opts.clock.setTimer(wait, () => {
      this.timer = undefined;
      this.sweep();
    });
  }

  private sweep(): void {
    const now = this.opts.clock.now();
    for (const flow of this.busy) {
      if (now - flow.busySince < this.timeoutMs) break;
      this.busy.delete(flow);
      this.stallCount++;
      streamStalls.inc({ kind: this.opts.kind });
      const reset = flow.reset();
      this.opts.logger?.warn(
        { kind: this.opts.kind, peer: flow.peer, stalledMs: Math.round(now - flow.busySince), stallTimeoutMs: this.timeoutMs, reset },
        `${this.opts.kind} stream stalled (the client stopped reading): closed with RESOURCE_EXHAUSTED`,
      );
      flow.onStalled();
    }
    this.arm();
  }
}

/**
 * Resets a grpc-js server call's HTTP/2 stream. grpc-js has no public way: the call wraps a
 * chain of intercepting calls whose innermost holds the Http2Stream (`stream`); found by shape,
 * so a grpc-js change makes this return false (the stall test fails), never throw.
 */
function resetCall(call: FlowCall, code: number): boolean {
  let link: unknown = (call as { call?: unknown }).call;
  for (let depth = 0; depth < 16 && typeof link === 'object' && link !== null; depth++) {
    const stream = (link as { stream?: unknown }).stream;
    if (typeof stream === 'object' && stream !== null && 'rstCode' in stream && typeof (stream as { close?: unknown }).close === 'function') {
      const s = stream as unknown as { close(code: number): void; destroyed: boolean };
      if (!s.destroyed) s.close(code);
      return true;
    }
    link = (link as { nextCall?: unknown }).nextCall;
  }
  return false;
}
