/**
 * `checkups import nginx`: the `upstream {}` blocks of an nginx.conf (and the files it
 * `include`s) -> checkups.yaml, one upstream per block.
 *
 * Parsing is a small tokenizer that follows nginx's own lexer (ngx_conf_file.c): words split on
 * whitespace, `"..."` and `'...'` quoting with backslash escapes, `#` comments to the end of the
 * line, and `;`, `{`, `}` as punctuation; each directive keeps its file and line. No npm parser
 * fits: nginx-conf (the most used, last release 2.1.0 in 2024) keeps a directive's arguments as
 * one raw string and records no line numbers, and the others are formatters; both the line of an
 * unsupported directive and nginx's quoting rules are needed here.
 *
 * Mapping (docs/compat.md, "Importing"):
 * - `server ADDR [weight=N] [max_fails=N] [fail_timeout=T] [backup] [down]`: level 1, or level 2
 *   for `backup`; nginx's defaults are written out (max_fails=1, fail_timeout=10s), since
 *   checkups' own default max_fails is 0 (off), as in lua-resty-checkups.
 * - `hash $request_uri|$uri consistent` -> url_hash, `hash $remote_addr consistent` -> ip_hash,
 *   `hash $http_x_hash_key consistent` -> header_hash, `hash <other key>` -> hash (callers pass
 *   the key), `ip_hash` -> ip_hash. Keys map to servers differently from nginx: reported.
 * - nginx (open source) has no active health checks: imported upstreams say `enable: false`, so
 *   only passive max_fails/fail_timeout applies, as in nginx; set `enable: true` to probe.
 * - `server ... slow_start=T` (NGINX Plus) -> the upstream's `slow_start` (the longest one given):
 *   checkups ramps every server of an upstream alike, from a share of its weight instead of
 *   zero; reported. With a hash mode nothing ramps (nginx refuses that combination too).
 * - Anything else in an upstream block (`zone`, `keepalive*`, `least_conn`, `random`, `resolve`,
 *   server parameters such as `max_conns`) is reported with its line and not carried.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { isIP } from 'node:net';
import type { BalanceMode } from '../core/model.ts';
import { MAX_WEIGHT, peerId } from '../core/model.ts';
import type { RawServer, RawUpstream } from '../core/document.ts';
import { MAX_DURATION_SECONDS, MIN_DURATION_SECONDS } from '../config/schema.ts';
import { DEFAULTS } from '../config/defaults.ts';
import type { ImportedConfig, ImportProblem, ImportResult } from './document.ts';

interface Directive {
  readonly name: string;
  readonly args: readonly string[];
  readonly file: string;
  readonly line: number;
  /** Set for block directives (`upstream x { ... }`). */
  readonly block?: readonly Directive[];
}

/** Bounds against include loops and runaway globs. */
const MAX_INCLUDE_DEPTH = 16;
const MAX_FILES = 1000;

const NGINX_DEFAULTS = { weight: 1, max_fails: 1, fail_timeout: 10 } as const;

class NginxSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

interface Token {
  readonly text: string;
  readonly line: number;
  /** `;`, `{` or `}` outside quotes. */
  readonly punct: boolean;
}

/** nginx's lexer: words, quoted strings (escapes kept as nginx keeps them: \" \' \\ \t \r \n), comments, punctuation. */
export function tokenize(text: string, file: string): Token[] {
  const out: Token[] = [];
  let line = 1;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text[i]!;
    if (c === '\n') {
      line++;
      i++;
    } else if (c === ' ' || c === '\t' || c === '\r') i++;
    else if (c === '#') {
      while (i < n && text[i] !== '\n') i++;
    } else if (c === ';' || c === '{' || c === '}') {
      out.push({ text: c, line, punct: true });
      i++;
    } else if (c === '"' || c === "'") {
      const start = line;
      let word = '';
      i++;
      while (i < n && text[i] !== c) {
        if (text[i] === '\\' && i + 1 < n) {
          const e = text[i + 1]!;
          word += e === 't' ? '\t' : e === 'r' ? '\r' : e === 'n' ? '\n' : e === '"' || e === "'" || e === '\\' ? e : `\\${e}`;
          i += 2;
          continue;
        }
        if (text[i] === '\n') line++;
        word += text[i++];
      }
      if (i >= n) throw new NginxSyntaxError(file, start, `unterminated ${c} string`);
      i++;
      out.push({ text: word, line: start, punct: false });
    } else {
      let word = '';
      while (i < n && !/[\s;{}#"']/.test(text[i]!)) {
        // `${var}` may hold braces of its own.
        if (text[i] === '$' && text[i + 1] === '{') {
          const end = text.indexOf('}', i);
          if (end < 0) throw new NginxSyntaxError(file, line, 'unterminated ${ variable');
          word += text.slice(i, end + 1);
          i = end + 1;
          continue;
        }
        word += text[i++];
      }
      out.push({ text: word, line, punct: false });
    }
  }
  return out;
}

/** Directives of one file; `include` is left to the reader (it needs the file system). */
export function parseDirectives(tokens: readonly Token[], file: string): Directive[] {
  let at = 0;
  const block = (depth: number, openLine: number): Directive[] => {
    const list: Directive[] = [];
    while (at < tokens.length) {
      const t = tokens[at]!;
      if (t.punct && t.text === '}') {
        if (depth === 0) throw new NginxSyntaxError(file, t.line, 'unexpected "}"');
        at++;
        return list;
      }
      if (t.punct) throw new NginxSyntaxError(file, t.line, `unexpected "${t.text}"`);
      const args: string[] = [];
      at++;
      while (at < tokens.length && !tokens[at]!.punct) args.push(tokens[at++]!.text);
      const end = tokens[at];
      if (end === undefined) throw new NginxSyntaxError(file, t.line, `directive "${t.text}" is not terminated by ";"`);
      at++;
      if (end.text === ';') list.push({ name: t.text, args, file, line: t.line });
      else if (end.text === '{') list.push({ name: t.text, args, file, line: t.line, block: block(depth + 1, t.line) });
      else throw new NginxSyntaxError(file, end.line, 'unexpected "}"');
    }
    if (depth > 0) throw new NginxSyntaxError(file, openLine, 'unexpected end of file, expecting "}"');
    return list;
  };
  return block(0, 1);
}

/** nginx time: `10`, `10s`, `1m30s`, `500ms`, ... -> seconds, or undefined. */
export function nginxSeconds(value: string): number | undefined {
  const units: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86_400, w: 604_800, M: 2_592_000, y: 31_536_000 };
  if (/^\d+$/.test(value)) return Number(value);
  const re = /(\d+)(ms|s|m|h|d|w|M|y)/gy;
  let total = 0;
  let consumed = 0;
  for (const m of value.matchAll(re)) {
    total += Number(m[1]) * units[m[2]!]!;
    consumed += m[0].length;
  }
  return consumed === value.length && consumed > 0 ? total : undefined;
}

/** Keys nginx hashes on that checkups has a mode for. */
const HASH_KEY_MODES = new Map<string, BalanceMode>([
  ['$request_uri', 'url_hash'],
  ['$uri', 'url_hash'],
  ['$remote_addr', 'ip_hash'],
  ['$binary_remote_addr', 'ip_hash'],
  ['$http_x_hash_key', 'header_hash'],
]);

class NginxReader {
  readonly problems: ImportProblem[] = [];
  private files = 0;

  report(d: { file: string; line: number }, message: string): void {
    this.problems.push({ file: d.file, line: d.line, message });
  }

  /** Reads `path` and follows its includes; `root` is the directory relative includes start from. */
  read(path: string, root: string, depth: number, from?: Directive): Directive[] {
    if (++this.files > MAX_FILES) {
      if (from !== undefined) this.report(from, `more than ${MAX_FILES} files included; the rest is not read`);
      return [];
    }
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if (from === undefined) throw err;
      this.report(from, `include ${path}: ${(err as Error).message}; not read`);
      return [];
    }
    const list = parseDirectives(tokenize(text, path), path);
    return this.expand(list, root, depth);
  }

  private expand(list: readonly Directive[], root: string, depth: number): Directive[] {
    const out: Directive[] = [];
    for (const d of list) {
      if (d.name === 'include' && d.block === undefined) {
        if (depth >= MAX_INCLUDE_DEPTH) {
          this.report(d, `include nested more than ${MAX_INCLUDE_DEPTH} deep (a loop?); not followed`);
          continue;
        }
        for (const f of this.includeFiles(d, root)) out.push(...this.read(f, root, depth + 1, d));
      } else if (d.block !== undefined) {
        out.push({ ...d, block: this.expand(d.block, root, depth) });
      } else out.push(d);
    }
    return out;
  }

  /** nginx resolves relative includes against the directory of the main config; `*` and `?` glob the last part. */
  private includeFiles(d: Directive, root: string): string[] {
    const pattern = d.args[0];
    if (pattern === undefined || d.args.length !== 1) {
      this.report(d, 'include takes one file name; not followed');
      return [];
    }
    const path = isAbsolute(pattern) ? pattern : join(root, pattern);
    const name = basename(path);
    if (!/[*?[]/.test(name)) return [path];
    const dir = dirname(path);
    if (/[*?[]/.test(dir)) {
      this.report(d, `include ${pattern}: wildcards are followed in the last path part only; not followed`);
      return [];
    }
    const re = new RegExp(`^${name.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
    try {
      return readdirSync(dir)
        .filter((f) => re.test(f))
        .sort()
        .map((f) => join(dir, f));
    } catch (err) {
      this.report(d, `include ${pattern}: ${(err as Error).message}; not followed`);
      return [];
    }
  }

  /** Every `upstream NAME { }` block, at any depth (http{}, stream{}, or bare in an included file). */
  upstreams(list: readonly Directive[], out: Directive[] = []): Directive[] {
    for (const d of list) {
      if (d.block === undefined) continue;
      if (d.name === 'upstream') out.push(d);
      else this.upstreams(d.block, out);
    }
    return out;
  }

  upstream(block: Directive): { skey: string; upstream: RawUpstream } | undefined {
    const name = block.args[0] ?? '';
    if (block.args.length !== 1 || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) {
      this.report(block, `upstream ${block.args.join(' ')}: checkups names use letters, digits, _ . - (1..128); not carried - rename it`);
      return undefined;
    }
    const primary: RawServer[] = [];
    const backup: RawServer[] = [];
    const seen = new Set<string>();
    let mode: BalanceMode | undefined;
    const slowStarts: Array<{ d: Directive; text: string; seconds: number }> = [];
    for (const d of block.block ?? []) {
      switch (d.name) {
        case 'server': {
          const s = this.server(d);
          if (s === undefined) break;
          if (s.slowStart !== undefined) slowStarts.push({ d, ...s.slowStart });
          const id = peerId(s.server.host.toLowerCase(), s.server.port);
          const level = s.backup ? backup : primary;
          if (seen.has(`${s.backup}\n${id}`)) {
            this.report(d, `server ${id} is listed twice; not carried - add its weight to the first listing`);
            break;
          }
          seen.add(`${s.backup}\n${id}`);
          level.push(s.server);
          break;
        }
        case 'hash': {
          const key = d.args[0];
          const consistent = d.args[1] === 'consistent';
          if (key === undefined || d.args.length > 2 || (d.args.length === 2 && !consistent)) {
            this.report(d, 'hash takes a key and an optional "consistent"; not carried');
            break;
          }
          mode = HASH_KEY_MODES.get(key) ?? 'hash';
          const how = mode === 'hash' ? `mode: hash (callers must pass the value of ${key} as hash_key)` : `mode: ${mode}`;
          this.report(d, `hash ${key}${consistent ? ' consistent' : ''}: carried as ${how}; checkups' ring maps keys to servers differently from nginx's ${consistent ? 'ketama ring' : 'modulo hash'}, so a key may land on another server than before`);
          break;
        }
        case 'ip_hash':
          mode = 'ip_hash';
          this.report(d, "ip_hash: carried as mode: ip_hash; checkups hashes the whole client address (nginx the first three IPv4 octets), so clients may land on other servers than before");
          break;
        default:
          this.report(d, `${d.name}: not carried (${NOT_CARRIED[d.name] ?? 'no checkups equivalent'})`);
      }
    }
    const cluster: Record<string, { servers: RawServer[] }> = { '1': { servers: primary } };
    if (backup.length > 0) cluster['2'] = { servers: backup };
    const slowStart = this.slowStart(slowStarts, mode);
    return {
      skey: name,
      upstream: { enable: false, ...(mode !== undefined ? { mode } : {}), ...(slowStart !== undefined ? { slow_start: slowStart } : {}), cluster },
    };
  }

  /** nginx's per-server slow_start values -> the upstream's one (the longest), each reported. */
  private slowStart(found: ReadonlyArray<{ d: Directive; text: string; seconds: number }>, mode: BalanceMode | undefined): number | undefined {
    if (found.length === 0) return undefined;
    if (mode !== undefined && mode !== 'wrr') {
      for (const f of found) this.report(f.d, `${f.text}: not carried; checkups' hash modes do not ramp (nginx refuses slow_start with hash too)`);
      return undefined;
    }
    const seconds = Math.max(...found.map((f) => f.seconds));
    const floor = DEFAULTS.upstream.slow_start_min_weight_percent;
    for (const f of found) {
      this.report(f.d, `${f.text}: carried as the upstream's slow_start: ${seconds}; checkups ramps every server of the upstream that becomes usable, from ${floor}% of its weight (nginx from zero)`);
    }
    return seconds;
  }

  private server(d: Directive): { server: RawServer; backup: boolean; slowStart?: { text: string; seconds: number } } | undefined {
    const addr = d.args[0];
    if (addr === undefined) {
      this.report(d, 'server without an address; not carried');
      return undefined;
    }
    const hp = hostPort(addr);
    if (hp === undefined) {
      this.report(d, `server ${addr}: ${addr.startsWith('unix:') ? 'a unix socket' : 'not a host[:port] address'}; not carried (checkups needs host:port)`);
      return undefined;
    }
    const server: { -readonly [K in keyof RawServer]: RawServer[K] } = { host: hp.host, port: hp.port, ...NGINX_DEFAULTS };
    let backup = false;
    let slowStart: { text: string; seconds: number } | undefined;
    for (const p of d.args.slice(1)) {
      const [k, v] = p.includes('=') ? [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] : [p, undefined];
      if (k === 'weight' && v !== undefined && /^\d+$/.test(v) && Number(v) >= 1 && Number(v) <= MAX_WEIGHT) server.weight = Number(v);
      else if (k === 'max_fails' && v !== undefined && /^\d+$/.test(v) && Number(v) <= 1_000_000) server.max_fails = Number(v);
      else if (k === 'fail_timeout' && v !== undefined && (nginxSeconds(v) ?? 0) > 0) server.fail_timeout = nginxSeconds(v)!;
      else if (k === 'fail_timeout' && v !== undefined && nginxSeconds(v) === 0) {
        this.report(d, `server ${addr} ${p}: nginx reads 0 as no window; checkups needs fail_timeout > 0, so the default (10 s) applies`);
      } else if (k === 'slow_start' && v !== undefined && nginxSeconds(v) !== undefined) {
        const sec = nginxSeconds(v)!;
        // nginx reads 0 as off; the rest must be a duration checkups accepts (config/schema.ts).
        if (sec > 0 && (sec < MIN_DURATION_SECONDS || sec > MAX_DURATION_SECONDS)) {
          this.report(d, `server ${addr} ${p}: slow_start must be ${MIN_DURATION_SECONDS}..${MAX_DURATION_SECONDS} seconds; not carried`);
        } else if (sec > 0) slowStart = { text: `server ${addr} ${p}`, seconds: sec };
      } else if (k === 'backup' && v === undefined) backup = true;
      else if (k === 'down' && v === undefined) server.down = true;
      else if (k in SERVER_PARAM_RULES) this.report(d, `server ${addr} ${p}: ${k} must be ${SERVER_PARAM_RULES[k]}; not carried, nginx's default applies`);
      else this.report(d, `server ${addr} ${p}: ${SERVER_PARAMS_NOT_CARRIED[k] ?? 'not a parameter checkups knows'}; not carried`);
    }
    return { server, backup, ...(slowStart !== undefined ? { slowStart } : {}) };
  }
}

const NOT_CARRIED: Record<string, string> = {
  zone: 'shared memory zones are an nginx worker detail; checkups is one process',
  keepalive: 'connection pooling belongs to the client; the SDK and Envoy pool connections themselves',
  keepalive_timeout: 'connection pooling belongs to the client',
  keepalive_requests: 'connection pooling belongs to the client',
  keepalive_time: 'connection pooling belongs to the client',
  least_conn: 'checkups balances with smooth WRR or a hash ring; the upstream keeps wrr',
  least_time: 'checkups balances with smooth WRR or a hash ring; the upstream keeps wrr',
  random: 'checkups balances with smooth WRR or a hash ring; the upstream keeps wrr',
  resolver: 'checkups resolves host names itself (xDS) and probes them by name',
  resolver_timeout: 'checkups resolves host names itself',
  sticky: 'session affinity: use a hash mode with a key instead',
  ntlm: 'no equivalent',
  queue: 'no equivalent',
  state: 'checkups keeps admin changes in its own data dir',
  health_check: 'active checks are configured with typ/http_opts; set enable: true',
  check: 'active checks are configured with typ/http_opts; set enable: true',
};

const SERVER_PARAM_RULES: Record<string, string> = {
  weight: `an integer 1..${MAX_WEIGHT}`,
  max_fails: 'an integer 0..1000000',
  fail_timeout: 'an nginx time such as 10s or 1m',
  slow_start: 'an nginx time such as 30s or 1m',
  backup: 'given without a value',
  down: 'given without a value',
};

const SERVER_PARAMS_NOT_CARRIED: Record<string, string> = {
  resolve: 'checkups re-resolves host names itself',
  max_conns: 'no connection limit per server',
  service: 'SRV records are not supported',
  route: 'sticky routes are not supported',
  drain: 'use down: true to take the server out',
};

function hostPort(addr: string): { host: string; port: number } | undefined {
  if (addr.startsWith('unix:')) return undefined;
  const v6 = /^\[([0-9A-Fa-f:.]+)\](?::(\d+))?$/.exec(addr);
  if (v6 !== null) return withPort(v6[1]!, v6[2]);
  const idx = addr.lastIndexOf(':');
  if (idx >= 0 && addr.indexOf(':') !== idx) return undefined;
  return idx < 0 ? withPort(addr, undefined) : withPort(addr.slice(0, idx), addr.slice(idx + 1));
}

function withPort(host: string, port: string | undefined): { host: string; port: number } | undefined {
  const p = port === undefined ? 80 : /^\d{1,5}$/.test(port) ? Number(port) : NaN;
  if (!(p >= 1 && p <= 65535)) return undefined;
  if (host === '' || (isIP(host) === 0 && !/^[A-Za-z0-9_.-]+$/.test(host))) return undefined;
  return { host, port: p };
}

/** Converts nginx.conf at `path` (includes relative to its directory). */
export function importNginxConfig(path: string): ImportResult {
  const r = new NginxReader();
  let list: Directive[];
  try {
    list = r.read(path, dirname(path), 0);
  } catch (err) {
    if (err instanceof NginxSyntaxError) return { config: { upstreams: {} }, problems: [...r.problems, { file: err.file, line: err.line, message: `${err.message}; nothing imported` }] };
    throw err;
  }
  const config: ImportedConfig = { upstreams: {} };
  for (const block of r.upstreams(list)) {
    const got = r.upstream(block);
    if (got === undefined) continue;
    if (got.skey in config.upstreams) {
      r.report(block, `upstream ${got.skey} is defined twice (http{} and stream{}?); the second is not carried - rename one`);
      continue;
    }
    config.upstreams[got.skey] = got.upstream;
  }
  if (Object.keys(config.upstreams).length === 0 && r.problems.length === 0) r.problems.push({ file: path, line: 1, message: 'no upstream {} blocks found; nothing imported' });
  // Grouped by file (in the order files were read), then by line.
  const fileOrder = new Map<string, number>();
  for (const p of r.problems) if (!fileOrder.has(p.file)) fileOrder.set(p.file, fileOrder.size);
  const problems = [...r.problems].sort((a, b) => (a.file === b.file ? a.line - b.line : fileOrder.get(a.file)! - fileOrder.get(b.file)!));
  return { config, problems };
}
