/**
 * lua-resty-checkups' get_status() JSON (docs/compat.md), keys included, so dashboards
 * and scripts written for the original keep working:
 *   "cls:<skey>": clusters with each cluster a list of peer objects (levels 1..n only -> list of
 *   lists; named clusters or gaps -> object keyed by cluster key), plus last_check_time,
 *   checkup_timer_alive, start_time, conf_hash, shd_config_version, config_timer.
 * Each peer also carries `passive_status` ("ok" / "err") and, while excluded, `passive_until`.
 */
import type { PeerId } from '../../core/model.ts';
import { peerId, probeStatusOf } from '../../core/model.ts';
import type { UpstreamEntry, UpstreamRegistry } from '../../core/registry.ts';
import type { HealthCheckerStatus } from '../../health/health-checker.ts';

/** "YYYY-MM-DD HH:MM:SS" in local time, as ngx.localtime() prints. */
export function localTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function peerObject(skey: string, entry: UpstreamEntry, host: string, port: number, server: { weight: number; maxFails: number; failTimeoutMs: number }): { [k: string]: Json } {
  const id: PeerId = peerId(host, port);
  const base: { [k: string]: Json } = { server: `${skey}:${host}:${port}` };
  if (!entry.heartbeat) base['status'] = 'unchecked';
  else {
    const h = entry.health(id);
    if (h === undefined) base['status'] = 'unchecked';
    else {
      base['status'] = h.status;
      base['fail_num'] = h.failNum;
      base['lastmodified'] = localTime(h.lastModified);
      base['msg'] = h.msg;
      for (const [k, v] of Object.entries(h.extras ?? {})) base[k] = v as Json;
      // Not in the original: the status stays `unstable` for a protected peer (its shape), and these say why.
      if (h.probeStatus !== undefined) base['probe_status'] = probeStatusOf(h);
      if (h.protection !== undefined) {
        base['protected'] = true;
        base['protected_reason'] = h.protection.reason;
      }
      if (h.dampedUntil !== undefined) {
        base['damped'] = true;
        base['damped_until'] = localTime(h.dampedUntil);
      }
      if (h.flaps !== undefined) base['flaps'] = h.flaps;
    }
  }
  // Not in the original (its passive state was per worker and never shown): the published verdict.
  const passive = entry.passive(id);
  base['passive_status'] = passive === undefined ? 'ok' : 'err';
  if (passive !== undefined) base['passive_until'] = localTime(passive.untilWall);
  base['weight'] = server.weight;
  base['max_fails'] = server.maxFails;
  base['fail_timeout'] = server.failTimeoutMs / 1000;
  return base;
}

export interface LuaStatusInput {
  readonly registry: UpstreamRegistry;
  readonly checker: HealthCheckerStatus | undefined;
  readonly startedAt: number;
  readonly checkupTimerOvertimeMs: number;
  readonly wallNow: number;
}

export function luaStatus(input: LuaStatusInput): { [k: string]: Json } {
  const { registry } = input;
  const out: { [k: string]: Json } = {};
  for (const skey of registry.skeys()) {
    const entry = registry.upstream(skey)!;
    const clusters = entry.spec.clusters;
    const lists = clusters.map((c) => c.servers.map((s) => peerObject(skey, entry, s.host, s.port, s)));
    const plainLevels = clusters.every((c, i) => c.key === i + 1);
    out[`cls:${skey}`] = plainLevels ? lists.map((l) => (l.length === 0 ? {} : l)) : Object.fromEntries(clusters.map((c, i) => [String(c.key), lists[i]!.length === 0 ? {} : lists[i]!]));
  }
  const last = input.checker?.lastCheckAt ?? null;
  out['last_check_time'] = last === null ? null : localTime(last);
  out['checkup_timer_alive'] = last !== null && input.wallNow - last <= input.checkupTimerOvertimeMs && (input.checker?.alive ?? false);
  out['start_time'] = localTime(input.startedAt);
  const confHash = registry.global.confHash;
  out['conf_hash'] = confHash;
  out['shd_config_version'] = registry.currentRevision;
  out['config_timer'] = { 'worker-0': 'alive' };
  return out;
}
