/**
 * The one place where checkups errors become gRPC statuses. Messages are written for the person
 * reading them at a terminal: what was wrong and, where it helps, what to do.
 */
import * as grpc from '@grpc/grpc-js';
import { clip, errorSummary, MAX_DETAILS_CHARS } from '../../util/bounded-text.ts';
import { CheckupsError, type CheckupsErrorCode } from '../../util/errors.ts';

const CODES: Record<CheckupsErrorCode, grpc.status> = {
  UNKNOWN_SKEY: grpc.status.NOT_FOUND,
  UNKNOWN_PEER: grpc.status.NOT_FOUND,
  NO_SERVERS_AVAILABLE: grpc.status.UNAVAILABLE,
  TRY_TIMEOUT_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  INVALID_CONFIG: grpc.status.INVALID_ARGUMENT,
  DATA_CORRUPT: grpc.status.INTERNAL,
};

/** A status with its message capped (MAX_DETAILS_CHARS): an oversized trailer would hang the call. */
export function serviceError(code: grpc.status, message: string): grpc.ServiceError {
  const details = clip(message, MAX_DETAILS_CHARS);
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export function invalidArgument(errors: readonly string[]): grpc.ServiceError {
  return serviceError(grpc.status.INVALID_ARGUMENT, errorSummary(errors, 'nothing changed'));
}

/** Maps anything a handler threw to a status; unexpected errors become INTERNAL with their message. */
export function toServiceError(err: unknown): grpc.ServiceError {
  if (err instanceof CheckupsError) return serviceError(CODES[err.code], err.message);
  if (typeof err === 'object' && err !== null && 'code' in err && 'details' in err) {
    const e = err as grpc.ServiceError;
    return e.details.length <= MAX_DETAILS_CHARS ? e : serviceError(e.code, e.details);
  }
  return serviceError(grpc.status.INTERNAL, `internal error: ${err instanceof Error ? err.message : String(err)}`);
}
