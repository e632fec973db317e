/**
 * The CLI's exit codes, documented in docs/cli.md and `checkups --help`: scripts tell "not
 * found", "refused" and "unreachable" apart without reading messages. Every error code of the
 * SDK maps to one (exhaustive: a new code does not compile until it has one).
 */
import type { CheckupsErrorCode } from '../util/errors.ts';

export const EXIT = {
  /** Done (a --dry-run included, whether or not it would change anything). */
  ok: 0,
  /** The server answered no for another reason (no usable peer, a precondition, an internal error). */
  failed: 1,
  /** Bad usage or invalid input (flags, operands, an input file that does not validate): nothing was sent or changed. */
  usage: 2,
  /** The upstream, peer or cluster named does not exist. */
  notFound: 3,
  /** Refused: the admin token is missing or wrong. */
  refused: 4,
  /** Unreachable: no checkups server answered in time (connection, DNS, TLS, deadline). */
  unreachable: 5,
} as const;

const BY_CODE: Record<CheckupsErrorCode, number> = {
  UNKNOWN_SKEY: EXIT.notFound,
  UNKNOWN_PEER: EXIT.notFound,
  UNKNOWN_CLUSTER: EXIT.notFound,
  NO_SERVERS_AVAILABLE: EXIT.failed,
  TRY_TIMEOUT_EXCEEDED: EXIT.failed,
  INVALID_CONFIG: EXIT.usage,
  INVALID_ARGUMENT: EXIT.usage,
  FAILED_PRECONDITION: EXIT.failed,
  UNAUTHENTICATED: EXIT.refused,
  SERVER_UNAVAILABLE: EXIT.unreachable,
  TIMEOUT: EXIT.unreachable,
  DATA_CORRUPT: EXIT.failed,
  NOT_SYNCED: EXIT.unreachable,
  // The server answered: it cannot take the write now (retry later), or others kept changing the upstream (retry).
  STORE_UNAVAILABLE: EXIT.failed,
  WRITE_CONFLICT: EXIT.failed,
  CLOSED: EXIT.failed,
  INTERNAL: EXIT.failed,
};

export function exitCodeOf(code: CheckupsErrorCode): number {
  return BY_CODE[code];
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  done (also a --dry-run)
  1  the server said no for another reason (no usable peer, last server of a cluster, store
     unavailable or a write conflict: retry, internal)
  2  bad usage or invalid input: nothing was sent or changed
  3  not found: no such upstream, peer or cluster
  4  refused: admin token missing or wrong
  5  unreachable: no checkups server answered in time`;
