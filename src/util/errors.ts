/**
 * One error class with stable codes (undici's lesson): callers branch on `code`, never on text.
 * The wire layer (src/wire/errors.ts) maps codes to gRPC statuses and back in one table, and
 * carries the code itself in a trailer, so the SDK tells them apart without reading messages.
 */
import { errorSummary } from './bounded-text.ts';

export type CheckupsErrorCode =
  /** No upstream by that name. */
  | 'UNKNOWN_SKEY'
  /** No such host:port in the upstream. */
  | 'UNKNOWN_PEER'
  /** No such level or named cluster in the upstream. */
  | 'UNKNOWN_CLUSTER'
  /** The upstream exists, but no peer is usable (every one down, failing or excluded). */
  | 'NO_SERVERS_AVAILABLE'
  /** readyOk spent its try_timeout budget. */
  | 'TRY_TIMEOUT_EXCEEDED'
  /** A config document (file or admin write) does not validate; `details` lists every problem. */
  | 'INVALID_CONFIG'
  /** A request argument is missing or out of range. */
  | 'INVALID_ARGUMENT'
  /** The change is valid but not in this state (removing a cluster's last server). */
  | 'FAILED_PRECONDITION'
  /** A call without a token, or with one the server does not know. */
  | 'UNAUTHENTICATED'
  /** A call with a known token whose role lacks the right (a read token calling Feedback). */
  | 'PERMISSION_DENIED'
  /** A caller reported more than its limits allow (feedback rate, failures per peer); nothing of that call was applied. */
  | 'RATE_LIMITED'
  /** No checkups server answered (connection refused, DNS, TLS, or it did not answer in time). */
  | 'SERVER_UNAVAILABLE'
  /** The call's deadline passed after the server was reached. */
  | 'TIMEOUT'
  /** Stored data does not read back. */
  | 'DATA_CORRUPT'
  /** The SDK holds no snapshot yet (await client.ready()). */
  | 'NOT_SYNCED'
  /** The store cannot take writes now (Redis unreachable, lost its data, ...): nothing was changed, retry later. */
  | 'STORE_UNAVAILABLE'
  /** Other instances kept changing the upstream while this write was being made: nothing was changed, retry. */
  | 'WRITE_CONFLICT'
  /** The client was closed. */
  | 'CLOSED'
  /** Anything else the server or client did not expect. */
  | 'INTERNAL';

export class CheckupsError extends Error {
  override readonly name = 'CheckupsError';
  constructor(
    readonly code: CheckupsErrorCode,
    message: string,
    /** For INVALID_CONFIG: every problem found, each `path: rule`. */
    readonly details: readonly string[] = [],
    options?: CheckupsErrorOptions,
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }

  /** When the server says when to try again (a refused stream's place in line), in ms from now. */
  readonly retryAfterMs: number | undefined;
}

export interface CheckupsErrorOptions extends ErrorOptions {
  readonly retryAfterMs?: number;
}

/**
 * Builds an error without capturing a stack: for errors made in bulk that only travel (a
 * status to a client), such as refusals during a reconnect storm, where capturing the stack
 * cost more than the rest of the refusal.
 */
export function withoutStack<E extends Error>(make: () => E): E {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return make();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/** The message of INVALID_CONFIG for a list of problems. */
export function invalidConfig(errors: readonly string[], what = 'nothing changed'): CheckupsError {
  return new CheckupsError('INVALID_CONFIG', errorSummary(errors, what), errors);
}
