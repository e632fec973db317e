/**
 * Incremental (delta) streams: ADS `DeltaAggregatedResources` and the per-type
 * `Delta{Listeners,Routes,Clusters,Endpoints}` (docs/envoy.md; what Envoy can use).
 *
 * - Every response carries only what changed, for any type, plus `removed_resources`.
 * - A subscribed name that does not exist is reported in `removed_resources` at once, and
 *   pushed when it appears. Names the client holds but we deleted are reported removed too.
 * - Subscription changes count even on a stale nonce (unlike SotW); ACK/NACK status is taken
 *   from answers to the latest nonce only. NACK = `error_detail` present; never answered.
 * - One unacknowledged response per type (stream-base.ts): what changes meanwhile, and answers
 *   to subscription changes, go out once the latest nonce is ACKed or NACKed.
 * - Reconnect: `initial_resource_versions` says what the client holds; only differences go out.
 * - Re-subscribing a held name resends it; unsubscribing a name still covered by the wildcard
 *   resends it too (the spec's exception), otherwise an unsubscribe needs no answer.
 * - Size (response-size.ts): changes and removals that do not fit in one response go in parts,
 *   resources first, each part after the previous one's ACK.
 */
import type { CachedResource } from './cache.ts';
import type { DeltaDiscoveryRequest } from './envoy-types.ts';
import { fitCount } from './response-size.ts';
import { XdsStreamBase, type FlushPhase, type PlannedResponse, type TypeState } from './stream-base.ts';
import { isServedType, type ResourceTypeUrl } from './type-urls.ts';
import { deltaResponse, removedNameBytes } from './wire.ts';

/** `sent` marker: the client was told this subscribed name does not exist. */
const ABSENT = '\u0000absent';

export class DeltaStream extends XdsStreamBase<DeltaDiscoveryRequest> {
  protected onRequest(req: DeltaDiscoveryRequest, state: TypeState, isNew: boolean): void {
    if (req.response_nonce !== '' && req.response_nonce === state.lastNonce) {
      const version = state.lastVersion ?? '';
      if (req.error_detail !== null) this.recordNack(state.typeUrl, version, req.error_detail.code, req.error_detail.message);
      else this.ctx.status.recordAck(this.node, state.typeUrl, version);
    }
    const exists = (name: string) => isServedType(state.typeUrl) && this.ctx.cache.get(state.typeUrl, name) !== undefined;
    const wasWildcard = state.sub.wildcard;
    const { added, removed } = state.sub.applyDelta(req.resource_names_subscribe, req.resource_names_unsubscribe);
    for (const name of added) {
      state.sent.delete(name);
      this.watch(state.typeUrl, name, true);
    }
    for (const name of removed) {
      this.watch(state.typeUrl, name, false);
      state.sent.delete(name); // still wildcard-matched: it goes out again below
    }
    if (wasWildcard !== state.sub.wildcard) {
      this.setWildcard(state, state.sub.wildcard);
      if (!state.sub.wildcard) for (const name of [...state.sent.keys()]) if (!state.sub.names.has(name)) state.sent.delete(name);
    }
    if (isNew) {
      // After the subscriptions, so names the client resumes with are not resent needlessly.
      for (const [name, version] of Object.entries(req.initial_resource_versions ?? {})) {
        if (state.sub.wants(name, exists(name))) state.sent.set(name, version);
      }
    }
    if (isServedType(state.typeUrl)) this.answer(state.typeUrl);
  }

  protected planType(state: TypeState, typeUrl: ResourceTypeUrl, phase: FlushPhase): PlannedResponse | undefined {
    const { cache } = this.ctx;
    const candidates = new Set(state.sub.names);
    for (const name of state.sent.keys()) candidates.add(name);
    if (state.sub.wildcard) for (const name of cache.names(typeUrl)) candidates.add(name);
    const out: CachedResource[] = [];
    const removed: string[] = [];
    for (const name of candidates) {
      const res = cache.get(typeUrl, name);
      const held = state.sent.get(name);
      if (res !== undefined) {
        if (!state.sub.wants(name, true)) state.sent.delete(name);
        else if (held !== res.version) out.push(res);
      } else if (held === undefined ? state.sub.names.has(name) : held !== ABSENT && phase !== 'updates') {
        removed.push(name);
      }
    }
    // As in SotW, the first answer to a wildcard subscription goes out even when empty.
    const firstWildcard = state.sub.wildcard && state.lastNonce === undefined;
    if (out.length === 0 && removed.length === 0 && !firstWildcard) return undefined;
    const version = cache.version(typeUrl);
    // Resources first, then removed names, as many as fit (at least one item).
    const budget = this.ctx.size.deltaBudget(version, typeUrl);
    const sizes = out.map((r) => cache.deltaEntry(r).length);
    for (const name of removed) sizes.push(removedNameBytes(name));
    const n = fitCount(sizes, budget);
    const partOut = n >= out.length ? out : out.slice(0, n);
    const partRemoved = n <= out.length ? [] : n === sizes.length ? removed : removed.slice(0, n - out.length);
    const alone = n === 1 && sizes[0]! > budget ? (out[0]?.name ?? removed[0]!) : undefined;
    return {
      partial: n < sizes.length,
      send: () => {
        if (alone !== undefined) this.ctx.size.resourceOversized(typeUrl, alone, out[0]?.version ?? version, this.ctx.size.maxBytes - budget + sizes[0]!);
        for (const name of partRemoved) {
          if (state.sub.names.has(name)) state.sent.set(name, ABSENT);
          else state.sent.delete(name);
        }
        const entries = partOut.map((r) => cache.deltaEntry(r));
        const key = () => `${phase}|${typeUrl}|${version}|${partOut.map((r) => `${r.name}@${r.version}`).join('|')}|-${partRemoved.join('|')}`;
        this.send(state, version, key, (nonce) => deltaResponse(version, typeUrl, nonce, entries, partRemoved));
        for (const r of partOut) state.sent.set(r.name, r.version);
      },
    };
  }
}
