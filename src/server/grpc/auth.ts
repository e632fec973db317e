/**
 * Admin authentication: `authorization: Bearer <token>` metadata, compared in constant time
 * (both sides hashed first, so neither the length nor a prefix leaks). Without a configured
 * token the admin service is open; the process refuses to listen beyond loopback like that
 * unless told to (see main.ts).
 */
import * as grpc from '@grpc/grpc-js';
import { createHash, timingSafeEqual } from 'node:crypto';
import { CheckupsError } from '../../util/errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export class AdminAuth {
  private readonly expected: Buffer | undefined;

  constructor(token: string | undefined) {
    this.expected = token === undefined || token === '' ? undefined : digest(token);
  }

  get required(): boolean {
    return this.expected !== undefined;
  }

  /** Throws UNAUTHENTICATED unless the metadata carries the right token (or none is configured). */
  check(metadata: grpc.Metadata): void {
    if (this.expected === undefined) return;
    const header = metadata.get('authorization')[0];
    if (typeof header !== 'string' || !/^Bearer\s+\S/i.test(header)) {
      throw new CheckupsError('UNAUTHENTICATED', "admin calls need metadata 'authorization: Bearer <token>' (the token is in the server's config or CHECKUPS_ADMIN_TOKEN)");
    }
    const given = digest(header.replace(/^Bearer\s+/i, '').trim());
    if (!timingSafeEqual(given, this.expected)) throw new CheckupsError('UNAUTHENTICATED', 'admin token rejected');
  }
}
