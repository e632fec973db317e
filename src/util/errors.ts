/**
 * One error class with stable codes (undici's lesson): callers branch on `code`, never on text.
 * The gRPC layer maps codes to status codes in one place.
 */
export type CheckupsErrorCode =
  | 'UNKNOWN_SKEY'
  | 'UNKNOWN_PEER'
  | 'NO_SERVERS_AVAILABLE'
  | 'TRY_TIMEOUT_EXCEEDED'
  | 'INVALID_CONFIG'
  | 'DATA_CORRUPT'
  /** The store cannot take writes now (Redis unreachable, lost its data, ...): retry later. */
  | 'STORE_UNAVAILABLE';

export class CheckupsError extends Error {
  override readonly name = 'CheckupsError';
  constructor(
    readonly code: CheckupsErrorCode,
    message: string,
    /** For INVALID_CONFIG: every problem found, each `path: rule`. */
    readonly details: readonly string[] = [],
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
