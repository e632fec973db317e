import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerHealth } from '../../src/core/model.ts';
import { applyResult, effectiveStatus, updatePeerStatus, type PeerProbeState, type ProbeResult } from '../../src/health/state-machine.ts';

const ok: ProbeResult = { status: 'ok', msg: null };
const err: ProbeResult = { status: 'err', msg: 'connection refused' };
const unstable: ProbeResult = { status: 'unstable', msg: 'master link status: down' };

describe('update_peer_status (docs/compat.md)', () => {
  it('with sensibility 2 the first failure keeps ok with fail_num 1 (sensibility.t)', () => {
    let h = updatePeerStatus(undefined, err, 2, 100);
    assert.deepEqual({ ...h, recent: undefined }, { status: 'ok', failNum: 1, lastModified: 100, msg: 'connection refused', recent: undefined });
    h = updatePeerStatus(h, err, 2, 200);
    assert.deepEqual({ ...h, recent: undefined }, { status: 'err', failNum: 2, lastModified: 200, msg: 'connection refused', recent: undefined });
    h = updatePeerStatus(h, err, 2, 300);
    assert.equal(h.lastModified, 200, 'no change, no new timestamp');
    assert.equal(h.failNum, 3);
  });

  it('recovery is immediate and clears msg', () => {
    const down: PeerHealth = { status: 'err', failNum: 5, lastModified: 1, msg: 'timeout' };
    assert.deepEqual(updatePeerStatus(down, ok, 3, 50), { status: 'ok', failNum: 0, lastModified: 50, msg: null, recent: [{ at: 50, status: 'ok', msg: null }] });
  });

  it('a not-yet-probed (unchecked) record starts as ok', () => {
    const fresh: PeerHealth = { status: 'unchecked', failNum: 0, lastModified: 7, msg: null };
    assert.deepEqual({ ...updatePeerStatus(fresh, ok, 1, 9), recent: [] }, { status: 'ok', failNum: 0, lastModified: 7, msg: null, recent: [] });
    assert.equal(updatePeerStatus(fresh, unstable, 1, 9).status, 'unstable');
  });

  it('keeps the last five results with their times', () => {
    let h: PeerHealth | undefined;
    for (let t = 1; t <= 7; t++) h = updatePeerStatus(h, t % 2 === 0 ? ok : err, 1, t);
    assert.deepEqual(
      h!.recent!.map((r) => [r.at, r.status]),
      [
        [3, 'err'],
        [4, 'ok'],
        [5, 'err'],
        [6, 'ok'],
        [7, 'err'],
      ],
    );
  });

  it('keeps probe extras (redis_version, replication)', () => {
    const h = updatePeerStatus(undefined, { status: 'ok', msg: null, extras: { redis_version: '7.0.15' } }, 1, 1);
    assert.deepEqual(h.extras, { redis_version: '7.0.15' });
  });
});

/** Feeds passes result by result (as independent probes would), returning the statuses shown after the last. */
function runPasses(passes: ProbeResult[][], isProtected: boolean, sensibility = 1, rise = 1): string[] {
  const states: (PeerProbeState | undefined)[] = [];
  for (const results of passes) results.forEach((r, i) => (states[i] = applyResult(states[i], r, { sensibility, rise }, 0)));
  const agg = { anyOk: states.some((s) => s?.lastRaw === 'ok'), allErr: states.every((s) => s?.lastRaw === 'err') };
  return states.map((s, i) => effectiveStatus(s!.health.status, i === 0, agg, isProtected));
}

describe('per-upstream aggregation and protected (§4.4)', () => {
  it('the verified 5-server example', () => {
    const all = [err, err, err, err, err];
    assert.deepEqual(runPasses([all], true), ['unstable', 'err', 'err', 'err', 'err']);
    assert.deepEqual(runPasses([all, [err, ok, err, err, err]], true), ['err', 'ok', 'err', 'err', 'err']);
    assert.deepEqual(runPasses([all, [err, ok, err, err, err], all], true), ['unstable', 'err', 'err', 'err', 'err']);
  });

  it('protected off: every server becomes err (unprotected.t)', () => {
    assert.deepEqual(runPasses([[err, err, err]], false), ['err', 'err', 'err']);
  });

  it('unstable is kept only while no server is ok', () => {
    assert.deepEqual(runPasses([[unstable, err]], true), ['unstable', 'err']);
    assert.deepEqual(runPasses([[unstable, ok]], true), ['err', 'ok']);
    assert.deepEqual(runPasses([[ok, unstable]], true), ['ok', 'err']);
  });

  it('protected needs every result to be err: an unstable one disables it', () => {
    assert.deepEqual(runPasses([[err, unstable]], true), ['err', 'unstable']);
  });

  it('sensibility applies to the forced unstable too', () => {
    assert.deepEqual(runPasses([[err, err]], true, 2), ['ok', 'ok']);
    assert.deepEqual(runPasses([[err, err], [err, err]], true, 2), ['unstable', 'err']);
  });

  it('rise: a failing peer needs that many consecutive oks to be ok again', () => {
    assert.deepEqual(runPasses([[err, ok], [ok, ok]], true, 1, 2), ['err', 'ok']);
    assert.deepEqual(runPasses([[err, ok], [ok, ok], [ok, ok]], true, 1, 2), ['ok', 'ok']);
    assert.deepEqual(runPasses([[err, ok], [ok, ok], [err, ok], [ok, ok]], true, 1, 2), ['err', 'ok'], 'a failure restarts the count');
    assert.deepEqual(runPasses([[ok, ok]], true, 1, 3), ['ok', 'ok'], 'a fresh peer is ok at once');
  });
});
