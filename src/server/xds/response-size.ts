/**
 * Keeping xDS responses under the clients' receive limit, `server.max_response_bytes` (default
 * 4 MiB: grpc-js and C-core refuse larger messages, and a refused message fails the whole ADS
 * stream). What may be split follows from what a response means (docs/envoy.md "Message size"):
 *
 * - Delta, any type: a response carries some of the changed resources and removed names; the
 *   rest goes in further responses.
 * - SotW Route and Endpoint responses carry only what changed (a resource left out is not
 *   deleted), so they split the same way.
 * - SotW Listener and Cluster responses must carry every subscribed resource (one left out means
 *   deleted): they cannot be split. One over the limit is still sent (Envoy's limit is
 *   configurable and often larger), but counted and logged once per version.
 * - A single resource larger than the limit goes alone, counted and logged once per version.
 *
 * Parts of a split push go one after the other, each after the client's ACK of the previous one
 * (stream-base.ts): the ACK gate already holds "what is left" as "this type is dirty", so a split
 * adds no queue, and a client that stops ACKing gets one part.
 */
import { xdsOversized, xdsResponseParts, xdsTypeLabel } from '../../observability/metrics.ts';
import { clip } from '../../util/bounded-text.ts';
import { shortName } from './type-urls.ts';
import { deltaResponse, sotwResponse } from './wire.ts';

/** Nonces are `s<n>` or `b<flush>.<i>` with n, flush, i below 2^53 (stream-base.ts): at most 34 characters. */
export const MAX_NONCE_CHARS = 34;
const LONGEST_NONCE = 'n'.repeat(MAX_NONCE_CHARS);
/** Below this a response could not even hold its own type URL and version. */
export const MIN_XDS_RESPONSE_BYTES = 1024;
/** Resource names as logged. */
const MAX_LOGGED_NAME_CHARS = 256;

export type OversizeReason = 'full_state' | 'resource';

interface Budget {
  readonly version: string;
  readonly bytes: number;
}

/**
 * How many of `sizes`, from the first, fit in `budget` bytes together; at least one, so an item
 * larger than the budget goes alone rather than never.
 */
export function fitCount(sizes: readonly number[], budget: number): number {
  let used = 0;
  let n = 0;
  for (const size of sizes) {
    if (n > 0 && used + size > budget) break;
    used += size;
    n++;
  }
  return n;
}

export class ResponseSizeLimit {
  /** `reason|type` -> the last version logged: at most 2 reasons x 4 types entries. */
  private readonly logged = new Map<string, string>();
  /** Per variant, type URL -> the budget at the type's latest version (served types only: 4 each). */
  private readonly budgets = { sotw: new Map<string, Budget>(), delta: new Map<string, Budget>() };
  private oversizedCount = 0;
  private partCount = 0;

  constructor(
    readonly maxBytes: number,
    private readonly warn: (detail: object, msg: string) => void,
  ) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < MIN_XDS_RESPONSE_BYTES) {
      throw new RangeError(`xDS max response bytes must be an integer of at least ${MIN_XDS_RESPONSE_BYTES}, not ${maxBytes}`);
    }
  }

  /** Bytes left for resources in a SotW response of `typeUrl` at `version`. */
  sotwBudget(version: string, typeUrl: string): number {
    return this.budget('sotw', version, typeUrl);
  }

  /** Bytes left for resources and removed names in a delta response of `typeUrl` at `version`. */
  deltaBudget(version: string, typeUrl: string): number {
    return this.budget('delta', version, typeUrl);
  }

  /** Every stream plans at the same few versions: the header is measured once per version. */
  private budget(variant: 'sotw' | 'delta', version: string, typeUrl: string): number {
    const known = this.budgets[variant].get(typeUrl);
    if (known?.version === version) return known.bytes;
    const header = variant === 'sotw' ? sotwResponse(version, typeUrl, LONGEST_NONCE, []) : deltaResponse(version, typeUrl, LONGEST_NONCE, [], []);
    const bytes = this.maxBytes - header.length;
    this.budgets[variant].set(typeUrl, { version, bytes });
    return bytes;
  }

  /** Responses sent over the limit (a whole SotW Listener/Cluster set, or one resource alone). */
  get oversized(): number {
    return this.oversizedCount;
  }

  /** Responses that carried part of what was due, the rest following after their ACK. */
  get parts(): number {
    return this.partCount;
  }

  partSent(typeUrl: string): void {
    this.partCount++;
    xdsResponseParts.inc({ type: xdsTypeLabel(typeUrl) });
  }

  /** A SotW Listener or Cluster response over the limit, sent whole because it must be. */
  fullStateOversized(typeUrl: string, version: string, bytes: number, resources: number): void {
    this.count('full_state', typeUrl);
    if (!this.firstFor('full_state', typeUrl, version)) return;
    this.warn(
      { type: shortName(typeUrl), version, bytes, resources, limit: this.maxBytes },
      `xds: a state-of-the-world ${shortName(typeUrl)} response must carry every subscribed resource and cannot be split; this one is over server.max_response_bytes and went out anyway, so clients with a smaller receive limit (4 MiB in grpc-js and C-core) will reject it. Subscribe fewer names per stream, use delta xDS (split as needed), or raise the client's receive limit`,
    );
  }

  /** One resource (or removed name) over the limit on its own, sent alone. */
  resourceOversized(typeUrl: string, name: string, version: string, bytes: number): void {
    this.count('resource', typeUrl);
    if (!this.firstFor('resource', typeUrl, version)) return;
    this.warn(
      { type: shortName(typeUrl), name: clip(name, MAX_LOGGED_NAME_CHARS), version, bytes, limit: this.maxBytes },
      `xds: one ${shortName(typeUrl)} resource alone is over server.max_response_bytes; it went out alone, and clients with a smaller receive limit (4 MiB in grpc-js and C-core) will reject it. Give the upstream fewer servers (split it, or use named clusters) or raise the client's receive limit`,
    );
  }

  private count(reason: OversizeReason, typeUrl: string): void {
    this.oversizedCount++;
    xdsOversized.inc({ type: xdsTypeLabel(typeUrl), reason });
  }

  /** Whether this is the first report of `reason` for this type version (every stream gets the same response). */
  private firstFor(reason: OversizeReason, typeUrl: string, version: string): boolean {
    const key = `${reason}|${xdsTypeLabel(typeUrl)}`;
    if (this.logged.get(key) === version) return false;
    this.logged.set(key, version);
    return true;
  }
}
