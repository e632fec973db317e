/**
 * Heartbeat results -> recorded peer health, exactly as lua-resty-checkups writes them
 * (checkups-semantics.md §4.3, §4.4). Pure functions: the scheduler feeds them probe results.
 *
 * One record (§4.3): ok resets fail_num and sets ok at once; a non-ok result adds to fail_num
 * and changes the status only once fail_num >= sensibility. msg and extras are overwritten.
 *
 * One pass over an upstream (§4.4), servers in cluster order (a server listed twice counts
 * twice): once any server is ok, every later non-ok result is written as err and earlier pending
 * unstable ones too; if every result was err and `protected` is on, the FIRST server in order is
 * written as unstable (so it stays selectable).
 */
import type { PeerHealth } from '../core/model.ts';

export type ProbeStatus = 'ok' | 'unstable' | 'err';

export interface ProbeResult {
  readonly status: ProbeStatus;
  /** Error text; null on success. */
  readonly msg: string | null;
  /** Probe-specific fields for status output (redis_version, replication, ...). */
  readonly extras?: Readonly<Record<string, unknown>>;
}

/** update_peer_status (§4.3). `wallNow` stamps status changes. */
export function updatePeerStatus(old: PeerHealth | undefined, result: ProbeResult, sensibility: number, wallNow: number): PeerHealth {
  const prev: PeerHealth = old === undefined || old.status === 'unchecked' ? { status: 'ok', failNum: 0, lastModified: old?.lastModified ?? wallNow, msg: null } : old;
  let { status, failNum, lastModified } = prev;
  if (result.status === 'ok') {
    if (status !== 'ok') {
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
  return { status, failNum, lastModified, msg: result.msg, ...(extras !== undefined ? { extras } : {}) };
}

/** A write of one pass: the index into the pass's results, and what to record for it. */
export interface PassWrite {
  readonly index: number;
  readonly result: ProbeResult;
}

/** The per-upstream aggregation of one pass (§4.4), as the ordered list of writes. */
export function aggregatePass(results: readonly ProbeResult[], isProtected: boolean): PassWrite[] {
  const writes: PassWrite[] = [];
  let pending: PassWrite[] = [];
  let anyOk = false;
  let errors = 0;
  results.forEach((result, index) => {
    if (result.status === 'ok') {
      writes.push({ index, result });
      anyOk = true;
      for (const p of pending) writes.push(p.result.status === 'unstable' ? { index: p.index, result: { ...p.result, status: 'err' } } : p);
      pending = [];
    } else if (result.status === 'err') {
      errors++;
      (anyOk ? writes : pending).push({ index, result });
    } else if (anyOk) {
      writes.push({ index, result: { ...result, status: 'err' } });
    } else {
      pending.push({ index, result });
    }
  });
  if (pending.length > 0 && errors === results.length && isProtected) {
    pending[0] = { index: pending[0]!.index, result: { ...pending[0]!.result, status: 'unstable' } };
  }
  return writes.concat(pending);
}
