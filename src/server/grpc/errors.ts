/**
 * The one place where checkups errors become gRPC statuses. Messages are written for the person
 * reading them at a terminal: what was wrong and, where it helps, what to do.
 */
import * as grpc from '@grpc/grpc-js';
import { CheckupsError, type CheckupsErrorCode } from '../../util/errors.ts';

const CODES: Record<CheckupsErrorCode, grpc.status> = {
  UNKNOWN_SKEY: grpc.status.NOT_FOUND,
  UNKNOWN_PEER: grpc.status.NOT_FOUND,
  NO_SERVERS_AVAILABLE: grpc.status.UNAVAILABLE,
  TRY_TIMEOUT_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  INVALID_CONFIG: grpc.status.INVALID_ARGUMENT,
  DATA_CORRUPT: grpc.status.INTERNAL,
  STORE_UNAVAILABLE: grpc.status.UNAVAILABLE,
};

export function serviceError(code: grpc.status, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: new grpc.Metadata() });
}

export function invalidArgument(errors: readonly string[]): grpc.ServiceError {
  const n = errors.length;
  return serviceError(grpc.status.INVALID_ARGUMENT, `${n} error${n === 1 ? '' : 's'}, nothing changed:\n  ${errors.join('\n  ')}`);
}

/** Maps anything a handler threw to a status; unexpected errors become INTERNAL with their message. */
export function toServiceError(err: unknown): grpc.ServiceError {
  if (err instanceof CheckupsError) return serviceError(CODES[err.code], err.message);
  if (typeof err === 'object' && err !== null && 'code' in err && 'details' in err) return err as grpc.ServiceError;
  return serviceError(grpc.status.INTERNAL, `internal error: ${err instanceof Error ? err.message : String(err)}`);
}
