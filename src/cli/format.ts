/**
 * What the CLI prints. Human output: aligned tables, short status words. `--json`: the response
 * in proto3 JSON shape (lowerCamelCase fields, enum names as in the proto, Structs as plain
 * objects), except that 64-bit integers are plain numbers; field order is the proto's.
 */
import { stringify as toYaml } from 'yaml';
import { peerId } from '../core/model.ts';
import type { CheckerStatus__Output } from '../generated/checkups/v1/CheckerStatus.ts';
import type { Event__Output } from '../generated/checkups/v1/Event.ts';
import type { ClusterStatus__Output } from '../generated/checkups/v1/ClusterStatus.ts';
import type { GetServersResponse__Output } from '../generated/checkups/v1/GetServersResponse.ts';
import type { GetStatusResponse__Output } from '../generated/checkups/v1/GetStatusResponse.ts';
import type { GetUpstreamResponse__Output } from '../generated/checkups/v1/GetUpstreamResponse.ts';
import type { ListUpstreamsResponse__Output } from '../generated/checkups/v1/ListUpstreamsResponse.ts';
import type { PeerHealth__Output } from '../generated/checkups/v1/PeerHealth.ts';
import type { PeerStatus__Output } from '../generated/checkups/v1/PeerStatus.ts';
import type { SelectedPeer__Output } from '../generated/checkups/v1/SelectedPeer.ts';
import { structToJson, type Json } from '../wire/struct.ts';

/** Rows of cells -> lines with every column but the last padded to its widest cell. */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map((row) => indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ').trimEnd())
    .join('\n');
}

/** host:port, with brackets around IPv6 literals. */
/** HEALTH_STATUS_OK -> ok, PASSIVE_STATUS_ERR -> err. */
export function shortStatus(status: string): string {
  return status.replace(/^(HEALTH|PASSIVE)_STATUS_/, '').toLowerCase();
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

const PEER_HEADER = ['CLUSTER', 'PEER', 'WEIGHT', 'STATUS', 'FAILS', 'PASSIVE', 'DOWN', 'MSG'];

function peerRows(clusters: readonly ClusterStatus__Output[]): string[][] {
  const rows: string[][] = [];
  for (const c of clusters) {
    for (const p of c.peers) {
      const s = p.server;
      const h = p.health;
      rows.push([
        c.key,
        s === null ? '?' : peerId(s.host, s.port),
        String(s?.weight ?? ''),
        statusWords(h),
        String(h?.failNum ?? 0),
        `${shortStatus(p.passiveStatus)} ${p.passiveFailedCount}`,
        s?.down === true ? 'down' : '-',
        h?.msg ?? '',
      ]);
    }
  }
  return rows;
}

/** `unstable (protected, probe err)`, `err (damped until 12:00:05, probe ok)`: never a bare healthy word for a failing peer. */
function statusWords(h: ClusterStatus__Output['peers'][number]['health']): string {
  const status = shortStatus(h?.status ?? 'HEALTH_STATUS_UNSPECIFIED');
  if (h === null) return status;
  const notes: string[] = [];
  if (h.protected) notes.push('protected');
  if (Number(h.dampedUntilMs) > 0) notes.push(`damped until ${new Date(Number(h.dampedUntilMs)).toLocaleTimeString('en-GB')}`);
  const probe = shortStatus(h.probeStatus);
  if (probe !== 'unspecified' && probe !== status) notes.push(`probe ${probe}`);
  return notes.length === 0 ? status : `${status} (${notes.join(', ')})`;
}

function ago(ms: number, now: number): string {
  const s = Math.max(0, Math.round((now - ms) / 1000));
  return s < 120 ? `${s}s ago` : s < 7200 ? `${Math.round(s / 60)}m ago` : `${Math.round(s / 3600)}h ago`;
}

export function formatChecker(c: CheckerStatus__Output | null, now: number): string {
  if (c === null) return 'checker: no status';
  const last = c.lastCheckTimeMs === 0 ? 'no check yet' : `last check ${new Date(c.lastCheckTimeMs).toISOString()} (${ago(c.lastCheckTimeMs, now)})`;
  const hung = c.hung > 0 ? `, ${c.hung} hung` : '';
  return `checker: ${c.alive ? 'alive' : 'NOT alive'}, ${c.targets} targets, ${c.running} running${hung}, ${last}, lateness p50 ${c.latenessP50Ms.toFixed(1)} ms p99 ${c.latenessP99Ms.toFixed(1)} ms`;
}

export function formatStatus(res: GetStatusResponse__Output, now: number = Date.now()): string {
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

export function formatServers(skey: string, res: GetServersResponse__Output): string {
  const rows = peerRows(res.clusters);
  return `${skey}  v${res.version}\n${rows.length === 0 ? '  (no servers)' : table([PEER_HEADER, ...rows], '  ')}`;
}

export function formatList(res: ListUpstreamsResponse__Output): string {
  if (res.upstreams.length === 0) return '(no upstreams)';
  return table([
    ['SKEY', 'VERSION', 'TYP', 'MODE', 'CLUSTERS', 'SERVERS'],
    ...res.upstreams.map((u) => [u.skey, String(u.version), u.typ, u.mode, String(u.clusters), String(u.servers)]),
  ]);
}

export function formatSelected(p: SelectedPeer__Output): string {
  return `${peerId(p.host, p.port)}  cluster ${p.cluster}  weight ${p.weight}  ${shortStatus(p.status)}`;
}

/** The upstream document as YAML, ready to be edited and given back to `update -f`. */
export function formatUpstreamYaml(skey: string, res: GetUpstreamResponse__Output): string {
  return `# upstream ${skey}, version ${res.version}\n${toYaml(structToJson(res.upstream), { lineWidth: 0 })}`.trimEnd();
}

// --json shapes: Structs flattened, everything else as decoded.

function healthJson(h: PeerHealth__Output | null): Json {
  if (h === null) return null;
  const { extras, ...rest } = h;
  return { ...rest, ...(extras !== null ? { extras: structToJson(extras) } : {}) };
}

function peerStatusJson(p: PeerStatus__Output): Json {
  return { server: p.server === null ? null : { ...p.server }, health: healthJson(p.health), passiveStatus: p.passiveStatus, passiveFailedCount: p.passiveFailedCount };
}

function clustersJson(clusters: readonly ClusterStatus__Output[]): Json {
  return clusters.map((c) => ({ key: c.key, peers: c.peers.map(peerStatusJson) }));
}

export function statusJson(res: GetStatusResponse__Output): Json {
  return {
    upstreams: res.upstreams.map((u) => ({ skey: u.skey, version: u.version, heartbeat: u.heartbeat, clusters: clustersJson(u.clusters) })),
    checker: res.checker === null ? null : { ...res.checker },
    startTimeMs: res.startTimeMs,
    confHash: res.confHash,
    revision: res.revision,
  };
}

export function serversJson(skey: string, res: GetServersResponse__Output): Json {
  return { skey, version: res.version, clusters: clustersJson(res.clusters) };
}

export function upstreamJson(skey: string, res: GetUpstreamResponse__Output): Json {
  return { skey, version: res.version, upstream: structToJson(res.upstream) };
}

export function listJson(res: ListUpstreamsResponse__Output): Json {
  return { upstreams: res.upstreams.map((u) => ({ ...u })) };
}

export function selectedJson(p: SelectedPeer__Output): Json {
  return { ...p };
}

/** An event in the same JSON form as `GET /events` sends it. */
export function eventJson(e: Event__Output): { [key: string]: Json } {
  return {
    seq: e.seq,
    at: e.timeMs,
    kind: e.kind,
    message: e.message,
    ...(e.skey !== '' ? { skey: e.skey } : {}),
    ...(e.peer !== '' ? { peer: e.peer } : {}),
    details: structToJson(e.details),
  };
}

/** `2026-01-02T03:04:05.678Z health  api 10.0.0.1:80: ok -> err (connection refused)` */
export function formatEvent(e: Event__Output): string {
  return `${new Date(e.timeMs).toISOString()} ${e.kind.padEnd(6)} ${e.message}`;
}
