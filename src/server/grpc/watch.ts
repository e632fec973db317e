/**
 * WatchHub: fans registry changes out to Watch streams.
 *
 * - Encode once: an upstream's snapshot is serialised once per version, as a ready-made
 *   `WatchResponse.upstreams` entry; a response is the concatenation of such entries plus the
 *   few trailing fields (protobuf merges concatenated messages). 1,000 streams, one encode.
 *   And that encode redoes only the peers that changed (wire/upstream-encoding.ts): at 10,000
 *   servers, one window of a mass failure costs the changed peers plus a copy, not 10,000.
 * - Coalescing: a change only marks its upstream dirty (O(1) inside the registry's event); once
 *   per `coalesceMs` window the dirty upstreams are handed to the streams watching them and
 *   each stream is flushed once, with the newest state of everything dirty. Each upstream is
 *   encoded at most once per window, however many changes and streams.
 * - Slow readers: while a write of a stream is unfinished (its client has not taken the bytes;
 *   stream-flow.ts) nothing more is written to it; it keeps only its dirty set (bounded by the
 *   number of upstreams) and gets the newest state once the write finishes. Versions only go
 *   forward; intermediate ones may be skipped. A stream stuck past the stall timeout is closed.
 * - Resume: a client sends the versions it holds; the first message then carries only
 *   upstreams at another version, plus removals of those that are gone.
 * - Time: every message carries the server's clock reading (`server_clock_ms`), against which
 *   clients read the slow-start times in the snapshots. The hub's clock must be the registry's.
 */
import type * as grpc from '@grpc/grpc-js';
import type { RegistryChange, UpstreamRegistry } from '../../core/registry.ts';
import type { WatchRequest__Output } from '../../generated/checkups/v1/WatchRequest.ts';
import type { WatchResponse } from '../../generated/checkups/v1/WatchResponse.ts';
import type { Clock, Timer } from '../../util/clock.ts';
import { countStreamMessage, pushDuration, pushesTotal } from '../../observability/metrics.ts';
import { SnapshotEncoder, type EntryBytes } from '../../wire/upstream-encoding.ts';
import { FANOUT_SLICE_MS, StallGuard, type StreamFlow, type StreamLogger } from '../stream-flow.ts';
import { forEachSliced } from '../../util/sliced.ts';

/** Encodes a WatchResponse object (the proto-loader serializer of the Watch method). */
export type WatchEncoder = (message: WatchResponse) => Buffer;

export type WatchCall = grpc.ServerWritableStream<WatchRequest__Output, Buffer>;

/** Keep initial snapshots under this many bytes per message (clients' default limit is 4 MiB). */
const MAX_BATCH_BYTES = 1 << 20;
/**
 * A flush that holds FLUSH_SLICE_MIN_BYTES and has encoded FLUSH_SLICE_MS more sends what it has
 * and lets the event loop run, going on at the next turn. A new client's first snapshot of
 * 30,000 peers was 300 ms and more of the loop in one go, during which probes, verdicts and
 * every other call waited. Below the minimum a flush goes out whole, in one message, and reads
 * no clock: a push to many streams is one small flush each.
 */
const FLUSH_SLICE_MS = 5;
const FLUSH_SLICE_MIN_BYTES = 64 << 10;

interface Subscriber {
  readonly call: WatchCall;
  /** null = every upstream. */
  readonly skeys: ReadonlySet<string> | null;
  /** Version of each upstream this client holds. */
  readonly sent: Map<string, number>;
  readonly dirty: Set<string>;
  readonly flow: StreamFlow;
  synced: boolean;
  /** A flush stopped at its time slice and goes on at the next turn of the loop. */
  resuming: boolean;
}

export interface WatchFlowOptions {
  /** A stream whose client has not taken a message for this long is closed (ms). */
  readonly stallTimeoutMs?: number;
  readonly logger?: StreamLogger;
}

export interface WatchHubStats {
  readonly streams: number;
  /** Snapshot encodings performed (one per upstream version that some stream needed). */
  readonly encodes: number;
  /** Peers encoded within them: the peers that changed, not every peer of each snapshot. */
  readonly peerEncodes: number;
  /** Peers looked at again for snapshots so far: grows with the peers written, not with upstream sizes (but with slow start on). */
  readonly peerReads: number;
  readonly messages: number;
  /** Streams with a message their client has not taken yet. */
  readonly busyStreams: number;
  /** Upstreams, summed over streams, waiting to be sent (what held-back streams keep). */
  readonly pendingUpstreams: number;
  /** Streams closed because their client stopped reading. */
  readonly stalls: number;
}

export class WatchHub {
  private readonly subscribers = new Set<Subscriber>();
  /** Upstreams changed since the last flush. */
  private readonly changed = new Set<string>();
  /** skey -> [version, encoded upstreams entry]. */
  private readonly encoded = new Map<string, { version: number; bytes: EntryBytes }>();
  private readonly snapshots = new SnapshotEncoder();
  private timer: Timer | undefined;
  /** The last message assembled: a push writes the same parts and trailer to many streams. */
  private lastMessage: { readonly parts: readonly EntryBytes[]; readonly revision: number; readonly clockMs: number; readonly syncComplete: boolean; readonly bytes: Buffer } | undefined;
  private encodes = 0;
  private messages = 0;
  private readonly unsubscribe: () => void;
  private readonly stalls: StallGuard;

  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly encode: WatchEncoder,
    private readonly clock: Clock,
    private readonly coalesceMs = 20,
    flow: WatchFlowOptions = {},
  ) {
    this.unsubscribe = registry.subscribe((c) => this.onChange(c));
    this.stalls = new StallGuard({
      kind: 'watch',
      clock,
      ...(flow.stallTimeoutMs !== undefined ? { timeoutMs: flow.stallTimeoutMs } : {}),
      ...(flow.logger !== undefined ? { logger: flow.logger } : {}),
    });
  }

  stats(): WatchHubStats {
    let pending = 0;
    for (const sub of this.subscribers) pending += sub.dirty.size;
    return { streams: this.subscribers.size, encodes: this.encodes, peerEncodes: this.snapshots.peerEncodes, peerReads: this.snapshots.peerReads, messages: this.messages, busyStreams: this.stalls.busyStreams, pendingUpstreams: pending, stalls: this.stalls.stalls };
  }

  /** Serves one Watch call until the client goes away (or `close()`). */
  handle(call: WatchCall): void {
    const req = call.request;
    const drop = () => {
      this.subscribers.delete(sub);
      sub.flow.close();
    };
    const sub: Subscriber = {
      call,
      skeys: req.skeys.length > 0 ? new Set(req.skeys) : null,
      sent: new Map(Object.entries(req.knownVersions ?? {}).map(([k, v]) => [k, Number(v)])),
      dirty: new Set(),
      flow: this.stalls.open(call, () => this.subscribers.has(sub) && this.flush(sub), drop),
      synced: false,
      resuming: false,
    };
    this.subscribers.add(sub);
    call.on('cancelled', drop);
    call.on('close', drop);
    call.on('error', drop);
    // Initial sync: everything watched, and everything the client holds.
    for (const skey of this.registry.skeys()) if (this.watches(sub, skey)) sub.dirty.add(skey);
    for (const skey of sub.sent.keys()) sub.dirty.add(skey);
    this.flush(sub);
  }

  /** Ends every stream (server shutdown). */
  close(): void {
    this.unsubscribe();
    this.timer?.cancel();
    this.stalls.close();
    for (const sub of this.subscribers) sub.call.end();
    this.subscribers.clear();
  }

  private watches(sub: Subscriber, skey: string): boolean {
    return sub.skeys === null || sub.skeys.has(skey);
  }

  private onChange(change: RegistryChange): void {
    if (change.cause === 'deleted') this.encoded.delete(change.skey);
    if (this.subscribers.size === 0) return;
    this.changed.add(change.skey);
    if (this.timer !== undefined) return;
    const firstChangeAt = this.clock.now();
    this.timer = this.clock.setTimer(this.coalesceMs, () => {
      this.timer = undefined;
      this.flushChanged(() => {
        pushesTotal.inc({ kind: 'watch' });
        pushDuration.observe({ kind: 'watch' }, (this.clock.now() - firstChangeAt) / 1000);
      });
    });
  }

  /** Marks what changed dirty for every stream watching it, then flushes those streams, in slices. */
  private flushChanged(done: () => void): void {
    const changed = [...this.changed];
    this.changed.clear();
    const due: Subscriber[] = [];
    for (const sub of this.subscribers) {
      // A client still getting its first snapshot gets these too (it may hold an older one of them).
      let any = false;
      for (const skey of changed) {
        if (!this.watches(sub, skey)) continue;
        sub.dirty.add(skey);
        any = true;
      }
      if (any) due.push(sub);
    }
    // A stream gone before its turn is skipped; one flushed meanwhile (its write finished) has nothing left.
    forEachSliced(this.clock, due, FANOUT_SLICE_MS, (sub) => this.subscribers.has(sub) && this.flush(sub), done);
  }

  /**
   * One message: `parts` (encoded upstreams entries) and the trailing fields, assembled once per
   * push, the entries written straight into it (an entry has no buffer of its own: at 10,000
   * peers that was 1 MB of fresh memory per version besides the message).
   */
  private message(parts: EntryBytes[], removed: string[], syncComplete: boolean): Buffer {
    const revision = this.registry.currentRevision;
    // The clock reading makes the snapshots' slow-start times relative (wire/upstream.ts);
    // written per message because a snapshot's bytes are encoded once and sent later too.
    const clockMs = Math.floor(this.clock.now());
    const last = this.lastMessage;
    if (removed.length === 0 && last !== undefined && last.revision === revision && last.clockMs === clockMs && last.syncComplete === syncComplete && sameParts(last.parts, parts)) return last.bytes;
    const trailer = this.encode({ removedSkeys: removed, syncComplete, revision, serverClockMs: clockMs });
    let size = trailer.length;
    for (const part of parts) size += part.size;
    const bytes = Buffer.allocUnsafe(size);
    let pos = 0;
    for (const part of parts) pos = part.writeTo(bytes, pos);
    bytes.set(trailer, pos);
    this.lastMessage = removed.length === 0 ? { parts, revision, clockMs, syncComplete, bytes } : undefined;
    return bytes;
  }

  private entryBytes(skey: string): { version: number; bytes: EntryBytes } | undefined {
    const entry = this.registry.upstream(skey);
    if (entry === undefined) return undefined;
    const cached = this.encoded.get(skey);
    if (cached !== undefined && cached.version === entry.version) return cached;
    const fresh = { version: entry.version, bytes: this.snapshots.entry(entry) };
    this.encodes++;
    this.encoded.set(skey, fresh);
    return fresh;
  }

  /** Writes everything dirty for `sub` at its newest version, in as few messages as fit. */
  private flush(sub: Subscriber): void {
    if (sub.flow.busy || sub.resuming || (sub.dirty.size === 0 && sub.synced)) return;
    let sliceFrom: number | undefined;
    const parts: EntryBytes[] = [];
    const removed: string[] = [];
    let size = 0;
    const send = (last: boolean) => {
      sub.flow.write(this.message(parts.splice(0), removed.splice(0), last && !sub.synced));
      size = 0;
      this.messages++;
      countStreamMessage('watch');
    };
    for (const skey of [...sub.dirty]) {
      if (size >= FLUSH_SLICE_MIN_BYTES) {
        const now = this.clock.now();
        sliceFrom ??= now;
        if (now - sliceFrom >= FLUSH_SLICE_MS) {
          send(false);
          this.resume(sub);
          return;
        }
      }
      sub.dirty.delete(skey);
      const e = this.entryBytes(skey);
      if (e === undefined) {
        if (sub.sent.delete(skey)) removed.push(skey);
        continue;
      }
      if (sub.sent.get(skey) === e.version) continue;
      sub.sent.set(skey, e.version);
      parts.push(e.bytes);
      size += e.bytes.size;
      if (size >= MAX_BATCH_BYTES) send(false);
    }
    if (parts.length > 0 || removed.length > 0 || !sub.synced) send(true);
    sub.synced = true;
  }

  /** Goes on with `sub`'s flush at the next turn of the event loop. */
  private resume(sub: Subscriber): void {
    sub.resuming = true;
    this.clock.defer(() => {
      sub.resuming = false;
      if (this.subscribers.has(sub)) this.flush(sub);
    });
  }
}

function sameParts(a: readonly EntryBytes[], b: readonly EntryBytes[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
