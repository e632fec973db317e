/**
 * The rules for how the server protects itself, applied once to the merged settings, whatever
 * their source (config file, environment, command-line flags): TLS is all or nothing, a token
 * is long enough not to be guessed, each role has its own token, and `discovery_auth: required`
 * has a token to require. `checkups serve` refuses to start otherwise.
 *
 * Also the one rule for when the read and feedback rights need a token (`readProtected`), per
 * listening port: see docs/security.md.
 */
import { isIP } from 'node:net';
import type { DiscoveryAuthMode } from '../core/model.ts';
import { CheckupsError } from '../util/errors.ts';

/** Shortest token accepted: 16 characters (a random one of that length is beyond guessing). */
export const MIN_TOKEN_LENGTH = 16;

export interface SecurityInput {
  readonly adminToken?: string | undefined;
  readonly readToken?: string | undefined;
  readonly feedbackToken?: string | undefined;
  readonly discoveryAuth?: DiscoveryAuthMode | undefined;
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
  readonly discoveryAuth: DiscoveryAuthMode;
  readonly tls: TlsFiles | undefined;
}

/** True for an address only this host can reach (127.0.0.0/8, ::1, localhost). */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * Whether the read and feedback rights need a token on a port listening on `host`. `auto`
 * (the default): yes beyond loopback when some token is configured (the admin token too: it
 * implies both rights); on loopback only this host's processes reach the port.
 */
export function readProtected(security: ServerSecurity, host: string): boolean {
  switch (security.discoveryAuth) {
    case 'off':
      return false;
    case 'required':
      return true;
    case 'auto':
      return !isLoopbackHost(host) && (security.adminToken !== undefined || security.readToken !== undefined || security.feedbackToken !== undefined);
  }
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
  // One token for two roles would give every holder the higher right.
  const given = Object.entries(tokens).filter((e): e is [string, string] => e[1] !== undefined);
  for (let i = 0; i < given.length; i++) {
    for (let j = i + 1; j < given.length; j++) {
      if (given[i]![1] === given[j]![1]) errors.push(`${given[j]![0]} token: is the same as the ${given[i]![0]} token; each role needs its own token (a shared one gives every holder the higher right)`);
    }
  }
  const discoveryAuth = input.discoveryAuth ?? 'auto';
  if (discoveryAuth === 'required' && given.length === 0) {
    errors.push('discovery_auth: required needs a token to require: set read_token, feedback_token or admin_token (or CHECKUPS_READ_TOKEN, CHECKUPS_FEEDBACK_TOKEN, CHECKUPS_ADMIN_TOKEN)');
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
    discoveryAuth,
    tls: cert !== undefined && key !== undefined ? { certFile: cert, keyFile: key, ...(ca !== undefined ? { clientCaFile: ca } : {}) } : undefined,
  };
}
