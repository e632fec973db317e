/**
 * Passive health from request outcomes: lua-resty-checkups' max_fails / fail_timeout
 * (docs/compat.md), kept exactly, quirks included:
 *
 * - a record's window starts when it is created or reset (first outcome after expiry), and does
 *   not move on later failures: a server marked err is excluded until windowStart + fail_timeout;
 * - successes neither reset the failure count nor clear err; only expiry does;
 * - at windowStart + fail_timeout exactly, the record no longer excludes the server, but is reset
 *   only by an outcome strictly after that;
 * - "last usable server" guard, always on: the max_fails-th failure marks the server err only if
 *   some other server of the upstream has no record or an ok one (raw status, expiry ignored).
 *
 * Added here: the ejection cap (ejection-cap.ts) is checked at the same moment; and verdicts
 * published elsewhere (by the server for the SDK, by other instances in a cluster) are adopted
 * into the same table, so local accounting and the fleet's verdicts exclude peers together.
 *
 * One table per upstream, shared by every cluster that lists a server (keyed by host:port).
 */
import type { PassiveVerdict, PeerId, ServerSpec } from '../core/model.ts';
import { peerId } from '../core/model.ts';
import { ChangeLog } from '../util/change-log.ts';
import { MinHeap } from '../util/heap.ts';
import { DEFAULT_MAX_EJECTION_PERCENT, mayEject } from './ejection-cap.ts';

const MAX_CHANGE_LOG = 1024;
/** Source of PassiveHealth revisions: one sequence for all tables, so no two states share a number. */
let lastRevision = 0;

export interface PassiveRecord {
  status: 'ok' | 'err';
  failedCount: number;
  /** Monotonic ms when the current window started. */
  windowStart: number;
}

/** One end of an exclusion, in the order they come (ejected below). */
interface EjectionEnd {
  at: number;
  seq: number;
  readonly id: PeerId;
}

/**
 * The last peers list record() was given, as a set, and how many of its members have an err
 * record (raw status): the last-usable-server guard is a subtraction instead of a scan.
 */
interface GuardCount {
  readonly peers: readonly PeerId[];
  readonly members: ReadonlySet<PeerId>;
  err: number;
}

/**
 * Every outcome costs O(1) amortized, O(log ejected) when it excludes a peer, whatever the number
 * of peers already excluded: a mass failure (1,000 peers of 10,000) is linear, not quadratic.
 */
export class PassiveHealth {
  private readonly records = new Map<PeerId, PassiveRecord>();
  /** Monotonic end of every err record's exclusion, for the ejection cap. */
  private readonly ejected = new Map<PeerId, number>();
  /**
   * The same ends by time, so ended exclusions leave without a scan. Lazy: an entry whose peer no
   * longer has that end in `ejected` is dropped when it comes up, and the heap is rebuilt when
   * such entries outnumber the live ones.
   */
  private ejectionEnds = new MinHeap<EjectionEnd>();
  private ejectionSeq = 0;
  private guard: GuardCount | undefined;
  /** Bumped whenever some record's status changes: cached availability must be updated. */
  epoch = 0;
  /**
   * Changes whenever some record's failure count may have changed (status output shows it:
   * GetStatus reuses an upstream's encoded bytes while this and the registry's revisions stay,
   * and encodes again only the peers countsChangedSince names). Taken from one sequence across
   * tables, so a table made afresh never repeats an old number.
   */
  revision = ++lastRevision;
  /** The peer behind each recent epoch. */
  private readonly statusLog = new ChangeLog<PeerId>(MAX_CHANGE_LOG);
  private readonly firstRevision = this.revision;
  /** The peer behind each recent revision (a table made afresh knows none before its first). */
  private readonly countLog = new ChangeLog<PeerId>(MAX_CHANGE_LOG, this.revision);

  /**
   * Peers whose status changed after `epoch` (possibly repeated), or undefined when the log no
   * longer reaches back that far: a cache updates those peers only, in O(changes) instead of
   * O(peers) (a mass failure is 1,000 changes in an upstream of 10,000).
   */
  changedSince(epoch: number): readonly PeerId[] | undefined {
    return this.statusLog.since(epoch);
  }

  /**
   * Peers whose failure count may have changed after `revision`, or undefined when that is not
   * known (as changedSince). Revision 0 is before any table: every count 0, as in a new one.
   */
  countsChangedSince(revision: number): readonly PeerId[] | undefined {
    return this.countLog.since(revision === 0 ? this.firstRevision : revision);
  }

  private bump(id: PeerId): void {
    this.statusLog.record(++this.epoch, id);
  }

  private countChanged(id: PeerId): void {
    this.revision = ++lastRevision;
    this.countLog.record(this.revision, id);
  }

  /** True while the server is passively excluded. */
  isDown(id: PeerId, failTimeoutMs: number, now: number): boolean {
    const rec = this.records.get(id);
    return rec !== undefined && rec.status === 'err' && rec.windowStart + failTimeoutMs > now;
  }

  /** When an exclusion of `id` ends (only meaningful while isDown). */
  downUntil(id: PeerId, failTimeoutMs: number): number {
    const rec = this.records.get(id);
    return rec === undefined ? -Infinity : rec.windowStart + failTimeoutMs;
  }

  get(id: PeerId): Readonly<PassiveRecord> | undefined {
    return this.records.get(id);
  }

  /**
   * Accounts one outcome of `server`. `peers` lists every distinct peer of the upstream (for the
   * last-usable-server guard); it is read once per array, not per call: pass the same array
   * while the peers stay the same (the balancer's), a new one when they change, and do not change
   * it in place. Returns true when the server became err.
   */
  record(server: ServerSpec, failed: boolean, now: number, peers: readonly PeerId[], maxEjectionPercent = DEFAULT_MAX_EJECTION_PERCENT): boolean {
    if (server.maxFails === 0) return false;
    const id = peerId(server.host, server.port);
    let rec = this.records.get(id);
    if (rec === undefined || rec.windowStart + server.failTimeoutMs < now) {
      if (rec?.status === 'err') {
        this.bump(id);
        this.ejected.delete(id);
        this.countErr(id, -1);
      }
      if (rec !== undefined && rec.failedCount !== 0) this.countChanged(id);
      rec = { status: 'ok', failedCount: 0, windowStart: now };
      this.records.set(id, rec);
    }
    if (!failed) return false;
    rec.failedCount++;
    this.countChanged(id);
    if (rec.failedCount < server.maxFails || rec.status === 'err') return false;
    if (!mayEject(this.ejectedNow(now, id), peers.length, maxEjectionPercent)) return false;
    // The guard: some other peer has no record or an ok one. `id` itself is ok here.
    const guard = this.guardOf(peers);
    if (guard.members.size - guard.err - (guard.members.has(id) ? 1 : 0) === 0) return false;
    rec.status = 'err';
    this.countErr(id, 1);
    this.eject(id, rec.windowStart + server.failTimeoutMs);
    this.bump(id);
    return true;
  }

  /**
   * Takes over a verdict published elsewhere: `server` is excluded until `verdict.untilWall`
   * (wall clock; `wallNow` converts it to this table's monotonic time). A peer already excluded
   * at least as long, or a verdict refused by the ejection cap, changes nothing. Failure counts
   * are not added up (the publisher counted this process's reports too): the larger one is kept.
   * Returns true when the peer became excluded.
   */
  adopt(server: ServerSpec, verdict: PassiveVerdict, now: number, wallNow: number, peers: readonly PeerId[], maxEjectionPercent = DEFAULT_MAX_EJECTION_PERCENT): boolean {
    const until = now + (verdict.untilWall - wallNow);
    if (until <= now) return false;
    const id = peerId(server.host, server.port);
    const rec = this.records.get(id);
    // 1 ms of slack: a verdict this table published itself comes back through two clock reads.
    if (rec !== undefined && rec.status === 'err' && rec.windowStart + server.failTimeoutMs >= until - 1) return false;
    const wasDown = rec !== undefined && rec.status === 'err' && rec.windowStart + server.failTimeoutMs > now;
    if (!wasDown && !mayEject(this.ejectedNow(now, id), peers.length, maxEjectionPercent)) return false;
    if (rec?.status !== 'err') this.countErr(id, 1);
    this.records.set(id, { status: 'err', failedCount: Math.max(rec?.failedCount ?? 0, verdict.failedCount), windowStart: until - server.failTimeoutMs });
    this.countChanged(id);
    this.eject(id, until);
    this.bump(id);
    return !wasDown;
  }

  /** Peers other than `except` excluded at `now`; drops ended exclusions first. */
  private ejectedNow(now: number, except: PeerId): number {
    for (let end = this.ejectionEnds.peek(); end !== undefined && end.at <= now; end = this.ejectionEnds.peek()) {
      this.ejectionEnds.pop();
      // Every end at or before `now` has its entry here, so this drops every ended exclusion.
      const until = this.ejected.get(end.id);
      if (until !== undefined && until <= now) this.ejected.delete(end.id);
    }
    return this.ejected.size - (this.ejected.has(except) ? 1 : 0);
  }

  private eject(id: PeerId, until: number): void {
    this.ejected.set(id, until);
    this.ejectionEnds.push({ at: until, seq: this.ejectionSeq++, id });
    // Ends replaced or dropped before they came up stay in the heap: bounded to twice the live ones.
    if (this.ejectionEnds.size > 2 * this.ejected.size + 64) {
      this.ejectionEnds = new MinHeap();
      for (const [peer, at] of this.ejected) this.ejectionEnds.push({ at, seq: this.ejectionSeq++, id: peer });
    }
  }

  /** The guard's count for `peers`, counted afresh when record() is given another array. */
  private guardOf(peers: readonly PeerId[]): GuardCount {
    if (this.guard?.peers !== peers) {
      const members = new Set(peers);
      let err = 0;
      for (const id of members) if (this.records.get(id)?.status === 'err') err++;
      this.guard = { peers, members, err };
    }
    return this.guard;
  }

  /** Keeps the guard's count in step with a record of `id` turning err (+1) or leaving err (-1). */
  private countErr(id: PeerId, delta: 1 | -1): void {
    if (this.guard?.members.has(id) === true) this.guard.err += delta;
  }

  /** Drops records of peers no longer configured (an upstream update removed them). */
  retain(keep: ReadonlySet<PeerId>): void {
    for (const [id, rec] of this.records) {
      if (keep.has(id)) continue;
      if (rec.status === 'err') this.countErr(id, -1);
      this.records.delete(id);
      this.countChanged(id);
    }
    for (const id of this.ejected.keys()) if (!keep.has(id)) this.ejected.delete(id);
  }
}
