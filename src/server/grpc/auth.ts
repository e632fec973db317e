/**
 * Who may call what (docs/security.md). Three rights, each token granting its own and those
 * below it: read (Watch, SelectPeer, GetStatus, GetUpsTimeout, xDS, the HTTP status) < feedback
 * (also Feedback, FeedbackBatch) < admin (also every AdminService call). One token per role:
 * `server.read_token`, `server.feedback_token`, `server.admin_token`.
 *
 * - Admin calls need the admin token whenever one is configured (without one the admin API is
 *   open, and main.ts refuses to listen beyond loopback like that unless told to).
 * - Read and feedback calls need a token when `readProtected` (config/security.ts) says so for
 *   the port: the gRPC port and the HTTP port are judged each by its own listen address.
 * - The credential: `authorization: Bearer <token>` (gRPC metadata or HTTP header; on HTTP also
 *   Basic with the token as password, which browsers send for the status page after a prompt).
 *   The given token is hashed and compared with every configured token's hash in constant time
 *   (no early exit), so neither its length, a prefix nor which token it resembles leaks.
 * - No or an unknown token: UNAUTHENTICATED; a known token without the right: PERMISSION_DENIED
 *   naming the token's role and the roles that would do. Tokens are never logged or echoed.
 * - Every refusal is counted (checkups_auth_refusals_total) and reported to `onRefused` (the
 *   event trail) at most REFUSAL_EVENTS_BURST at once and REFUSAL_EVENTS_PER_SECOND after
 *   that, so a client that hammers the port with bad tokens cannot flood the log; the next
 *   reported refusal says how many were not.
 *
 * `check` also says who is calling (for the audit trail and the feedback limits): the
 * credential's name, the client certificate subject under mTLS, and the peer address.
 */
import type * as grpc from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Actor } from '../../observability/events.ts';
import { authRefusals } from '../../observability/metrics.ts';
import type { Clock } from '../../util/clock.ts';
import { CheckupsError } from '../../util/errors.ts';
import { TokenBucket } from '../../util/token-bucket.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export type Right = 'read' | 'feedback' | 'admin';
const RANK: Record<Right, number> = { read: 1, feedback: 2, admin: 3 };

/** The names the configured tokens go by in the audit trail. */
export const ADMIN_TOKEN_NAME = 'admin-token';
export const FEEDBACK_TOKEN_NAME = 'feedback-token';
export const READ_TOKEN_NAME = 'read-token';

/** Refusals reported to the event trail at once, and per second after that (the rest are counted). */
export const REFUSAL_EVENTS_BURST = 20;
export const REFUSAL_EVENTS_PER_SECOND = 2;

/** What `check` needs of a call (every grpc-js server call has it). */
export interface AuthenticatedCall {
  readonly metadata: grpc.Metadata;
  getPeer(): string;
  getPath(): string;
  getAuthContext(): ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;
}

export interface Refusal {
  readonly method: string;
  readonly actor: Actor;
  readonly reason: string;
  /** Refusals not reported since the previous reported one (rate of reports bounded). */
  readonly unreported?: number;
}

export type RefusalListener = (refusal: Refusal) => void;

interface Credential {
  readonly name: string;
  readonly right: Right;
  readonly digest: Buffer;
}

export interface AuthOptions {
  readonly adminToken: string | undefined;
  readonly readToken?: string | undefined;
  readonly feedbackToken?: string | undefined;
  /** Read and feedback calls on the gRPC port need a token. */
  readonly grpcReadProtected?: boolean;
  /** Read routes of the HTTP port need a token. */
  readonly httpReadProtected?: boolean;
  /** For the rate of refusal reports (default: the system clock). */
  readonly clock?: Clock;
}

/** Which token roles grant `right`, for messages ("the feedback or admin token"). */
function rolesFor(right: Right): string {
  const names = (['read', 'feedback', 'admin'] as const).filter((r) => RANK[r] >= RANK[right]);
  return names.length === 1 ? `the ${names[0]} token` : `the ${names.slice(0, -1).join(', ')} or ${names.at(-1)} token`;
}

function certSubject(call: AuthenticatedCall): string | undefined {
  const subject = call.getAuthContext().sslPeerCertificate?.subject as Record<string, string | string[]> | undefined;
  if (subject === undefined || Object.keys(subject).length === 0) return undefined;
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(',');
}

/** The token of `authorization: Bearer <t>` (or, when `basic`, `Basic base64(user:<t>)`), or undefined. */
function tokenOf(header: unknown, basic: boolean): string | undefined {
  if (typeof header !== 'string') return undefined;
  const bearer = /^Bearer\s+(\S.*)$/i.exec(header);
  if (bearer !== null) return bearer[1]!.trim();
  const b = basic ? /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header) : null;
  if (b === null) return undefined;
  const pair = Buffer.from(b[1]!, 'base64').toString('utf8');
  const colon = pair.indexOf(':');
  const token = colon < 0 ? pair : pair.slice(colon + 1);
  return token === '' ? undefined : token;
}

export class Authenticator {
  private readonly credentials: readonly Credential[];
  private readonly adminRequired: boolean;
  private readonly grpcReadProtected: boolean;
  private readonly httpReadProtected: boolean;
  private readonly clock: Clock | undefined;
  private reports: TokenBucket | undefined;
  private unreported = 0;
  /** Set by the server: where refusals go (the event trail). */
  onRefused: RefusalListener | undefined;

  constructor(opts: AuthOptions) {
    const given: Array<[string, Right, string | undefined]> = [
      [ADMIN_TOKEN_NAME, 'admin', opts.adminToken],
      [FEEDBACK_TOKEN_NAME, 'feedback', opts.feedbackToken],
      [READ_TOKEN_NAME, 'read', opts.readToken],
    ];
    this.credentials = given.filter((g) => g[2] !== undefined && g[2] !== '').map(([name, right, token]) => ({ name, right, digest: digest(token!) }));
    this.adminRequired = this.credentials.some((c) => c.right === 'admin');
    this.grpcReadProtected = opts.grpcReadProtected ?? false;
    this.httpReadProtected = opts.httpReadProtected ?? false;
    this.clock = opts.clock;
  }

  /** The admin API needs a token. */
  get required(): boolean {
    return this.adminRequired;
  }

  /** Whether a call needing `right` must carry a token (on the gRPC port, or on the HTTP port). */
  protects(right: Right, port: 'grpc' | 'http' = 'grpc'): boolean {
    if (right === 'admin') return this.adminRequired;
    return port === 'grpc' ? this.grpcReadProtected : this.httpReadProtected;
  }

  /** The configured credential whose token `token` is, comparing with all of them in constant time. */
  private match(token: string): Credential | undefined {
    const given = digest(token);
    let found: Credential | undefined;
    for (const c of this.credentials) if (timingSafeEqual(given, c.digest)) found = c;
    return found;
  }

  /**
   * Throws UNAUTHENTICATED (no or unknown token) or PERMISSION_DENIED (a token without
   * `right`) unless the call may proceed; returns the caller.
   */
  check(call: AuthenticatedCall, right: Right): Actor {
    const subject = certSubject(call);
    const who = (name: string): Actor => ({ name, address: call.getPeer(), ...(subject !== undefined ? { certSubject: subject } : {}) });
    const method = call.getPath();
    const rpc = method.split('/').pop() || method;
    const anonymous = subject !== undefined ? 'client-cert' : 'anonymous';
    const protectedCall = this.protects(right);
    const token = tokenOf(call.metadata.get('authorization')[0], false);
    // An open call still names a valid token's holder (audit trail, feedback limits per caller).
    if (!protectedCall) return who((token !== undefined ? this.match(token)?.name : undefined) ?? anonymous);
    if (token === undefined) {
      this.refuse('grpc', 'UNAUTHENTICATED', { method, actor: who(anonymous), reason: 'no bearer token' });
      throw new CheckupsError('UNAUTHENTICATED', `${rpc} needs metadata 'authorization: Bearer <token>' with ${rolesFor(right)} of this server (see docs/security.md)`);
    }
    const cred = this.match(token);
    if (cred === undefined) {
      this.refuse('grpc', 'UNAUTHENTICATED', { method, actor: who(anonymous), reason: 'token rejected' });
      throw new CheckupsError('UNAUTHENTICATED', `${rpc}: token rejected (it is none of this server's tokens); ${rpc} needs ${rolesFor(right)}`);
    }
    if (RANK[cred.right] < RANK[right]) {
      this.refuse('grpc', 'PERMISSION_DENIED', { method, actor: who(cred.name), reason: `${cred.right} token lacks the ${right} right` });
      throw new CheckupsError('PERMISSION_DENIED', `${rpc}: the ${cred.right} token may not call it; it needs ${rolesFor(right)}`);
    }
    return who(cred.name);
  }

  /**
   * For a read route of the HTTP port: null when the request may proceed, else the refusal
   * (status 401 and a message). Every token has the read right, so there is no 403.
   */
  checkHttp(req: IncomingMessage, route: string): { status: 401; message: string } | null {
    if (!this.httpReadProtected) return null;
    const token = tokenOf(req.headers.authorization, true);
    const actor: Actor = { name: 'anonymous', address: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}` };
    const method = `${req.method ?? 'GET'} ${route}`;
    if (token === undefined) {
      this.refuse('http', 'UNAUTHENTICATED', { method, actor, reason: 'no bearer token' });
      return { status: 401, message: `${route} needs 'Authorization: Bearer <token>' (or HTTP Basic with the token as password) with the read, feedback or admin token of this server (see docs/security.md)` };
    }
    if (this.match(token) === undefined) {
      this.refuse('http', 'UNAUTHENTICATED', { method, actor, reason: 'token rejected' });
      return { status: 401, message: `${route}: token rejected (it is none of this server's tokens)` };
    }
    return null;
  }

  private refuse(port: 'grpc' | 'http', code: 'UNAUTHENTICATED' | 'PERMISSION_DENIED', refusal: Refusal): void {
    authRefusals.inc({ port, code: code.toLowerCase() });
    if (this.onRefused === undefined) return;
    const now = this.clock?.now() ?? performance.now();
    this.reports ??= new TokenBucket(REFUSAL_EVENTS_PER_SECOND, REFUSAL_EVENTS_BURST, now);
    if (!this.reports.take(1, now)) {
      this.unreported++;
      return;
    }
    const unreported = this.unreported;
    this.unreported = 0;
    this.onRefused(unreported > 0 ? { ...refusal, unreported } : refusal);
  }
}
