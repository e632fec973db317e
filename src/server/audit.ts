/**
 * Builds the events of the trail (observability/events.ts) from what happened, and counts the
 * health transitions (checkups_health_transitions_total): one function per kind of fact, so
 * the same fact reads the same in the log, the ring, SSE, WatchEvents and the CLI.
 */
import type { UpstreamRegistry } from '../core/registry.ts';
import { describeDiff, diffDetails, type UpstreamDiff } from '../core/diff.ts';
import type { HealthTransition } from '../health/health-checker.ts';
import type { Actor, EventLog } from '../observability/events.ts';
import { healthTransitions } from '../observability/metrics.ts';

/** What protection or flap damping did to a transition, for the event's one-line message. */
function transitionNote(h: HealthTransition['health']): string {
  if (h.dampedUntil !== undefined) return `; damped: flapping (${h.flaps ?? 0} changes), held err until ${new Date(h.dampedUntil).toISOString()}`;
  if (h.protection !== undefined) return `; protected (probe ${h.probeStatus ?? 'err'}): ${h.protection.reason}`;
  return '';
}

/**
 * The pino level of a health transition: warn into err, else info; debug when another instance
 * of the cluster published the verdict (it logs the transition at warn or info itself), so a
 * log aggregator shows each fleet-wide transition once. Every instance still records the event.
 */
function transitionLevel(to: string, relayed: boolean): 'debug' | 'info' | 'warn' {
  if (relayed) return 'debug';
  return to === 'err' ? 'warn' : 'info';
}

/** A probe result moved a peer's heartbeat status (the first verdict after start included). */
export function recordActiveTransition(events: EventLog, t: HealthTransition): void {
  healthTransitions.inc({ cause: 'active', to: t.to });
  const last = t.health.recent?.at(-1);
  events.record({
    kind: 'health',
    level: transitionLevel(t.to, t.relayed),
    skey: t.skey,
    peer: t.peer,
    message: `${t.skey} ${t.peer}: ${t.from} -> ${t.to}${t.health.msg !== null ? ` (${t.health.msg})` : ''}${transitionNote(t.health)}`,
    details: {
      cause: 'active',
      from: t.from,
      to: t.to,
      reason: t.health.msg,
      ...(t.health.probeStatus !== undefined ? { probe_status: t.health.probeStatus } : {}),
      ...(t.health.protection !== undefined ? { protected: true, protected_reason: t.health.protection.reason } : {}),
      ...(t.health.dampedUntil !== undefined ? { damped: true, damped_until_ms: t.health.dampedUntil, flaps: t.health.flaps ?? 0 } : {}),
      probe: {
        typ: t.typ,
        fail_num: t.health.failNum,
        ...(last?.latencyMs !== undefined ? { latency_ms: last.latencyMs } : {}),
        recent: (t.health.recent ?? []).map((r) => ({ at: r.at, status: r.status, msg: r.msg })),
      },
    },
  });
}

/**
 * A passive exclusion of `peer` was published (request outcomes: max_fails within
 * fail_timeout) or lifted (its window ended), as the registry now says. `relayed`: another
 * instance of the cluster published it (see transitionLevel).
 */
export function recordPassiveTransition(events: EventLog, registry: UpstreamRegistry, skey: string, peer: string, relayed: boolean): void {
  const entry = registry.upstream(skey);
  if (entry === undefined) return;
  const verdict = entry.passive(peer);
  const server = entry.server(peer);
  const to = verdict === undefined ? 'ok' : 'err';
  healthTransitions.inc({ cause: 'passive', to });
  const reason =
    verdict === undefined
      ? 'fail_timeout window ended'
      : `${verdict.failedCount} failed requests within fail_timeout ${(server?.failTimeoutMs ?? 0) / 1000}s (max_fails ${server?.maxFails ?? '?'})`;
  events.record({
    kind: 'health',
    level: transitionLevel(to, relayed),
    skey,
    peer,
    message: `${skey} ${peer}: passive ${verdict === undefined ? 'err -> ok' : 'ok -> err'} (${reason})`,
    details: {
      cause: 'passive',
      from: verdict === undefined ? 'err' : 'ok',
      to,
      reason,
      passive: verdict === undefined ? {} : { failed_count: verdict.failedCount, until: verdict.untilWall, max_fails: server?.maxFails ?? null, fail_timeout_ms: server?.failTimeoutMs ?? null },
    },
  });
}

function actorDetails(actor: Actor): Record<string, string> {
  return { name: actor.name, address: actor.address, ...(actor.certSubject !== undefined ? { cert_subject: actor.certSubject } : {}) };
}

function actorText(actor: Actor): string {
  return `${actor.name}${actor.certSubject !== undefined ? ` (${actor.certSubject})` : ''} from ${actor.address}`;
}

/** An admin write changed an upstream; operator up/down also counts as a health transition. */
export function recordAdminChange(events: EventLog, a: { method: string; skey: string; version: number; diff: UpstreamDiff; actor: Actor }): void {
  events.record({
    kind: 'admin',
    skey: a.skey,
    message: `${a.method} ${a.skey} by ${actorText(a.actor)}: ${describeDiff(a.diff)} (version ${a.version})`,
    details: { method: a.method, version: a.version, change: diffDetails(a.diff), actor: actorDetails(a.actor) },
  });
  for (const [peer, down] of a.diff.downChanged) {
    healthTransitions.inc({ cause: 'admin', to: down ? 'down' : 'up' });
    events.record({
      kind: 'health',
      skey: a.skey,
      peer,
      message: `${a.skey} ${peer}: ${down ? 'taken down' : 'put back up'} by ${actorText(a.actor)}`,
      details: { cause: 'admin', from: down ? 'up' : 'down', to: down ? 'down' : 'up', reason: `${a.method} by ${a.actor.name}`, actor: actorDetails(a.actor) },
    });
  }
}

/**
 * A call was refused for lack of the right credential. `unreported`: refusals since the
 * previous event that were only counted (auth.ts bounds how often this is called).
 */
export function recordRefusal(events: EventLog, r: { method: string; actor: Actor; reason: string; unreported?: number }): void {
  const more = r.unreported !== undefined && r.unreported > 0 ? ` (and ${r.unreported} refusals since the previous event, not recorded one by one)` : '';
  events.record({
    kind: 'auth',
    level: 'warn',
    message: `refused ${r.method} from ${actorText(r.actor)}: ${r.reason}${more}`,
    details: { method: r.method, reason: r.reason, actor: actorDetails(r.actor), ...(more !== '' ? { unreported: r.unreported } : {}) },
  });
}
