/**
 * One stream's subscription to one resource type: explicit names plus the wildcard, with the
 * legacy-wildcard rules of xds_protocol.rst (docs/envoy.md; go-control-plane
 * `pkg/server/stream/v3/subscription.go`). Wildcard exists for Listener and Cluster only.
 *
 * SotW: `[]` as the very first request means wildcard; `[*, A]` wildcard + A; `[A]` only A;
 * `[]` after any non-empty list means nothing.
 * Delta: a first request subscribing nothing means wildcard; `*` can be subscribed and
 * unsubscribed like a name; explicit names add to the wildcard.
 */
import { supportsWildcard } from './type-urls.ts';

export const WILDCARD = '*';

export interface SubscriptionDelta {
  readonly added: readonly string[];
  readonly removed: readonly string[];
}

const NO_CHANGE: SubscriptionDelta = { added: [], removed: [] };

export class Subscription {
  readonly names = new Set<string>();
  wildcard = false;
  /** Once a non-empty list (SotW) or any request (delta) was seen, `[]` no longer means wildcard. */
  private legacyAllowed = true;

  constructor(readonly typeUrl: string) {}

  /** Whether `name` is wanted, given whether it exists (wildcard covers existing names only). */
  wants(name: string, exists: boolean): boolean {
    return this.names.has(name) || (this.wildcard && exists);
  }

  /** Applies a SotW request's `resource_names` (the complete new set). */
  applySotw(resourceNames: readonly string[]): SubscriptionDelta {
    const canWildcard = supportsWildcard(this.typeUrl);
    if (resourceNames.length === 0 && this.legacyAllowed && canWildcard) {
      this.wildcard = true;
      return { added: [], removed: [] };
    }
    if (resourceNames.length > 0) this.legacyAllowed = false;
    if (this.sameAs(resourceNames, canWildcard)) return NO_CHANGE; // the common case: an ACK repeating its names
    const next = new Set(resourceNames);
    this.wildcard = canWildcard && next.delete(WILDCARD);
    const removed = [...this.names].filter((n) => !next.has(n));
    const added = [...next].filter((n) => !this.names.has(n));
    for (const n of removed) this.names.delete(n);
    for (const n of added) this.names.add(n);
    return { added, removed };
  }

  /** Whether a SotW list names exactly the current subscription (allocation-free). */
  private sameAs(resourceNames: readonly string[], canWildcard: boolean): boolean {
    let explicit = 0;
    let wildcard = false;
    for (const n of resourceNames) {
      if (n === WILDCARD && canWildcard) wildcard = true;
      else if (this.names.has(n)) explicit++;
      else return false;
    }
    return wildcard === this.wildcard && explicit === this.names.size;
  }

  /** Applies a delta request's subscribe/unsubscribe lists. */
  applyDelta(subscribe: readonly string[], unsubscribe: readonly string[]): SubscriptionDelta {
    const canWildcard = supportsWildcard(this.typeUrl);
    if (this.legacyAllowed && subscribe.length === 0 && canWildcard) this.wildcard = true;
    this.legacyAllowed = false;
    const added: string[] = [];
    const removed: string[] = [];
    for (const n of subscribe) {
      if (n === WILDCARD && canWildcard) {
        this.wildcard = true;
        continue;
      }
      // Re-subscribing a name already held asks for it again (docs/envoy.md), so it counts too.
      this.names.add(n);
      added.push(n);
    }
    for (const n of unsubscribe) {
      if (n === WILDCARD && canWildcard) this.wildcard = false;
      else if (this.names.delete(n)) removed.push(n);
    }
    return { added, removed };
  }
}
