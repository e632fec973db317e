/**
 * How the CLI connects: flags -> the SDK's AdminClient (the same connection code as the SDK),
 * input files -> admin requests, CheckupsErrors -> terminal messages and exit codes.
 */
import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { parseDocument } from 'yaml';
import { AdminClient } from '../client/admin.ts';
import type { RawUpstream } from '../core/document.ts';
import { CheckupsError } from '../util/errors.ts';
import type { UpstreamWrite } from '../wire/admin.ts';
import { exitCodeOf, EXIT } from './exit-codes.ts';

export const DEFAULT_SERVER = '127.0.0.1:7600';
export const DEFAULT_TIMEOUT_MS = 5000;

/** An error meant for the operator: printed as is, then the process exits with `exitCode`. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
  }
}

export interface ConnectFlags {
  /** host:port of `checkups serve`. */
  readonly server: string;
  /** Admin token, sent as `authorization: Bearer <token>` on AdminService calls. */
  readonly token?: string | undefined;
  /** Use TLS (implied by ca/cert/key). */
  readonly tls?: boolean | undefined;
  /** CA bundle to verify the server with (default: the system roots). */
  readonly ca?: string | undefined;
  /** Client certificate and key for mTLS. */
  readonly cert?: string | undefined;
  readonly key?: string | undefined;
  /** Deadline of each call, ms. */
  readonly timeoutMs: number;
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new CliError(`cannot read ${what} ${file}: ${(err as Error).message}`, EXIT.usage);
  }
}

export function usesTls(flags: ConnectFlags): boolean {
  return flags.tls === true || flags.ca !== undefined || flags.cert !== undefined;
}

function channelCredentials(flags: ConnectFlags): grpc.ChannelCredentials {
  if ((flags.cert === undefined) !== (flags.key === undefined)) throw new CliError('--cert and --key go together (mTLS needs both)', EXIT.usage);
  if (!usesTls(flags)) return grpc.credentials.createInsecure();
  // grpc-js sends the target host as SNI even when it is an IP literal, which makes Node print
  // DEP0123 on every call; the certificate is still checked against the IP (subjectAltName).
  if (isIP(flags.server.replace(/^\[|\]?:\d+$/g, '')) !== 0) process.noDeprecation = true;
  return grpc.credentials.createSsl(
    flags.ca !== undefined ? readPem(flags.ca, 'CA file') : null,
    flags.key !== undefined ? readPem(flags.key, 'key file') : null,
    flags.cert !== undefined ? readPem(flags.cert, 'certificate file') : null,
  );
}

/** The SDK's admin client for these flags (one server, no failover: the operator named it). */
export function connect(flags: ConnectFlags): AdminClient {
  return new AdminClient({ servers: flags.server, credentials: channelCredentials(flags), token: flags.token, rpcTimeoutMs: flags.timeoutMs });
}

/** A failed call as the operator reads it, with hints where they help, and its exit code. */
export function describeError(err: CheckupsError, flags: ConnectFlags): CliError {
  const exit = exitCodeOf(err.code);
  switch (err.code) {
    case 'SERVER_UNAVAILABLE': {
      const why = err.message.replace(/\.?\s*Resolution note:\s*$/, '');
      if (/certificate|SSL|TLS|handshake/i.test(why)) return new CliError(`TLS handshake with ${flags.server} failed (--ca FILE to trust its CA, --cert/--key for mTLS)\n  ${why}`, exit);
      const plain = usesTls(flags) ? '' : '\n  (if it serves TLS, add --tls or --ca FILE)';
      return new CliError(`cannot reach checkups at ${flags.server} within ${flags.timeoutMs} ms (is it running? --server, --timeout)\n  ${why}${plain}`, exit);
    }
    case 'TIMEOUT':
      return new CliError(`no answer from ${flags.server} within ${flags.timeoutMs} ms (--timeout)`, exit);
    case 'UNAUTHENTICATED':
      return new CliError(`${err.code}: ${err.message}\n  (give the token with --token, or in CHECKUPS_ADMIN_TOKEN)`, exit);
    default:
      return new CliError(`${err.code}: ${err.message}`, exit);
  }
}

// Request building: operands and files as the operator wrote them.

/** HOST:PORT with [v6]:port for IPv6 literals; the port must be 1..65535. */
export function parseHostPort(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value);
  const port = m === null ? NaN : Number(m[3]);
  if (m === null || port < 1 || port > 65535) throw new CliError(`${JSON.stringify(value)} is not HOST:PORT (port 1..65535; write IPv6 as [::1]:80)`, EXIT.usage);
  return { host: (m[1] ?? m[2])!, port };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The body of UpdateUpstream from a YAML/JSON file (`-` = stdin): a whole upstream, or only its clusters. */
export function readUpstreamFile(file: string): UpstreamWrite {
  const source = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new CliError(`cannot read ${source}: ${(err as Error).message}`, EXIT.usage);
  }
  let doc: unknown;
  if (file.endsWith('.json')) {
    try {
      doc = JSON.parse(text);
    } catch (err) {
      throw new CliError(`${source}: ${(err as Error).message}`, EXIT.usage);
    }
  } else {
    const parsed = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (parsed.errors.length > 0) {
      const lines = parsed.errors.map((e) => {
        const at = e.linePos?.[0];
        return `${source}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]!}`;
      });
      throw new CliError(lines.join('\n'), EXIT.usage);
    }
    doc = parsed.toJS({ maxAliasCount: 100 });
  }
  if (doc === null || doc === undefined || typeof doc !== 'object') {
    throw new CliError(`${source}: expected an upstream document (with cluster:) or a cluster list/map, got ${doc === null || doc === undefined ? 'nothing' : typeof doc}`, EXIT.usage);
  }
  // A whole upstream holds `cluster` (or options: plain values), a cluster map holds only clusters (objects).
  if (isRecord(doc) && ('cluster' in doc || Object.values(doc).some((v) => typeof v !== 'object' || v === null))) return { upstream: doc as unknown as RawUpstream };
  return { cluster: doc as RawUpstream['cluster'] };
}
