/**
 * The consistent-hash key of a request, by mode (docs/compat.md). For gRPC
 * callers the request path, peer address and `x-hash-key` metadata stand in for nginx's
 * `$uri`, `$remote_addr` and `X-Hash-Key` header.
 */
import type { BalanceMode } from '../core/model.ts';

export interface RequestAttributes {
  /** Request path without the query (url_hash; fallback of hash and header_hash). */
  readonly path?: string;
  /** Client address (ip_hash). */
  readonly clientIp?: string;
  /** Value of the `x-hash-key` header/metadata (header_hash). */
  readonly headerHashKey?: string;
}

/** A missing key hashes as "" (every such request goes to one server) instead of crashing as the original does. */
export function hashKeyFor(mode: BalanceMode, hashKey: string | undefined, req: RequestAttributes | undefined): string {
  switch (mode) {
    case 'wrr':
      return '';
    case 'hash':
      return hashKey ?? req?.path ?? '';
    case 'url_hash':
      return req?.path ?? '';
    case 'ip_hash':
      return req?.clientIp ?? '';
    case 'header_hash':
      return req?.headerHashKey ?? req?.path ?? '';
  }
}
