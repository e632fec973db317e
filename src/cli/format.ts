/**
 * What the CLI prints for people: aligned tables and short status words, built from the same
 * vocabulary objects (src/wire/report.ts) that `--json` prints as they are.
 */
import { createTwoFilesPatch } from 'diff';
import { stringify as toYaml } from 'yaml';
import type { SelectedPeer } from '../balance/peer.ts';
import type { ServersReport, UpstreamDocument } from '../client/admin.ts';
import { peerId } from '../core/model.ts';
import type { CheckerReport, ClusterReport, EventReport, PeerReport, StatusReport, UpstreamSummaryReport } from '../wire/report.ts';

/** Rows of cells -> lines with every column but the last padded to its widest cell. */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

const PEER_HEADER = ['CLUSTER', 'PEER', 'WEIGHT', 'STATUS', 'FAILS', 'PASSIVE', 'DOWN', 'MSG'];

function peerRows(clusters: readonly ClusterReport[]): string[][] {
  const rows: string[][] = [];
  for (const c of clusters) {
    for (const p of c.peers) {
      rows.push([
        c.key,
        peerId(p.host, p.port),
        String(p.weight),
        statusWords(p),
        String(p.fail_num),
        p.passive === undefined ? '-' : `${p.passive.status} ${p.passive.failed_count}`,
        p.down ? 'down' : '-',
        p.msg ?? '',
      ]);
    }
  }
  return rows;
}

/** `unstable (protected, probe err)`, `err (damped until 12:00:05, probe ok)`: never a bare healthy word for a failing peer. */
function statusWords(p: PeerReport): string {
  const notes: string[] = [];
  if (p.protected === true) notes.push('protected');
  if ((p.damped_until_ms ?? 0) > 0) notes.push(`damped until ${new Date(p.damped_until_ms!).toLocaleTimeString('en-GB')}`);
  if (p.probe_status !== undefined && p.probe_status !== p.status) notes.push(`probe ${p.probe_status}`);
  return notes.length === 0 ? p.status : `${p.status} (${notes.join(', ')})`;
}

function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function formatChecker(c: CheckerReport | null, now: number): string {
  if (c === null) return 'checker: no status';
  const last = c.last_check_time_ms === 0 ? 'no check yet' : `last check ${new Date(c.last_check_time_ms).toISOString()} (${ago(c.last_check_time_ms, now)})`;
  const hung = c.hung > 0 ? `, ${c.hung} hung` : '';
  return `checker: ${c.alive ? 'alive' : 'NOT alive'}, ${c.targets} targets, ${c.running} running${hung}, ${last}, lateness p50 ${c.lateness_p50_ms.toFixed(1)} ms p99 ${c.lateness_p99_ms.toFixed(1)} ms`;
}

export function formatStatus(res: StatusReport, now: number = Date.now()): string {
  const out: string[] = [];
  for (const u of res.upstreams) {
    out.push(`${u.skey}  v${u.version}  heartbeat ${u.heartbeat ? 'on' : 'off'}`);
    const rows = peerRows(u.clusters);
    out.push(rows.length === 0 ? '  (no servers)' : table([PEER_HEADER, ...rows], '  '));
    out.push('');
  }
  if (res.upstreams.length === 0) out.push('(no upstreams)', '');
  out.push(formatChecker(res.checker, now));
  return out.join('\n');
}

export function formatServers(res: ServersReport): string {
  const rows = peerRows(res.clusters);
  return `${res.skey}  v${res.version}\n${rows.length === 0 ? '  (no servers)' : table([PEER_HEADER, ...rows], '  ')}`;
}

export function formatList(upstreams: readonly UpstreamSummaryReport[]): string {
  if (upstreams.length === 0) return '(no upstreams)';
  return table([['SKEY', 'VERSION', 'TYP', 'MODE', 'CLUSTERS', 'SERVERS'], ...upstreams.map((u) => [u.skey, String(u.version), u.typ, u.mode, String(u.clusters), String(u.servers)])]);
}

export function formatSelected(p: SelectedPeer): string {
  return `${peerId(p.host, p.port)}  cluster ${p.cluster}  weight ${p.weight}  ${p.status}`;
}

function yamlOf(doc: unknown): string {
  // One line per value: a probe query stays "GET ...\r\nHost: ...\r\n\r\n" as people write it,
  // not folded at every \n (which also made --dry-run diffs show stray blank lines).
  return toYaml(doc, { lineWidth: 0, doubleQuotedMinMultiLineLength: Number.POSITIVE_INFINITY });
}

/** The upstream document as YAML, ready to be edited and given back to `update -f`. */
export function formatUpstreamYaml(doc: UpstreamDocument): string {
  return `# upstream ${doc.skey}, version ${doc.version}\n${yamlOf(doc.upstream)}`.trimEnd();
}

/** A unified diff of two upstream documents (null = absent), as `--dry-run` shows it. */
export function formatDiff(skey: string, version: number | null, before: unknown, after: unknown): string {
  const a = before === null ? '' : yamlOf(before);
  const b = after === null ? '' : yamlOf(after);
  if (a === b) return `${skey}: no change`;
  const label = version === null ? `${skey} (absent)` : `${skey} (version ${version})`;
  return createTwoFilesPatch(label, after === null ? `${skey} (deleted)` : `${skey} (after)`, a, b, undefined, undefined, { context: 3 })
    .replace(/^=+\n/m, '')
    .trimEnd();
}

/** An event in the same JSON form as `GET /events` sends it. */
/** `2026-01-02T03:04:05.678Z health  api 10.0.0.1:80: ok -> err (connection refused)` */
export function formatEvent(e: EventReport): string {
  return `${new Date(e.at).toISOString()} ${e.kind.padEnd(6)} ${e.message}`;
}
