/**
 * Limits on reported request outcomes (Feedback, FeedbackBatch), per call, per caller and per
 * peer (docs/security.md, "Feedback limits"):
 *
 * - **Batch size.** A FeedbackBatch of more than `maxBatch` outcomes is refused whole
 *   (INVALID_ARGUMENT naming the limit): nothing of it is applied, so a retry in smaller
 *   batches counts each outcome once.
 * - **Rate per caller.** Each caller has a token bucket of `callerBurst` outcomes refilled at
 *   `callerRate` per second. A call that needs more than is left is refused whole
 *   (RESOURCE_EXHAUSTED with the time to wait); the SDK keeps and retries its batch.
 * - **Failures per caller and peer.** lua-resty-checkups excludes a peer at its max_fails-th
 *   failure within fail_timeout. One caller's failures alone may bring at most
 *   `peersPerCaller` peers of an upstream to max_fails within fail_timeout (counted from its own
 *   first failure for that peer); for any further peer its failures count up to max_fails - 1,
 *   so they exclude it only together with failures other callers report. Failures beyond that
 *   are dropped (RESOURCE_EXHAUSTED for one Feedback, a `rejected` line in a batch). So one
 *   client whose own network broke, or one holder of a token gone rogue, cannot take a whole
 *   priority level away in a moment; the ejection cap (max_ejection_percent) still bounds what
 *   all callers together can exclude. Successes are never limited per peer: they change no
 *   verdict.
 *
 * A caller is the credential's name (or anonymous), the client certificate subject under mTLS,
 * and the client's address: IPv4 as is, IPv6 by its /64 (one host usually holds a whole /64).
 * The state is bounded: at most MAX_FEEDBACK_CALLERS callers and MAX_FEEDBACK_WINDOWS
 * (caller, peer) windows; beyond either the least recently seen callers are dropped (counted in
 * checkups_feedback_callers_evicted_total). A dropped caller starts again with a full bucket.
 * Time is the injected clock's.
 */
import { isIP } from 'node:net';
import type { FeedbackLimits, PeerId } from '../core/model.ts';
import type { Actor } from '../observability/events.ts';
import { feedbackCallers, feedbackCallersEvicted } from '../observability/metrics.ts';
import { clip } from '../util/bounded-text.ts';
import type { Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import { MinHeap } from '../util/heap.ts';
import { TokenBucket } from '../util/token-bucket.ts';

export const MAX_FEEDBACK_CALLERS = 10_000;
export const MAX_FEEDBACK_WINDOWS = 100_000;
/** How often (at most) a caller's ended windows are swept, ms. */
const SWEEP_MS = 1000;

/** What the per-peer limit needs of the server entry a failure counts for. */
export interface PeerLimit {
  readonly maxFails: number;
  readonly failTimeoutMs: number;
}

interface Window {
  /** Monotonic ms when this caller's window for the peer ends. */
  readonly until: number;
  /** Failures of this caller counted in it. */
  count: number;
}

/** When something keyed `key` ends, in a heap by time (lazy: stale entries are skipped). */
interface End<K> {
  at: number;
  seq: number;
  readonly key: K;
}

/** Peers one caller alone brought to max_fails in one upstream, with the end of that window. */
interface Saturated {
  readonly until: Map<PeerId, number>;
  /** The same ends by time: ended ones leave without a scan. */
  readonly ends: MinHeap<End<PeerId>>;
}

interface CallerState {
  readonly bucket: TokenBucket;
  /** `skey \0 peer` -> window. */
  readonly windows: Map<string, Window>;
  /** The windows' ends by time, for the sweep; one entry per window opened. */
  readonly windowEnds: MinHeap<End<string>>;
  /** skey -> peers this caller alone brought to max_fails. */
  readonly saturated: Map<string, Saturated>;
  nextSweep: number;
}

/** The network a client address belongs to for the limits: IPv4 as is, IPv6 by its /64. */
export function clientNetwork(address: string): string {
  const bare = address.replace(/^(ipv4|ipv6):/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  let host = bracketed !== null ? bracketed[1]! : bare.split(':').length === 2 ? bare.slice(0, bare.lastIndexOf(':')) : bare;
  host = host.replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped !== null) return mapped[1]!;
  if (isIP(host) !== 6) return clip(host, 100);
  const [head, tail = ''] = host.split('::') as [string, string?];
  const left = head === '' ? [] : head.split(':');
  const right = tail === '' ? [] : tail.split(':');
  const groups = host.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups
    .slice(0, 4)
    .map((g) => Number.parseInt(g, 16).toString(16))
    .join(':')}::/64`;
}

/** The caller key of an authenticated actor. */
export function callerOf(actor: Actor): string {
  return `${actor.name}|${clip(actor.certSubject ?? '', 200)}|${clientNetwork(actor.address)}`;
}

export interface FeedbackLimiterStats {
  readonly callers: number;
  readonly windows: number;
  readonly evicted: number;
}

/**
 * Each outcome costs O(1) amortized (O(log n) heap steps when it opens a window or saturates a
 * peer), whatever the number of windows or saturated peers a caller has: ended ones are found by
 * time, not by a scan, so a mass failure reported by one caller is linear.
 */
export class FeedbackLimiter {
  private readonly callers = new Map<string, CallerState>();
  private windows = 0;
  private evicted = 0;
  private seq = 0;

  constructor(
    readonly limits: FeedbackLimits,
    private readonly clock: Clock,
  ) {}

  stats(): FeedbackLimiterStats {
    return { callers: this.callers.size, windows: this.windows, evicted: this.evicted };
  }

  /**
   * Admits a call of `n` outcomes from `caller` (takes them from its bucket), or throws:
   * INVALID_ARGUMENT for a batch over maxBatch, RATE_LIMITED over the caller's rate. A refused
   * call takes nothing.
   */
  admit(caller: string, n: number, batch: boolean): void {
    const { maxBatch, callerRate, callerBurst } = this.limits;
    if (batch && n > maxBatch) {
      throw new CheckupsError('INVALID_ARGUMENT', `outcomes: ${n} in one FeedbackBatch, at most ${maxBatch} (server.feedback.max_batch); nothing was applied: send them in batches of ${maxBatch} or fewer`);
    }
    const now = this.clock.now();
    const st = this.state(caller, now);
    if (!st.bucket.take(n, now)) {
      const wait = st.bucket.waitMs(n, now);
      throw new CheckupsError(
        'RATE_LIMITED',
        `feedback rate limit: one caller may report ${callerRate} outcomes per second, ${callerBurst} at once (server.feedback.caller_rate, caller_burst); nothing of this call was applied: retry in ${wait} ms`,
      );
    }
  }

  /**
   * Whether one failure `caller` reports for `peer` of `skey` may count now (then it is counted
   * here), by the per-peer rule above. Throw-free: the caller decides how to report a refusal.
   */
  allowFailure(caller: string, skey: string, peer: PeerId, limit: PeerLimit): boolean {
    if (limit.maxFails === 0) return true; // passive health is off for this peer: nothing to limit
    const now = this.clock.now();
    const st = this.state(caller, now);
    if (now >= st.nextSweep) this.sweep(st, now);
    const key = `${skey}\0${peer}`;
    let w = st.windows.get(key);
    if (w === undefined || w.until <= now) {
      if (w === undefined) this.windows++;
      w = { until: now + limit.failTimeoutMs, count: 0 };
      st.windows.set(key, w);
      st.windowEnds.push({ at: w.until, seq: this.seq++, key });
    }
    if (w.count + 1 >= limit.maxFails) {
      let peers = st.saturated.get(skey);
      const already = peers?.until.has(peer) === true;
      if (!already && this.saturatedNow(peers, now) >= this.limits.peersPerCaller) return false;
      if (!already) {
        if (peers === undefined) st.saturated.set(skey, (peers = { until: new Map(), ends: new MinHeap() }));
        peers.until.set(peer, w.until);
        peers.ends.push({ at: w.until, seq: this.seq++, key: peer });
      }
    }
    w.count++;
    this.bound(caller);
    return true;
  }

  /**
   * Peers in `peers` whose saturated window has not ended; drops those that have. A peer is set
   * here once per window and removed only when that window ends, so each heap entry is its live
   * end or one already ended: the heap stays as large as the map, plus ended entries.
   */
  private saturatedNow(peers: Saturated | undefined, now: number): number {
    if (peers === undefined) return 0;
    for (let end = peers.ends.peek(); end !== undefined && end.at <= now; end = peers.ends.peek()) {
      peers.ends.pop();
      const until = peers.until.get(end.key);
      if (until !== undefined && until <= now) peers.until.delete(end.key);
    }
    return peers.until.size;
  }

  /** Drops the caller's ended windows (each window's end is in windowEnds, so none is missed). */
  private sweep(st: CallerState, now: number): void {
    st.nextSweep = now + SWEEP_MS;
    for (let end = st.windowEnds.peek(); end !== undefined && end.at <= now; end = st.windowEnds.peek()) {
      st.windowEnds.pop();
      const w = st.windows.get(end.key);
      if (w === undefined || w.until > now) continue; // replaced by a newer window: its own entry follows
      st.windows.delete(end.key);
      this.windows--;
    }
    for (const [skey, peers] of st.saturated) if (this.saturatedNow(peers, now) === 0) st.saturated.delete(skey);
  }

  /** The caller's state, made the most recently seen (Map order is the LRU order). */
  private state(caller: string, now: number): CallerState {
    let st = this.callers.get(caller);
    if (st !== undefined) {
      this.callers.delete(caller);
      this.callers.set(caller, st);
      return st;
    }
    st = { bucket: new TokenBucket(this.limits.callerRate, this.limits.callerBurst, now), windows: new Map(), windowEnds: new MinHeap(), saturated: new Map(), nextSweep: now + SWEEP_MS };
    this.callers.set(caller, st);
    this.bound(caller);
    feedbackCallers.set(this.callers.size);
    return st;
  }

  /** Drops the least recently seen callers (never `keep`) while over either bound. */
  private bound(keep: string): void {
    while (this.callers.size > MAX_FEEDBACK_CALLERS || this.windows > MAX_FEEDBACK_WINDOWS) {
      const oldest = this.callers.keys().next().value!;
      if (oldest === keep) break; // only the current caller is left to drop
      this.windows -= this.callers.get(oldest)!.windows.size;
      this.callers.delete(oldest);
      this.evicted++;
      feedbackCallersEvicted.inc();
    }
    feedbackCallers.set(this.callers.size);
  }
}
