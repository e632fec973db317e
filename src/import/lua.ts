/**
 * `checkups import lua`: a lua-resty-checkups config module (config.lua) -> checkups.yaml.
 *
 * The module is parsed with luaparse and read as data, never run. What counts as data: string,
 * number, boolean and nil literals, table constructors, unary minus, arithmetic and `..` over
 * literals, and top-level `local NAME = <data>` bindings referred to by name. Recognised module
 * shapes: `local _M = {}` followed by `_M.key = ...` / `_M["key"] = ...` assignments, a local
 * table returned at the end, or `return { ... }`.
 *
 * Everything else (a custom `heartbeat` function, a function call, a global variable,
 * `upstream = "name"` levels that pull servers from nginx) is reported with its line and what to
 * do, and the rest still converts. Each option is checked with checkups' own schema for that
 * field, so a value checkups would refuse is reported and left out instead of spoiling the file.
 */
import luaparse from 'luaparse';
import type { Chunk, Expression, Statement } from 'luaparse';
import type { z } from 'zod';
import { formatPath } from '../config/validate.ts';
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import { clusterSchema, globalSchema, serverSchema, upstreamSchema } from '../config/schema.ts';
import { peerId } from '../core/model.ts';
import type { ImportedConfig, ImportProblem, ImportResult } from './document.ts';

/** A Lua value read as data; `opaque` is anything that would need running code. */
type LuaValue =
  | { readonly kind: 'data'; readonly value: string | number | boolean | null; readonly line: number }
  | { readonly kind: 'table'; readonly entries: TableEntry[]; readonly line: number }
  | { readonly kind: 'opaque'; readonly what: string; readonly line: number };

interface TableEntry {
  readonly key: string | number;
  readonly value: LuaValue;
  readonly line: number;
}

const SKEY = /^[A-Za-z0-9_.-]{1,128}$/;
const NUMERIC_PORT = /^[1-9][0-9]{0,4}$/;

class LuaReader {
  readonly problems: ImportProblem[] = [];
  private readonly env = new Map<string, LuaValue>();

  constructor(private readonly file: string) {}

  report(line: number, message: string): void {
    this.problems.push({ file: this.file, line, message });
  }

  /** The module table the chunk returns, or undefined (reported) when there is none. */
  module(chunk: Chunk): Extract<LuaValue, { kind: 'table' }> | undefined {
    let returned: LuaValue | undefined;
    for (const st of chunk.body) returned = this.statement(st) ?? returned;
    if (returned === undefined) {
      // A module that forgets `return _M` still reads as its _M.
      const m = this.env.get('_M');
      if (m?.kind === 'table') return m;
      this.report(1, 'no module table found (expected `return _M` or `return { ... }`); nothing imported');
      return undefined;
    }
    if (returned.kind !== 'table') {
      this.report(returned.line, `the module returns ${describe(returned)}, not a table; nothing imported`);
      return undefined;
    }
    return returned;
  }

  private statement(st: Statement): LuaValue | undefined {
    const line = st.loc?.start.line ?? 1;
    switch (st.type) {
      case 'LocalStatement':
        st.variables.forEach((v, i) => {
          const init = st.init[i];
          this.env.set(v.name, init === undefined ? { kind: 'data', value: null, line } : this.value(init));
        });
        return undefined;
      case 'AssignmentStatement':
        st.variables.forEach((target, i) => {
          const init = st.init[i];
          const value: LuaValue = init === undefined ? { kind: 'data', value: null, line } : this.value(init);
          if (target.type === 'Identifier') {
            // `_M = {}` without `local`: a global module table, read the same way.
            this.env.set(target.name, value);
            return;
          }
          const slot = this.slot(target);
          if (slot === undefined) {
            this.report(line, 'an assignment that is not `<module>.<key> = ...` is not carried; write the value into the module table');
            return;
          }
          const table = this.env.get(slot.table);
          if (table?.kind !== 'table') {
            this.report(line, `assignment to ${slot.table}.${slot.key}: ${slot.table} is not a local table; not carried`);
            return;
          }
          const at = table.entries.findIndex((e) => e.key === slot.key);
          const entry = { key: slot.key, value, line };
          if (at >= 0) table.entries[at] = entry;
          else table.entries.push(entry);
        });
        return undefined;
      case 'ReturnStatement': {
        const arg = st.arguments[0];
        return arg === undefined ? { kind: 'data', value: null, line } : this.value(arg);
      }
      case 'FunctionDeclaration':
        this.report(line, 'a function in the config module is not carried (checkups runs no Lua); its effect, if any, must be written as options');
        return undefined;
      case 'CallStatement':
        this.report(line, 'a function call in the config module is not run; anything it sets up is not carried');
        return undefined;
      default:
        this.report(line, `a ${st.type.replace(/Statement$/, '').toLowerCase()} statement is not run; anything it computes is not carried`);
        return undefined;
    }
  }

  /** `X.key` or `X["key"]` with X a plain name. */
  private slot(target: Expression): { table: string; key: string | number } | undefined {
    if (target.type === 'MemberExpression' && target.indexer === '.' && target.base.type === 'Identifier') return { table: target.base.name, key: target.identifier.name };
    if (target.type === 'IndexExpression' && target.base.type === 'Identifier') {
      const k = this.value(target.index);
      if (k.kind === 'data' && (typeof k.value === 'string' || typeof k.value === 'number')) return { table: target.base.name, key: k.value };
    }
    return undefined;
  }

  value(e: Expression): LuaValue {
    const line = e.loc?.start.line ?? 1;
    switch (e.type) {
      case 'StringLiteral':
        // pseudo-latin1 gives one char per byte: turn the bytes back into UTF-8 text.
        return { kind: 'data', value: Buffer.from(e.value, 'latin1').toString('utf8'), line };
      case 'NumericLiteral':
        return { kind: 'data', value: e.value, line };
      case 'BooleanLiteral':
        return { kind: 'data', value: e.value, line };
      case 'NilLiteral':
        return { kind: 'data', value: null, line };
      case 'Identifier': {
        const bound = this.env.get(e.name);
        return bound ?? { kind: 'opaque', what: `the global variable ${e.name}`, line };
      }
      case 'UnaryExpression': {
        const v = this.value(e.argument);
        if (e.operator === '-' && v.kind === 'data' && typeof v.value === 'number') return { kind: 'data', value: -v.value, line };
        return { kind: 'opaque', what: `a computed value (${e.operator})`, line };
      }
      case 'BinaryExpression': {
        const l = this.value(e.left);
        const r = this.value(e.right);
        if (l.kind === 'data' && r.kind === 'data') {
          const folded = fold(e.operator, l.value, r.value);
          if (folded !== undefined) return { kind: 'data', value: folded, line };
        }
        return { kind: 'opaque', what: `a computed value (${e.operator})`, line };
      }
      case 'TableConstructorExpression': {
        const entries: TableEntry[] = [];
        let next = 1;
        for (const f of e.fields) {
          const fline = f.loc?.start.line ?? line;
          if (f.type === 'TableValue') entries.push({ key: next++, value: this.value(f.value), line: fline });
          else if (f.type === 'TableKeyString') entries.push({ key: f.key.name, value: this.value(f.value), line: fline });
          else {
            const k = this.value(f.key);
            if (k.kind === 'data' && (typeof k.value === 'string' || typeof k.value === 'number')) entries.push({ key: k.value, value: this.value(f.value), line: fline });
            else this.report(fline, `a table key that is ${describe(k)} is not carried; use a literal key`);
          }
        }
        return { kind: 'table', entries, line };
      }
      case 'FunctionDeclaration':
        return { kind: 'opaque', what: 'a function', line };
      case 'CallExpression':
      case 'StringCallExpression':
      case 'TableCallExpression':
        return { kind: 'opaque', what: 'a function call', line };
      default:
        return { kind: 'opaque', what: `a computed value (${e.type})`, line };
    }
  }
}

function fold(op: string, a: unknown, b: unknown): string | number | undefined {
  if (op === '..' && (typeof a === 'string' || typeof a === 'number') && (typeof b === 'string' || typeof b === 'number')) return `${a}${b}`;
  if (typeof a !== 'number' || typeof b !== 'number') return undefined;
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    default:
      return undefined;
  }
}

function describe(v: LuaValue): string {
  if (v.kind === 'opaque') return v.what;
  if (v.kind === 'table') return 'a table';
  return v.value === null ? 'nil' : `${typeof v.value} ${JSON.stringify(v.value)}`;
}

/** Plain JS of a data value (tables with keys 1..n become lists); undefined when opaque inside. */
function toJs(v: LuaValue): unknown {
  if (v.kind === 'opaque') return undefined;
  if (v.kind === 'data') return v.value;
  if (v.entries.every((e, i) => e.key === i + 1)) return v.entries.map((e) => toJs(e.value));
  return Object.fromEntries(v.entries.map((e) => [String(e.key), toJs(e.value)]));
}

type Shape = Record<string, z.ZodType>;

/**
 * Copies the data options of `table` that `shape` knows into `out`, each checked by its own
 * schema; `special` handles keys itself. Reports opaque values, refused values and unknown keys.
 */
function copyOptions(r: LuaReader, table: Extract<LuaValue, { kind: 'table' }>, shape: Shape, where: string, out: Record<string, unknown>, special: (e: TableEntry) => boolean = () => false): void {
  for (const e of table.entries) {
    if (special(e)) continue;
    const key = String(e.key);
    const schema = shape[key];
    if (schema === undefined) {
      r.report(e.line, `${where}.${key}: unknown option, not carried (checkups.yaml has no such field; see docs/compat.md)`);
      continue;
    }
    if (e.value.kind === 'opaque') {
      r.report(e.line, `${where}.${key}: ${e.value.what} cannot be read without running it; not carried - write the value itself`);
      continue;
    }
    const js = toJs(e.value);
    if (js === null) continue; // `key = nil` is the same as leaving it out
    const ok = schema.safeParse(js);
    if (!ok.success) {
      r.report(e.line, `${where}.${key}: ${ok.error.issues[0]?.message ?? 'invalid'} (got ${describe(e.value)}); not carried, the default applies`);
      continue;
    }
    out[key] = ok.data;
  }
}

function asTable(r: LuaReader, e: TableEntry, where: string): Extract<LuaValue, { kind: 'table' }> | undefined {
  if (e.value.kind === 'table') return e.value;
  r.report(e.line, `${where}: expected a table, got ${describe(e.value)}; not carried`);
  return undefined;
}

function importServer(r: LuaReader, e: TableEntry, where: string): RawServer | undefined {
  const t = asTable(r, e, where);
  if (t === undefined) return undefined;
  // A port written as a string ("8080") is what servers pulled from nginx carry: take its number.
  const entries = t.entries.map((x) => (x.key === 'port' && x.value.kind === 'data' && typeof x.value.value === 'string' && NUMERIC_PORT.test(x.value.value) ? { ...x, value: { ...x.value, value: Number(x.value.value) } } : x));
  const out: Record<string, unknown> = {};
  copyOptions(r, { ...t, entries }, serverSchema.shape, where, out);
  if (out['host'] === undefined || out['port'] === undefined) {
    r.report(t.line, `${where}: a server needs a literal host and port; this server is not carried`);
    return undefined;
  }
  return out as unknown as RawServer;
}

function importCluster(r: LuaReader, e: TableEntry, where: string): RawCluster | undefined {
  const t = asTable(r, e, where);
  if (t === undefined) return undefined;
  const out: Record<string, unknown> = {};
  const servers: RawServer[] = [];
  let upstreamName: string | undefined;
  copyOptions(r, t, clusterSchema.shape, where, out, (x) => {
    if (x.key === 'servers') {
      const list = asTable(r, x, `${where}.servers`);
      const seen = new Map<string, number>();
      list?.entries.forEach((s, i) => {
        const server = importServer(r, s, `${where}.servers[${i}]`);
        if (server === undefined) return;
        const id = peerId(server.host.toLowerCase(), server.port);
        if (seen.has(id)) {
          r.report(s.line, `${where}.servers[${i}]: ${id} is listed twice in one level (lua-resty-checkups counts it twice); not carried - add its weight to the first listing`);
          return;
        }
        seen.set(id, i);
        servers.push(server);
      });
      return true;
    }
    if (x.key === 'upstream') {
      upstreamName = x.value.kind === 'data' ? String(x.value.value) : describe(x.value);
      r.report(x.line, `${where}.upstream = "${upstreamName}": servers pulled from an nginx upstream block are not carried; run \`checkups import nginx\` on the nginx.conf that defines it and copy its servers into this level`);
      return true;
    }
    if (x.key === 'upstream_only_backup' || x.key === 'upstream_skip_down') {
      r.report(x.line, `${where}.${x.key}: only applies to servers pulled from nginx (upstream =); not carried`);
      return true;
    }
    return false;
  });
  return { ...out, servers } as RawCluster;
}

/** The keys of a cluster table: numeric keys are levels; a positional list is levels 1..n. */
function importClusters(r: LuaReader, e: TableEntry, where: string): Record<string, RawCluster> | undefined {
  const t = asTable(r, e, where);
  if (t === undefined) return undefined;
  const out: Record<string, RawCluster> = {};
  for (const c of t.entries) {
    const key = String(c.key);
    if (typeof c.key === 'number' && !(Number.isInteger(c.key) && c.key >= 1)) {
      r.report(c.line, `${where}[${key}]: level keys must be positive integers; not carried`);
      continue;
    }
    if (typeof c.key === 'string' && /^[+-]?[0-9.]*$/.test(c.key)) {
      r.report(c.line, `${where}["${key}"]: a cluster name that looks like a number is ambiguous (lua-resty-checkups keeps "1" and 1 apart); not carried - use the number for a level or a name such as dc1`);
      continue;
    }
    const cluster = importCluster(r, c, `${where}.${key}`);
    if (cluster !== undefined) out[key] = cluster;
  }
  return out;
}

const UPSTREAM_SHAPE: Shape = upstreamSchema.shape;

function importUpstream(r: LuaReader, skey: string, t: Extract<LuaValue, { kind: 'table' }>): RawUpstream | undefined {
  const out: Record<string, unknown> = {};
  let cluster: Record<string, RawCluster> | undefined;
  copyOptions(r, t, UPSTREAM_SHAPE, skey, out, (e) => {
    switch (e.key) {
      case 'cluster':
        cluster = importClusters(r, e, `${skey}.cluster`);
        return true;
      case 'heartbeat':
        r.report(e.line, `${skey}.heartbeat: a custom heartbeat function is not carried (checkups runs no Lua); choose a built-in probe with typ: general, http (http_opts), redis, mysql or grpc`);
        return true;
      case 'http_opts':
        importHttpOpts(r, e, skey, out);
        return true;
      default:
        return false;
    }
  });
  if (cluster === undefined) return undefined;
  return { ...out, cluster } as RawUpstream;
}

/** http_opts: `query` as is; `statuses` keys as strings, whether written `[502]` or `["502"]`. */
function importHttpOpts(r: LuaReader, e: TableEntry, skey: string, out: Record<string, unknown>): void {
  const where = `${skey}.http_opts`;
  const t = asTable(r, e, where);
  if (t === undefined) return;
  const opts: Record<string, unknown> = {};
  const shape = (upstreamSchema.shape.http_opts.unwrap() as unknown as { shape: Shape }).shape;
  copyOptions(r, t, shape, where, opts, (x) => {
    if (x.key !== 'statuses') return false;
    const st = asTable(r, x, `${where}.statuses`);
    if (st === undefined) return true;
    const statuses: Record<string, boolean> = {};
    for (const s of st.entries) {
      const code = String(s.key);
      if (s.value.kind !== 'data' || typeof s.value.value !== 'boolean' || !/^[1-5][0-9][0-9]$/.test(code)) {
        r.report(s.line, `${where}.statuses[${JSON.stringify(s.key)}]: expected an HTTP status code mapped to true or false; not carried`);
        continue;
      }
      if (typeof s.key === 'number' && s.value.value === false) {
        r.report(s.line, `${where}.statuses[${code}] = false: lua-resty-checkups never matched numeric keys (only "${code}"), so ${code} counted as healthy there; carried as "${code}": false, which checkups honours - drop it to keep the old behaviour`);
      }
      statuses[code] = s.value.value;
    }
    opts['statuses'] = statuses;
    return true;
  });
  if (Object.keys(opts).length > 0) out['http_opts'] = opts;
}

/** Converts the text of a config.lua. `file` names it in problems. */
export function importLuaConfig(text: string, file: string): ImportResult {
  const r = new LuaReader(file);
  let chunk: Chunk;
  try {
    chunk = luaparse.parse(text, { luaVersion: '5.1', locations: true, comments: false, scope: false, encodingMode: 'pseudo-latin1' });
  } catch (err) {
    const e = err as Error & { line?: number };
    return { config: { upstreams: {} }, problems: [{ file, line: e.line ?? 1, message: `not valid Lua: ${e.message.replace(/^\[\d+:\d+\] /, '')}; nothing imported` }] };
  }
  const config: ImportedConfig = { upstreams: {} };
  const module = r.module(chunk);
  for (const e of module?.entries ?? []) {
    const key = String(e.key);
    if (key === 'global') {
      const t = asTable(r, e, 'global');
      if (t === undefined) continue;
      const g: Record<string, unknown> = {};
      copyOptions(r, t, globalSchema.shape, 'global', g);
      config.global = g;
      continue;
    }
    // Like the original, only a table with a table-valued `cluster` is an skey.
    const isSkey = e.value.kind === 'table' && e.value.entries.some((x) => x.key === 'cluster' && x.value.kind === 'table');
    if (!isSkey) {
      r.report(e.line, `${formatPath([key])}: not an upstream (no cluster table); skipped, as lua-resty-checkups skips it`);
      continue;
    }
    if (!SKEY.test(key)) {
      r.report(e.line, `${formatPath([key])}: upstream names (skeys) use letters, digits, _ . - (1..128); not carried - rename it`);
      continue;
    }
    const ups = importUpstream(r, key, e.value as Extract<LuaValue, { kind: 'table' }>);
    if (ups !== undefined) config.upstreams[key] = ups;
  }
  return { config, problems: [...r.problems].sort((a, b) => a.line - b.line) };
}
