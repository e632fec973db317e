/**
 * `http` probe (docs/compat.md). Without `http_opts.query` it is a TCP
 * connect. With a query, the raw HTTP/1 request is parsed and sent with undici over a client of
 * its own that is destroyed before the probe settles; the status code is classified by
 * `statuses` (only an explicit false fails), then the optional `bodyMatch` is checked.
 *
 * Differences from the original, which writes the query verbatim: undici speaks HTTP/1.1 and
 * writes framing headers itself (Content-Length is recomputed from the body, `Connection: close`
 * is always sent), so Content-Length, Transfer-Encoding, Connection, Keep-Alive, Upgrade and
 * Expect lines of the query are dropped.
 */
import { isIP } from 'node:net';
import { buildConnector, Client } from 'undici';
import type { ProbeResult } from '../state-machine.ts';
import { errorText, OK, tcpConnect, TIMEOUT } from './tcp.ts';
import type { Probe } from './types.ts';
import { compileBodyMatch } from './body-match.ts';

/** The body is matched on this prefix only, so a huge response cannot cost more. */
export const BODY_MATCH_LIMIT = 64 * 1024;

const FRAMING_HEADERS = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'expect']);
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT', 'ETIMEDOUT']);
const REQUEST_LINE = /^([A-Z][A-Z-]*) (\S+)(?: HTTP\/\d\.\d)?$/;

export interface ParsedQuery {
  readonly method: string;
  readonly path: string;
  /** Name/value pairs in the order written, framing headers removed. */
  readonly headers: readonly (readonly [string, string])[];
  /** The Host header's value, if the query has one. */
  readonly host?: string;
  readonly body?: string;
}

/** Splits a raw request into its parts; throws on a malformed request or header line. */
export function parseQuery(query: string): ParsedQuery {
  const blank = /\r?\n\r?\n/.exec(query);
  const head = blank === null ? query : query.slice(0, blank.index);
  const body = blank === null ? '' : query.slice(blank.index + blank[0].length);
  const [requestLine = '', ...lines] = head.split(/\r?\n/);
  const m = REQUEST_LINE.exec(requestLine);
  if (m === null) throw new Error(`invalid request line in http_opts.query: ${JSON.stringify(requestLine)}`);
  const headers: [string, string][] = [];
  let host: string | undefined;
  for (const line of lines) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`invalid header line in http_opts.query: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    const lower = name.toLowerCase();
    if (lower === 'host') host = value;
    if (!FRAMING_HEADERS.has(lower)) headers.push([name, value]);
  }
  return { method: m[1]!, path: m[2]!, headers, ...(host !== undefined ? { host } : {}), ...(body !== '' ? { body } : {}) };
}

/** `host[:port]` or `[v6]:port` -> host. */
function hostOfHeader(value: string): string {
  if (value.startsWith('[')) return value.slice(1, value.indexOf(']'));
  const colon = value.indexOf(':');
  return colon === -1 ? value : value.slice(0, colon);
}

/** SNI: `sni`, else the Host header, else the target host; IP literals are never sent (RFC 6066). */
export function serverNameFor(sni: string | undefined, hostHeader: string | undefined, targetHost: string): string | undefined {
  for (const candidate of [sni, hostHeader === undefined ? undefined : hostOfHeader(hostHeader), targetHost]) {
    if (candidate !== undefined && candidate !== '' && isIP(candidate) === 0) return candidate;
  }
  return undefined;
}

function isTimeout(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && TIMEOUT_CODES.has(code);
}

export const httpProbe: Probe = async (target, spec, ctx) => {
  const opts = spec.http;
  if (opts.query === undefined) return tcpConnect(target, ctx);
  if (ctx.signal.aborted) return TIMEOUT;
  const q = parseQuery(opts.query);
  const tls = opts.https === true;
  const timeout = Math.max(1, Math.ceil(ctx.timeoutMs));
  const servername = tls ? serverNameFor(opts.sni, q.host, target.host) : undefined;
  const base = buildConnector({ timeout, rejectUnauthorized: opts.verify ?? true });
  const host = target.host.includes(':') ? `[${target.host}]` : target.host;
  const client = new Client(`${tls ? 'https' : 'http'}://${host}:${target.port}`, {
    // undici would otherwise take the SNI from the Host header even when `sni` says otherwise.
    connect: (o, cb) => base(servername === undefined ? o : { ...o, servername }, cb),
    headersTimeout: timeout,
    bodyTimeout: timeout,
  });
  try {
    const res = await client.request({
      method: q.method,
      path: q.path,
      headers: q.headers.flat(),
      ...(q.body !== undefined ? { body: q.body } : {}),
      reset: true,
      signal: ctx.signal,
    });
    res.body.on('error', () => {}); // destroying an unread body emits an abort error; nobody needs it
    if (opts.statuses?.[String(res.statusCode)] === false) {
      res.body.destroy();
      return { status: 'err', msg: 'bad status code' };
    }
    if (opts.bodyMatch === undefined) {
      res.body.destroy();
      return OK;
    }
    const text = await readPrefix(res.body, BODY_MATCH_LIMIT);
    return compileBodyMatch(opts.bodyMatch).test(text) ? OK : { status: 'err', msg: `body does not match /${opts.bodyMatch}/` };
  } catch (err) {
    return ctx.signal.aborted || isTimeout(err) ? TIMEOUT : ({ status: 'err', msg: errorText(err) } satisfies ProbeResult);
  } finally {
    await client.destroy();
  }
};

/** Reads at most `limit` bytes of the body as UTF-8, then lets the rest go. */
async function readPrefix(body: AsyncIterable<Buffer> & { destroy(): unknown }, limit: number): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= limit) break;
  }
  body.destroy();
  return Buffer.concat(chunks, Math.min(size, limit)).toString('utf8');
}
