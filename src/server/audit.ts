/**
 * Builds the events of the trail (observability/events.ts) from what happened, and counts the
 * health transitions (checkups_health_transitions_total): one function per kind of fact, so
 * the same fact reads the same in the log, the ring, SSE, WatchEvents and the CLI.
 */
import type { PassiveChange } from '../balance/selection-engine.ts';
import { describeDiff, diffDetails, type UpstreamDiff } from '../core/diff.ts';
import type { HealthTransition } from '../health/health-checker.ts';
import type { Actor, EventLog } from '../observability/events.ts';
import { healthTransitions } from '../observability/metrics.ts';

/** A probe result moved a peer's heartbeat status (the first verdict after start included). */
export function recordActiveTransition(events: EventLog, t: HealthTransition): void {
  healthTransitions.inc({ cause: 'active', to: t.to });
  const last = t.health.recent?.at(-1);
  events.record({
    kind: 'health',
    level: t.to === 'err' ? 'warn' : 'info',
    skey: t.skey,
    peer: t.peer,
    message: `${t.skey} ${t.peer}: ${t.from} -> ${t.to}${t.health.msg !== null ? ` (${t.health.msg})` : ''}`,
    details: {
      cause: 'active',
      from: t.from,
      to: t.to,
      reason: t.health.msg,
      probe: {
        typ: t.typ,
        fail_num: t.health.failNum,
        ...(last?.latencyMs !== undefined ? { latency_ms: last.latencyMs } : {}),
        recent: (t.health.recent ?? []).map((r) => ({ at: r.at, status: r.status, msg: r.msg })),
      },
    },
  });
}

/** Request outcomes excluded a peer (max_fails within fail_timeout), or its window ended. */
export function recordPassiveTransition(events: EventLog, c: PassiveChange): void {
  healthTransitions.inc({ cause: 'passive', to: c.to });
  const reason = c.to === 'err' ? `${c.failedCount} failed requests within ${c.failTimeoutMs / 1000}s (max_fails ${c.maxFails})` : 'fail_timeout window ended';
  events.record({
    kind: 'health',
    level: c.to === 'err' ? 'warn' : 'info',
    skey: c.skey,
    peer: c.peer,
    message: `${c.skey} ${c.peer}: passive ${c.to === 'err' ? 'ok -> err' : 'err -> ok'} (${reason})`,
    details: { cause: 'passive', from: c.to === 'err' ? 'ok' : 'err', to: c.to, reason, passive: { failed_count: c.failedCount, max_fails: c.maxFails, fail_timeout_ms: c.failTimeoutMs } },
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

/** A call was refused for lack of the right credential. */
export function recordRefusal(events: EventLog, r: { method: string; actor: Actor; reason: string }): void {
  events.record({
    kind: 'auth',
    level: 'warn',
    message: `refused ${r.method} from ${actorText(r.actor)}: ${r.reason}`,
    details: { method: r.method, reason: r.reason, actor: actorDetails(r.actor) },
  });
}
