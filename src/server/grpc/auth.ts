/**
 * Admin authentication: `authorization: Bearer <token>` metadata, compared in constant time
 * (both sides hashed first, so neither the length nor a prefix leaks). Without a configured
 * token the admin service is open; the process refuses to listen beyond loopback like that
 * unless told to (see main.ts).
 *
 * `check` also says who is calling (for the audit trail): the credential's name, the client
 * certificate subject under mTLS, and the peer address. Every refusal is reported to
 * `onRefused` before the call fails.
 */
import * as grpc from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Actor } from '../../observability/events.ts';
import { CheckupsError } from '../../util/errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/** The name the single configured admin token goes by in the audit trail. */
export const ADMIN_TOKEN_NAME = 'admin-token';

/** What `check` needs of a call (every grpc-js server call has it). */
export interface AuthenticatedCall {
  readonly metadata: grpc.Metadata;
  getPeer(): string;
  getPath(): string;
  getAuthContext(): ReturnType<grpc.ServerUnaryCall<unknown, unknown>['getAuthContext']>;
}

export type RefusalListener = (refusal: { method: string; actor: Actor; reason: string }) => void;

function certSubject(call: AuthenticatedCall): string | undefined {
  const subject = call.getAuthContext().sslPeerCertificate?.subject as Record<string, string | string[]> | undefined;
  if (subject === undefined || Object.keys(subject).length === 0) return undefined;
  return Object.entries(subject)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join('+') : v}`)
    .join(',');
}

export class AdminAuth {
  private readonly expected: Buffer | undefined;
  /** Set by the server: where refusals go (the event trail). */
  onRefused: RefusalListener | undefined;

  constructor(token: string | undefined) {
    this.expected = token === undefined || token === '' ? undefined : digest(token);
  }

  get required(): boolean {
    return this.expected !== undefined;
  }

  /** Throws UNAUTHENTICATED unless the metadata carries the right token (or none is configured); returns the caller. */
  check(call: AuthenticatedCall): Actor {
    const subject = certSubject(call);
    const who = (name: string): Actor => ({ name, address: call.getPeer(), ...(subject !== undefined ? { certSubject: subject } : {}) });
    if (this.expected === undefined) return who(subject !== undefined ? 'client-cert' : 'anonymous');
    const refuse = (reason: string, details: string): never => {
      this.onRefused?.({ method: call.getPath(), actor: who('anonymous'), reason });
      throw new CheckupsError('UNAUTHENTICATED', details);
    };
    const header = call.metadata.get('authorization')[0];
    if (typeof header !== 'string' || !/^Bearer\s+\S/i.test(header)) {
      return refuse('no bearer token', "admin calls need metadata 'authorization: Bearer <token>' (the token is in the server's config or CHECKUPS_ADMIN_TOKEN)");
    }
    const given = digest(header.replace(/^Bearer\s+/i, '').trim());
    if (!timingSafeEqual(given, this.expected)) return refuse('token rejected', 'admin token rejected');
    return who(ADMIN_TOKEN_NAME);
  }
}
