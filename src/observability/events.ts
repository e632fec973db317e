/**
 * The event and audit trail: health transitions (active, passive, admin), admin changes (what,
 * new version, who), refused calls, config reloads. Each event is one pino line (at the level
 * the event asks for: in a cluster, a transition another instance published is logged at debug
 * here, so a log aggregator shows it once) and one entry of a bounded in-memory ring, which followers read: the AdminService.WatchEvents stream,
 * `GET /events` (server-sent events) and `checkups events`.
 *
 * Memory is bounded whatever readers do. The ring holds the newest `capacity` events
 * (overwriting counts in checkups_events_dropped_total{reason="ring_overwritten"}). A follower
 * owns no queue, only a cursor into the ring: it is written to while its transport accepts
 * writes (write() returned true), paused while the transport is full, and resumed on drain from
 * its cursor. A follower so slow that its cursor fell out of the ring skips to the oldest held
 * event and is told how many it missed (reason="follower_behind"). So a reader that never reads
 * costs one socket buffer, and nobody else waits for it.
 *
 * Details must never hold secrets: callers pass ids, names, counts and messages, never option
 * values (see core/diff.ts).
 */
import type { Logger } from 'pino';
import { eventsDropped, eventsTotal } from './metrics.ts';

export const EVENT_KINDS = ['health', 'admin', 'auth', 'config'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

export interface CheckupsEvent {
  /** Increases by one per event, from 1, per process. */
  readonly seq: number;
  /** Wall-clock ms. */
  readonly at: number;
  readonly kind: EventKind;
  /** One line for people. */
  readonly message: string;
  readonly skey?: string;
  readonly peer?: string;
  /** Kind-specific facts (cause, from, to, reason, probe, actor, version, change, ...). JSON only. */
  readonly details: Readonly<Record<string, unknown>>;
}

/** `level`: of the pino line only (default info); the ring, followers and metrics take every event alike. */
export type NewEvent = Omit<CheckupsEvent, 'seq' | 'at'> & { readonly level?: 'debug' | 'info' | 'warn' };

/** Who made a call: the credential's name, the TLS client certificate subject, the address. */
export interface Actor {
  readonly name: string;
  readonly address: string;
  readonly certSubject?: string;
}

export const DEFAULT_EVENT_BUFFER = 10_000;

export interface FollowOptions {
  /** Deliver events with seq > afterSeq that are still held; default: only new ones. */
  readonly afterSeq?: number;
  readonly kinds?: ReadonlySet<EventKind>;
  /**
   * Writes one event; returns false when the transport is full (the event was taken, but send
   * no more until `resume()`). `missed` > 0: events skipped since the last write.
   */
  readonly write: (event: CheckupsEvent, missed: number) => boolean;
}

export class EventFollower {
  /** seq of the next event to deliver. */
  next: number;
  blocked = false;
  closed = false;
  missed = 0;

  constructor(
    private readonly log: EventLog,
    readonly opts: FollowOptions,
    start: number,
  ) {
    this.next = start;
  }

  /** The transport drained: continue from the cursor. */
  resume(): void {
    this.blocked = false;
    this.log.pump(this);
  }

  close(): void {
    this.closed = true;
    this.log.unfollow(this);
  }
}

export class EventLog {
  private readonly ring: Array<CheckupsEvent | undefined>;
  private seq = 0;
  private readonly followers = new Set<EventFollower>();

  constructor(
    private readonly opts: { readonly capacity?: number; readonly logger?: Pick<Logger, 'debug' | 'info' | 'warn'>; readonly wallNow: () => number },
  ) {
    this.ring = new Array<CheckupsEvent | undefined>(opts.capacity ?? DEFAULT_EVENT_BUFFER);
  }

  get capacity(): number {
    return this.ring.length;
  }

  /** seq of the newest event (0 before the first). */
  get lastSeq(): number {
    return this.seq;
  }

  /** seq of the oldest event still held. */
  get firstSeq(): number {
    return Math.max(1, this.seq - this.ring.length + 1);
  }

  get followerCount(): number {
    return this.followers.size;
  }

  record(e: NewEvent): CheckupsEvent {
    const { level = 'info', ...body } = e;
    const event: CheckupsEvent = { seq: ++this.seq, at: this.opts.wallNow(), ...body };
    const slot = event.seq % this.ring.length;
    if (this.ring[slot] !== undefined) eventsDropped.inc({ reason: 'ring_overwritten' });
    this.ring[slot] = event;
    eventsTotal.inc({ kind: event.kind });
    this.opts.logger?.[level]({ module: 'events', event: event.kind, seq: event.seq, ...(event.skey !== undefined ? { skey: event.skey } : {}), ...(event.peer !== undefined ? { peer: event.peer } : {}), ...event.details }, event.message);
    for (const f of this.followers) if (!f.blocked) this.pump(f);
    return event;
  }

  /** Held events with seq > afterSeq, oldest first (at most `limit`, the newest ones). */
  since(afterSeq = 0, limit = Infinity, kinds?: ReadonlySet<EventKind>): CheckupsEvent[] {
    const out: CheckupsEvent[] = [];
    for (let s = Math.max(afterSeq + 1, this.firstSeq); s <= this.seq; s++) {
      const e = this.ring[s % this.ring.length]!;
      if (kinds === undefined || kinds.has(e.kind)) out.push(e);
    }
    return out.length > limit ? out.slice(out.length - limit) : out;
  }

  follow(opts: FollowOptions): EventFollower {
    const f = new EventFollower(this, opts, opts.afterSeq === undefined ? this.seq + 1 : opts.afterSeq + 1);
    this.followers.add(f);
    this.pump(f);
    return f;
  }

  /** @internal Delivers to `f` from its cursor until it is blocked or up to date. */
  pump(f: EventFollower): void {
    while (!f.closed && !f.blocked && f.next <= this.seq) {
      const first = this.firstSeq;
      if (f.next < first) {
        const missed = first - f.next;
        f.missed += missed;
        eventsDropped.inc({ reason: 'follower_behind' }, missed);
        f.next = first;
      }
      const e = this.ring[f.next % this.ring.length]!;
      f.next++;
      if (f.opts.kinds !== undefined && !f.opts.kinds.has(e.kind)) continue;
      const missed = f.missed;
      f.missed = 0;
      if (!f.opts.write(e, missed)) f.blocked = true;
    }
  }

  /** @internal */
  unfollow(f: EventFollower): void {
    this.followers.delete(f);
  }

  /** Ends every follower (server shutdown). */
  close(): void {
    for (const f of [...this.followers]) f.close();
  }
}

/** Parses a comma-separated or repeated list of kinds; throws naming the bad one. */
export function parseEventKinds(values: readonly string[]): Set<EventKind> | undefined {
  const kinds = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  if (kinds.length === 0) return undefined;
  for (const k of kinds) if (!(EVENT_KINDS as readonly string[]).includes(k)) throw new Error(`kinds: unknown event kind ${JSON.stringify(k.slice(0, 40))} (one of ${EVENT_KINDS.join(', ')})`);
  return new Set(kinds as EventKind[]);
}
