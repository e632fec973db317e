/**
 * Heartbeat results -> recorded peer health, as lua-resty-checkups records them
 * (docs/compat.md). Pure functions: the health checker feeds them results.
 *
 * One peer (§4.3): ok resets fail_num and sets ok (after `rise` consecutive oks; 1 = at once, as
 * in the original); a non-ok result adds to fail_num and changes the status only once
 * fail_num >= sensibility. msg and extras are overwritten.
 *
 * The upstream (§4.4): the original aggregates one sequential pass per cycle. Probes here run on
 * their own schedules, so the same rules are applied to every peer's latest result instead:
 * - while any peer's latest result is ok, a peer recorded unstable counts as err;
 * - while every peer's latest result is err and `protected` is on, the FIRST peer in cluster
 *   order counts as unstable (so it stays selectable); sensibility still applies to it.
 * After a full pass both readings give the same statuses (tested on the original's example).
 */
import type { HeartbeatStatus, PeerHealth, PeerProtection, ProbeRecord } from '../core/model.ts';

export type ProbeStatus = ProbeRecord['status'];

/** How many results a peer's history keeps. */
export const RECENT_RESULTS = 5;

export interface ProbeResult {
  readonly status: ProbeStatus;
  /** Error text; null on success. */
  readonly msg: string | null;
  /** Probe-specific fields for status output (redis_version, replication, ...). */
  readonly extras?: Readonly<Record<string, unknown>>;
  /** How long the probe took, ms (set by the health checker). */
  readonly latencyMs?: number;
}

/** update_peer_status (§4.3). `wallNow` stamps status changes; `okStreak` counts oks so far, this one included. */
export function updatePeerStatus(old: PeerHealth | undefined, result: ProbeResult, sensibility: number, wallNow: number, rise = 1, okStreak = 1): PeerHealth {
  const prev: PeerHealth = old === undefined || old.status === 'unchecked' ? { status: 'ok', failNum: 0, lastModified: old?.lastModified ?? wallNow, msg: null } : old;
  let { status, failNum, lastModified } = prev;
  if (result.status === 'ok') {
    if (status !== 'ok' && okStreak >= rise) {
      status = 'ok';
      lastModified = wallNow;
    }
    failNum = 0;
  } else {
    failNum += 1;
    if (status !== result.status && failNum >= sensibility) {
      status = result.status;
      lastModified = wallNow;
    }
  }
  const extras = result.extras ?? prev.extras;
  const recent = [...(prev.recent ?? []), { at: wallNow, status: result.status, msg: result.msg, ...(result.latencyMs !== undefined ? { latencyMs: result.latencyMs } : {}) }].slice(-RECENT_RESULTS);
  return { status, failNum, lastModified, msg: result.msg, ...(extras !== undefined ? { extras } : {}), recent };
}

/** What the checker keeps per peer: its own record and its latest raw result. */
export interface PeerProbeState {
  readonly health: PeerHealth;
  readonly lastRaw: ProbeStatus;
  /** Consecutive ok results (for `rise`). */
  readonly okStreak: number;
}

export interface StatusRules {
  readonly sensibility: number;
  readonly rise: number;
}

/** Folds one probe result into a peer's state. */
export function applyResult(prev: PeerProbeState | undefined, result: ProbeResult, rules: StatusRules, wallNow: number): PeerProbeState {
  const okStreak = result.status === 'ok' ? (prev?.okStreak ?? 0) + 1 : 0;
  return {
    health: updatePeerStatus(prev?.health, result, rules.sensibility, wallNow, rules.rise, okStreak),
    lastRaw: result.status,
    okStreak,
  };
}

/** The upstream-wide facts the aggregation rules read. */
export interface Aggregate {
  /** Some peer's latest result is ok. */
  readonly anyOk: boolean;
  /** Every peer has a result and every latest result is err. */
  readonly allErr: boolean;
}

/** The status a peer is shown and selected with, given its own status and the upstream's state. */
export function effectiveStatus(own: HeartbeatStatus, isFirst: boolean, agg: Aggregate, isProtected: boolean): HeartbeatStatus {
  if (own === 'unstable' && agg.anyOk) return 'err';
  if (own === 'err' && isFirst && isProtected && agg.allErr) return 'unstable';
  return own;
}

export const PROTECTED_REASON = 'every peer of the upstream fails its probes; protected keeps the first one selectable as a last resort';

/**
 * Honest protection: when the upstream rules lift a peer's own err to unstable (`protected`),
 * say so, so status surfaces show the real probe result next to the selectable status.
 */
export function protectionOf(own: HeartbeatStatus, effective: HeartbeatStatus): PeerProtection | undefined {
  return own === 'err' && effective === 'unstable' ? { reason: PROTECTED_REASON } : undefined;
}
