/**
 * What changed between two versions of an upstream, for the audit trail and the reload log:
 * servers added, removed or changed per cluster, and the names of options that changed.
 * Option values are never included (mysql.pass and redis.password live there): a diff names
 * what changed, not what it changed to, except for server fields (weight, max_fails,
 * fail_timeout, down), which carry no secrets.
 */
import type { ClusterSpec, ServerSpec, UpstreamSpec } from './model.ts';
import { peerId } from './model.ts';

export interface ServerChange {
  readonly cluster: string;
  readonly peer: string;
  /** Field -> [before, after]. */
  readonly fields: Readonly<Record<string, readonly [unknown, unknown]>>;
}

export interface UpstreamDiff {
  readonly op: 'created' | 'deleted' | 'updated' | 'unchanged';
  /** "cluster/host:port" of servers added and removed. */
  readonly serversAdded: readonly string[];
  readonly serversRemoved: readonly string[];
  readonly serversChanged: readonly ServerChange[];
  /** Option names (typ, timeout, http, redis, ...) whose value changed; values left out on purpose. */
  readonly optionsChanged: readonly string[];
  /** Peers whose admin `down` flag flipped somewhere (host:port -> now down). */
  readonly downChanged: ReadonlyMap<string, boolean>;
}

const SERVER_FIELDS = ['weight', 'maxFails', 'failTimeoutMs', 'down'] as const;

function serversOf(spec: UpstreamSpec | undefined): Map<string, ServerSpec> {
  const out = new Map<string, ServerSpec>();
  for (const c of spec?.clusters ?? []) for (const s of c.servers) out.set(`${String(c.key)}/${peerId(s.host, s.port)}`, s);
  return out;
}

/** Selectable-by-admin state of each peer: down only when every listing is down. */
function downOf(spec: UpstreamSpec | undefined): Map<string, boolean> {
  const out = new Map<string, boolean>();
  for (const c of spec?.clusters ?? []) for (const s of c.servers) out.set(peerId(s.host, s.port), (out.get(peerId(s.host, s.port)) ?? true) && s.down);
  return out;
}

function optionsOf(spec: UpstreamSpec): Record<string, string> {
  const { clusters, skey: _skey, ...options } = spec;
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(options)) out[k] = JSON.stringify(v);
  // Cluster-level settings other than servers count as options of that cluster.
  for (const c of clusters as readonly ClusterSpec[]) {
    const { servers: _servers, key, ...rest } = c;
    out[`cluster ${String(key)}`] = JSON.stringify(rest);
  }
  return out;
}

export function diffUpstream(before: UpstreamSpec | undefined, after: UpstreamSpec | undefined): UpstreamDiff {
  const b = serversOf(before);
  const a = serversOf(after);
  const serversAdded = [...a.keys()].filter((k) => !b.has(k));
  const serversRemoved = [...b.keys()].filter((k) => !a.has(k));
  const serversChanged: ServerChange[] = [];
  for (const [k, s] of a) {
    const old = b.get(k);
    if (old === undefined) continue;
    const fields: Record<string, readonly [unknown, unknown]> = {};
    for (const f of SERVER_FIELDS) if (old[f] !== s[f]) fields[f] = [old[f], s[f]];
    if (Object.keys(fields).length > 0) {
      const slash = k.indexOf('/');
      serversChanged.push({ cluster: k.slice(0, slash), peer: k.slice(slash + 1), fields });
    }
  }
  const optionsChanged: string[] = [];
  if (before !== undefined && after !== undefined) {
    const ob = optionsOf(before);
    const oa = optionsOf(after);
    for (const k of new Set([...Object.keys(ob), ...Object.keys(oa)])) if (ob[k] !== oa[k]) optionsChanged.push(k);
  }
  const db = downOf(before);
  const downChanged = new Map<string, boolean>();
  for (const [id, down] of downOf(after)) if (db.has(id) && db.get(id) !== down) downChanged.set(id, down);
  const op =
    before === undefined ? (after === undefined ? 'unchanged' : 'created')
    : after === undefined ? 'deleted'
    : serversAdded.length + serversRemoved.length + serversChanged.length + optionsChanged.length === 0 ? 'unchanged'
    : 'updated';
  return { op, serversAdded, serversRemoved, serversChanged, optionsChanged, downChanged };
}

/** One line: "updated: +1/127.0.0.1:81, -1/127.0.0.1:80, 1/127.0.0.1:82 weight 1->3, options timeout". */
export function describeDiff(d: UpstreamDiff): string {
  const parts: string[] = [];
  if (d.serversAdded.length > 0) parts.push(d.serversAdded.map((s) => `+${s}`).join(' '));
  if (d.serversRemoved.length > 0) parts.push(d.serversRemoved.map((s) => `-${s}`).join(' '));
  for (const c of d.serversChanged) {
    parts.push(`${c.cluster}/${c.peer} ${Object.entries(c.fields).map(([f, [x, y]]) => `${f} ${String(x)}->${String(y)}`).join(' ')}`);
  }
  if (d.optionsChanged.length > 0) parts.push(`options ${d.optionsChanged.join(' ')}`);
  return parts.length === 0 ? d.op : `${d.op}: ${parts.join(', ')}`;
}

/** The diff as JSON details (for events). */
export function diffDetails(d: UpstreamDiff): Record<string, unknown> {
  return {
    op: d.op,
    servers_added: d.serversAdded,
    servers_removed: d.serversRemoved,
    servers_changed: d.serversChanged.map((c) => ({ cluster: c.cluster, peer: c.peer, fields: Object.fromEntries(Object.entries(c.fields).map(([f, [x, y]]) => [f, { from: x, to: y }])) })),
    options_changed: d.optionsChanged,
  };
}
