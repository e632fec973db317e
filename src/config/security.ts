/**
 * The rules for how the server protects itself, applied once to the merged settings, whatever
 * their source (config file, environment, command-line flags): TLS is all or nothing, and a
 * token is long enough not to be guessed. `checkups serve` refuses to start otherwise.
 */
import { CheckupsError } from '../util/errors.ts';

/** Shortest token accepted: 16 characters (a random one of that length is beyond guessing). */
export const MIN_TOKEN_LENGTH = 16;

export interface SecurityInput {
  readonly adminToken?: string | undefined;
  readonly readToken?: string | undefined;
  readonly feedbackToken?: string | undefined;
  readonly tlsCert?: string | undefined;
  readonly tlsKey?: string | undefined;
  readonly tlsClientCa?: string | undefined;
}

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** CA bundle for client certificates: when set, clients must present one (mTLS). */
  readonly clientCaFile?: string;
}

export interface ServerSecurity {
  /** Tokens per role; an empty string counts as unset. */
  readonly adminToken: string | undefined;
  readonly readToken: string | undefined;
  readonly feedbackToken: string | undefined;
  readonly tls: TlsFiles | undefined;
}

const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** Checks and normalises the security settings; throws INVALID_CONFIG listing every problem. */
export function serverSecurity(input: SecurityInput): ServerSecurity {
  const errors: string[] = [];
  const tokens = { admin: set(input.adminToken), read: set(input.readToken), feedback: set(input.feedbackToken) };
  for (const [role, token] of Object.entries(tokens)) {
    if (token !== undefined && token.length < MIN_TOKEN_LENGTH) {
      errors.push(`${role} token: must be at least ${MIN_TOKEN_LENGTH} characters (got ${token.length}); generate one with \`openssl rand -hex 24\``);
    }
  }
  const cert = set(input.tlsCert);
  const key = set(input.tlsKey);
  const ca = set(input.tlsClientCa);
  if (cert !== undefined && key === undefined) errors.push('tls_key: is missing; tls_cert and tls_key go together (without both the server would speak plaintext)');
  if (key !== undefined && cert === undefined) errors.push('tls_cert: is missing; tls_cert and tls_key go together (without both the server would speak plaintext)');
  if (ca !== undefined && (cert === undefined || key === undefined)) errors.push('tls_client_ca: needs tls_cert and tls_key (client certificates are only asked for over TLS)');
  if (errors.length > 0) throw new CheckupsError('INVALID_CONFIG', `insecure server settings, not started:\n  ${errors.join('\n  ')}`, errors);
  return {
    adminToken: tokens.admin,
    readToken: tokens.read,
    feedbackToken: tokens.feedback,
    tls: cert !== undefined && key !== undefined ? { certFile: cert, keyFile: key, ...(ca !== undefined ? { clientCaFile: ca } : {}) } : undefined,
  };
}
