/**
 * CheckupsError <-> gRPC status, both ways, in one table. The server sends the stable code in
 * the `checkups-error-code` trailer (and INVALID_CONFIG's problem list in
 * `checkups-error-details-bin`, UTF-8 JSON), so a client tells NO_SERVERS_AVAILABLE (the server
 * answered: no usable peer) from SERVER_UNAVAILABLE (nothing answered) although both are
 * UNAVAILABLE, without reading message text. Statuses without the trailer come from the
 * transport (or a proxy) and are classified by status code and channel state.
 */
import * as grpc from '@grpc/grpc-js';
import { boundedList, clip, MAX_DETAILS_CHARS } from '../util/bounded-text.ts';
import { CheckupsError, withoutStack, type CheckupsErrorCode } from '../util/errors.ts';

export const ERROR_CODE_KEY = 'checkups-error-code';
export const ERROR_DETAILS_KEY = 'checkups-error-details-bin';
/**
 * gRPC's own trailer for "retry after this many ms" (the retry design, A6): a refused stream's
 * place in line. grpc-js honours it for calls with a retry policy; the SDK for its Watch stream.
 */
export const PUSHBACK_KEY = 'grpc-retry-pushback-ms';

/** At most this many problem lines travel in the details trailer (the message says how many there were). */
const MAX_DETAILS = 100;

const STATUS_OF: Record<CheckupsErrorCode, grpc.status> = {
  UNKNOWN_SKEY: grpc.status.NOT_FOUND,
  UNKNOWN_PEER: grpc.status.NOT_FOUND,
  UNKNOWN_CLUSTER: grpc.status.NOT_FOUND,
  NO_SERVERS_AVAILABLE: grpc.status.UNAVAILABLE,
  TRY_TIMEOUT_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  INVALID_CONFIG: grpc.status.INVALID_ARGUMENT,
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  RATE_LIMITED: grpc.status.RESOURCE_EXHAUSTED,
  SERVER_UNAVAILABLE: grpc.status.UNAVAILABLE,
  TIMEOUT: grpc.status.DEADLINE_EXCEEDED,
  DATA_CORRUPT: grpc.status.INTERNAL,
  NOT_SYNCED: grpc.status.FAILED_PRECONDITION,
  STORE_UNAVAILABLE: grpc.status.UNAVAILABLE,
  WRITE_CONFLICT: grpc.status.ABORTED,
  CLOSED: grpc.status.CANCELLED,
  INTERNAL: grpc.status.INTERNAL,
};

const isCode = (v: unknown): v is CheckupsErrorCode => typeof v === 'string' && Object.hasOwn(STATUS_OF, v);

/** A handler's failure as the status the client receives (unexpected errors become INTERNAL). */
export function errorToWire(err: unknown): grpc.ServiceError {
  const e = err instanceof CheckupsError ? err : new CheckupsError('INTERNAL', `internal error: ${err instanceof Error ? err.message : String(err)}`);
  const metadata = new grpc.Metadata();
  metadata.set(ERROR_CODE_KEY, e.code);
  // Trailers over ~64 KB are never delivered (the call hangs): both the message and the
  // problem list are bounded, however much of the request they echo.
  if (e.details.length > 0) metadata.set(ERROR_DETAILS_KEY, Buffer.from(JSON.stringify(boundedList(e.details, MAX_DETAILS)), 'utf8'));
  if (e.retryAfterMs !== undefined) metadata.set(PUSHBACK_KEY, String(Math.max(0, Math.ceil(e.retryAfterMs))));
  const details = clip(e.message, MAX_DETAILS_CHARS);
  // The client gets code, details and trailers; a stack of this function would go nowhere.
  return Object.assign(withoutStack(() => new Error(details)), { code: STATUS_OF[e.code], details, metadata });
}

/** Codes for statuses that carry no trailer: the transport's own, or a proxy's. */
function transportCode(err: grpc.ServiceError, connected: boolean): CheckupsErrorCode {
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
      return 'SERVER_UNAVAILABLE';
    case grpc.status.DEADLINE_EXCEEDED:
      // Still not connected when the deadline passed: nothing answered at the address.
      return connected ? 'TIMEOUT' : 'SERVER_UNAVAILABLE';
    case grpc.status.UNAUTHENTICATED:
      return 'UNAUTHENTICATED';
    case grpc.status.PERMISSION_DENIED:
      return 'PERMISSION_DENIED';
    case grpc.status.CANCELLED:
      return 'CLOSED';
    case grpc.status.NOT_FOUND:
      return 'UNKNOWN_SKEY';
    case grpc.status.INVALID_ARGUMENT:
      return 'INVALID_ARGUMENT';
    case grpc.status.FAILED_PRECONDITION:
      return 'FAILED_PRECONDITION';
    default:
      return 'INTERNAL';
  }
}

function detailsOf(metadata: grpc.Metadata | undefined): string[] {
  const raw = metadata?.get(ERROR_DETAILS_KEY)[0];
  if (!Buffer.isBuffer(raw)) return [];
  try {
    const list: unknown = JSON.parse(raw.toString('utf8'));
    return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}

/** The server's pushback on a failed call in ms (undefined without one, or one that does not parse). */
export function pushbackMs(metadata: grpc.Metadata | undefined): number | undefined {
  const raw = metadata?.get(PUSHBACK_KEY)[0];
  if (typeof raw !== 'string' || !/^\d{1,9}$/.test(raw)) return undefined;
  return Number(raw);
}

/**
 * A failed call as a CheckupsError. `connected`: whether the channel had reached the server
 * (READY) when the call failed; `target` names it in transport errors.
 */
export function errorFromWire(err: grpc.ServiceError, target: string, connected: boolean): CheckupsError {
  const sent = err.metadata?.get(ERROR_CODE_KEY)[0];
  if (isCode(sent)) {
    const retryAfterMs = pushbackMs(err.metadata);
    return new CheckupsError(sent, err.details, detailsOf(err.metadata), { cause: err, ...(retryAfterMs !== undefined ? { retryAfterMs } : {}) });
  }
  const code = transportCode(err, connected);
  const message = code === 'SERVER_UNAVAILABLE' ? `cannot reach checkups at ${target}: ${err.details}` : `${grpc.status[err.code] ?? `status ${err.code}`} from ${target}: ${err.details}`;
  return new CheckupsError(code, message, [], { cause: err });
}
