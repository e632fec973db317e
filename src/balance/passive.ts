/**
 * Passive health from request outcomes: lua-resty-checkups' max_fails / fail_timeout
 * (checkups-semantics.md §4.5), kept exactly, quirks included:
 *
 * - a record's window starts when it is created or reset (first outcome after expiry), and does
 *   not move on later failures: a server marked err is excluded until windowStart + fail_timeout;
 * - successes neither reset the failure count nor clear err; only expiry does;
 * - at windowStart + fail_timeout exactly, the record no longer excludes the server, but is reset
 *   only by an outcome strictly after that;
 * - "last usable server" guard, always on: the max_fails-th failure marks the server err only if
 *   some other server of the upstream has no record or an ok one (raw status, expiry ignored).
 *
 * One table per upstream, shared by every cluster that lists a server (keyed by host:port).
 */
import type { PeerId, ServerSpec } from '../core/model.ts';
import { peerId } from '../core/model.ts';

export interface PassiveRecord {
  status: 'ok' | 'err';
  failedCount: number;
  /** Monotonic ms when the current window started. */
  windowStart: number;
}

export class PassiveHealth {
  private readonly records = new Map<PeerId, PassiveRecord>();
  /** Bumped whenever some record's status changes: cached availability must be rebuilt. */
  epoch = 0;
  /** Records whose raw status is err (expired or not): the last-usable-server guard in O(1). */
  private errRecords = 0;

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
   * last-usable-server guard). Returns true when the server became err.
   */
  record(server: ServerSpec, failed: boolean, now: number, peers: readonly PeerId[]): boolean {
    if (server.maxFails === 0) return false;
    const id = peerId(server.host, server.port);
    let rec = this.records.get(id);
    if (rec === undefined || rec.windowStart + server.failTimeoutMs < now) {
      if (rec?.status === 'err') {
        this.epoch++;
        this.errRecords--;
      }
      rec = { status: 'ok', failedCount: 0, windowStart: now };
      this.records.set(id, rec);
    }
    if (!failed) return false;
    rec.failedCount++;
    if (rec.failedCount < server.maxFails || rec.status === 'err') return false;
    // Some other peer has no record or an ok one: every peer but this one and the err ones.
    // (Records exist only for peers of the upstream: retain() drops the others.)
    if (peers.length - 1 - this.errRecords <= 0) return false;
    rec.status = 'err';
    this.errRecords++;
    this.epoch++;
    return true;
  }

  /** Drops records of peers no longer configured (an upstream update removed them). */
  retain(keep: ReadonlySet<PeerId>): void {
    for (const [id, rec] of this.records) {
      if (keep.has(id)) continue;
      if (rec.status === 'err') this.errRecords--;
      this.records.delete(id);
    }
  }
}
