/**
 * The `verdict` entries of the change stream (docs/cluster.md): what a probe owner or the
 * fleet-wide passive window publishes, and the strict parser every instance reads them with.
 *
 * Fields besides the common `rev`, `kind` (= verdict), `at`, `skey`:
 * - `type`: `health` (heartbeat verdicts of an owner) or `passive` (max_fails exclusions);
 * - `by`: the instance whose script call published it (the probe owner; for passive, the
 *   instance whose reported failure reached max_fails, or that lifted the exclusion). Only that
 *   instance logs the transitions at info/warn; absent in entries of older versions;
 * - `peers`: a JSON array, one object per peer:
 *   health: {peer, status, raw, failNum, okStreak, msg, modified}; passive: {peer, until, failed}
 *   (`until` 0: the exclusion was lifted).
 */
import type { PassiveVerdict, PeerId } from '../core/model.ts';
import { HEARTBEAT_STATUSES } from '../core/model.ts';
import type { PeerProbeState } from '../health/state-machine.ts';

export type VerdictEntry = { readonly by: string | undefined } & (
  | { readonly type: 'health'; readonly peers: ReadonlyArray<{ readonly peer: PeerId; readonly state: PeerProbeState }> }
  | { readonly type: 'passive'; readonly peers: ReadonlyArray<{ readonly peer: PeerId; readonly verdict: PassiveVerdict | undefined }> }
);

const RAW = ['ok', 'unstable', 'err'] as const;

/** One heartbeat verdict as the publish script stores and concatenates it. */
export function healthVerdictJson(peer: PeerId, s: PeerProbeState): string {
  return JSON.stringify({ peer, status: s.health.status, raw: s.lastRaw, failNum: s.health.failNum, okStreak: s.okStreak, msg: s.health.msg, modified: s.health.lastModified });
}

type Parsed = { ok: true; entry: VerdictEntry } | { ok: false; error: string };

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a verdict entry's fields (all of them, as the stream holds them). Never throws. */
export function parseVerdictEntry(fields: ReadonlyMap<string, string>): Parsed {
  const type = fields.get('type');
  let peers: unknown;
  try {
    peers = JSON.parse(fields.get('peers') ?? '');
  } catch {
    return { ok: false, error: 'peers is not JSON' };
  }
  if (!Array.isArray(peers)) return { ok: false, error: 'peers is not a list' };
  const by = fields.get('by');
  if (type === 'health') {
    const out: Array<{ peer: PeerId; state: PeerProbeState }> = [];
    for (const [i, p] of peers.entries()) {
      if (!isObj(p) || typeof p['peer'] !== 'string') return { ok: false, error: `peers[${i}]: no peer` };
      const status = p['status'];
      const raw = p['raw'];
      if (!HEARTBEAT_STATUSES.includes(status as never) || !RAW.includes(raw as never)) return { ok: false, error: `peers[${i}]: bad status or raw result` };
      const num = (k: string) => (typeof p[k] === 'number' && Number.isFinite(p[k]) ? (p[k] as number) : 0);
      out.push({
        peer: p['peer'],
        state: {
          health: { status: status as PeerProbeState['health']['status'], failNum: num('failNum'), lastModified: num('modified'), msg: typeof p['msg'] === 'string' ? p['msg'] : null },
          lastRaw: raw as PeerProbeState['lastRaw'],
          okStreak: num('okStreak'),
        },
      });
    }
    return { ok: true, entry: { type, by, peers: out } };
  }
  if (type === 'passive') {
    const out: Array<{ peer: PeerId; verdict: PassiveVerdict | undefined }> = [];
    for (const [i, p] of peers.entries()) {
      if (!isObj(p) || typeof p['peer'] !== 'string' || typeof p['until'] !== 'number' || typeof p['failed'] !== 'number') return { ok: false, error: `peers[${i}]: needs peer, until, failed` };
      out.push({ peer: p['peer'], verdict: p['until'] === 0 ? undefined : { untilWall: p['until'], failedCount: p['failed'] } });
    }
    return { ok: true, entry: { type, by, peers: out } };
  }
  return { ok: false, error: `unknown verdict type ${JSON.stringify(String(type).slice(0, 40))}` };
}
