/**
 * Config reload (SIGHUP). The whole file is read and validated first; a file with any error
 * changes nothing (its errors are logged and recorded as a `config` event). A valid file is
 * applied at once, in one turn of the event loop, so no reader sees half of it: upstreams
 * created, updated (only those that differ) or deleted, each logged with what changed.
 *
 * Upstreams written or deleted through the admin API are kept as the admin left them: they
 * shadow the file (docs/durability.md), and a warning names each one at start and on every
 * reload. `global:` and `server:` settings apply at the next start; a reload that changes them
 * says so.
 */
import type { Logger } from 'pino';
import { loadConfigFile } from '../config/load.ts';
import { describeDiff, diffUpstream } from '../core/diff.ts';
import type { CheckupsConfig } from '../core/model.ts';
import type { UpstreamRegistry } from '../core/registry.ts';
import type { EventLog } from '../observability/events.ts';
import { configReloads } from '../observability/metrics.ts';

export interface ReloadChange {
  readonly skey: string;
  readonly op: 'created' | 'updated' | 'deleted';
  readonly description: string;
}

export interface ReloadResult {
  readonly ok: boolean;
  /** Why the file was refused (every problem with its path); empty when applied. */
  readonly errors: readonly string[];
  readonly changes: readonly ReloadChange[];
  /** Upstreams whose admin-written version shadows the file. */
  readonly shadowed: readonly string[];
  /** Settings that changed in the file but apply only at the next start. */
  readonly restartNeeded: readonly string[];
}

export interface Shadow {
  readonly skey: string;
  readonly message: string;
}

/** Every upstream of the file that the admin API wrote or deleted, with a warning line. */
export function shadowedUpstreams(file: CheckupsConfig, adminWritten: (skey: string) => boolean): Shadow[] {
  return [...file.upstreams.keys()]
    .filter((skey) => adminWritten(skey))
    .map((skey) => ({
      skey,
      message: `upstream ${skey}: the version written through the admin API (kept in the data dir) shadows the config file; file changes to it are ignored until it is deleted through the admin API or the data dir is reset`,
    }));
}

export interface ReloaderDeps {
  readonly configFile: string;
  readonly registry: UpstreamRegistry;
  /** True for upstreams the admin API wrote or deleted (the store says so). */
  readonly adminWritten: (skey: string) => boolean;
  readonly log: Pick<Logger, 'info' | 'warn' | 'error'>;
  readonly events: EventLog;
  /**
   * Why this server does not reload its file at all (cluster mode: the config-file upstreams
   * live in the shared store and are seeded when an instance starts), or undefined.
   */
  readonly refuse?: string;
}

export class ConfigReloader {
  constructor(
    private readonly deps: ReloaderDeps,
    /** The file as last applied. */
    private current: CheckupsConfig,
  ) {}

  reload(): ReloadResult {
    const { configFile, registry, adminWritten, log, events } = this.deps;
    if (this.deps.refuse !== undefined) {
      configReloads.inc({ result: 'rejected' });
      log.error({ module: 'config', file: configFile }, `config reload refused, nothing changed: ${this.deps.refuse}`);
      events.record({ kind: 'config', level: 'warn', message: `reload of ${configFile} refused, nothing changed: ${this.deps.refuse}`, details: { action: 'reload', result: 'rejected', file: configFile, errors: [this.deps.refuse] } });
      return { ok: false, errors: [this.deps.refuse], changes: [], shadowed: [], restartNeeded: [] };
    }
    let next: CheckupsConfig;
    try {
      next = loadConfigFile(configFile);
    } catch (err) {
      const errors = (err instanceof Error ? err.message : String(err)).split('\n').map((l) => l.trim()).filter((l) => l !== '');
      configReloads.inc({ result: 'rejected' });
      log.error({ module: 'config', file: configFile, errors }, `config reload refused, nothing changed: ${errors[0] ?? ''}`);
      events.record({ kind: 'config', level: 'warn', message: `reload of ${configFile} refused, nothing changed (${errors.length} problem${errors.length === 1 ? '' : 's'})`, details: { action: 'reload', result: 'rejected', file: configFile, errors } });
      return { ok: false, errors, changes: [], shadowed: [], restartNeeded: [] };
    }

    const restartNeeded: string[] = [];
    if (JSON.stringify(next.global) !== JSON.stringify(this.current.global)) restartNeeded.push('global');
    for (const key of new Set([...Object.keys(next.server), ...Object.keys(this.current.server)])) {
      const k = key as keyof CheckupsConfig['server'];
      if (JSON.stringify(next.server[k]) !== JSON.stringify(this.current.server[k])) restartNeeded.push(`server.${key}`);
    }

    // Plan everything first, then apply in one go.
    const plan: Array<{ change: ReloadChange; apply: () => void }> = [];
    for (const [skey, spec] of next.upstreams) {
      if (adminWritten(skey)) continue;
      const diff = diffUpstream(registry.upstream(skey)?.spec, spec);
      if (diff.op === 'unchanged') continue;
      plan.push({ change: { skey, op: diff.op === 'created' ? 'created' : 'updated', description: describeDiff(diff) }, apply: () => registry.put(spec) });
    }
    for (const skey of this.current.upstreams.keys()) {
      if (next.upstreams.has(skey) || adminWritten(skey) || registry.upstream(skey) === undefined) continue;
      plan.push({ change: { skey, op: 'deleted', description: 'deleted: no longer in the config file' }, apply: () => registry.delete(skey) });
    }
    for (const p of plan) p.apply();
    this.current = next;

    configReloads.inc({ result: 'applied' });
    for (const { change } of plan) log.info({ module: 'config', skey: change.skey, op: change.op }, `reload: ${change.skey} ${change.description}`);
    const shadows = shadowedUpstreams(next, adminWritten);
    for (const s of shadows) log.warn({ module: 'config', skey: s.skey }, s.message);
    if (restartNeeded.length > 0) log.warn({ module: 'config', settings: restartNeeded }, `reload: ${restartNeeded.join(', ')} changed; these apply at the next start`);
    const changes = plan.map((p) => p.change);
    events.record({
      kind: 'config',
      message: `reloaded ${configFile}: ${changes.length === 0 ? 'no upstream changed' : changes.map((c) => `${c.skey} ${c.op}`).join(', ')}${shadows.length > 0 ? `; shadowed by admin changes: ${shadows.map((s) => s.skey).join(', ')}` : ''}`,
      details: { action: 'reload', result: 'applied', file: configFile, changes: changes.map((c) => ({ skey: c.skey, op: c.op, change: c.description })), shadowed: shadows.map((s) => s.skey), restart_needed: restartNeeded },
    });
    return { ok: true, errors: [], changes, shadowed: shadows.map((s) => s.skey), restartNeeded };
  }
}
