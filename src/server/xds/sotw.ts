/**
 * State-of-the-world streams: ADS `StreamAggregatedResources` (what gRPC clients use) and the
 * per-type `Stream{Listeners,Routes,Clusters,Endpoints}`. Rules (docs/envoy.md):
 *
 * - A request answering anything but the latest nonce of its type is stale: ignored entirely
 *   (its subscription too; the client repeats it with its next ACK, as go-control-plane relies on).
 * - NACK is the presence of `error_detail`, nothing else (a NACK may carry the new version).
 *   It is recorded and never answered: the stream tracks what it sent, so the rejected version
 *   is not sent again; the next change goes out as usual.
 * - ACK or NACK of the latest nonce opens the type's gate (stream-base.ts): changes that came
 *   while the response was unacknowledged go out then, coalesced to their newest versions.
 * - What the client holds is tracked per name, so an ACK is quiet, a name added at an unchanged
 *   version is answered, `[A] -> [] -> [A]` resends A, a reconnect (fresh stream) gets everything
 *   and a name that does not exist yet is pushed when it appears.
 * - Listener and Cluster responses carry the full subscribed set; Route and Endpoint responses
 *   only what changed. During the `updates` phase a deleted Cluster stays in the full set (from
 *   its tombstone) until the `removals` phase, after the Listener that used it is gone.
 * - Size (response-size.ts): Route and Endpoint changes that do not fit in one response go in
 *   parts, each after the previous one's ACK; a full Listener or Cluster set goes whole, counted
 *   when over the limit.
 */
import type { CachedResource } from './cache.ts';
import type { DiscoveryRequest } from './envoy-types.ts';
import { fitCount } from './response-size.ts';
import { XdsStreamBase, type FlushPhase, type PlannedResponse, type TypeState } from './stream-base.ts';
import { isServedType, requiresFullState, type ResourceTypeUrl } from './type-urls.ts';
import { sotwResponse } from './wire.ts';

export class SotwStream extends XdsStreamBase<DiscoveryRequest> {
  protected onRequest(req: DiscoveryRequest, state: TypeState): void {
    if (req.response_nonce !== '' && state.lastNonce !== undefined && req.response_nonce !== state.lastNonce) return;
    const answersLatest = req.response_nonce !== '' && state.lastNonce !== undefined;
    if (answersLatest) {
      if (req.error_detail !== null) {
        this.recordNack(state.typeUrl, state.lastVersion ?? req.version_info, req.error_detail.code, req.error_detail.message);
      } else {
        this.ctx.status.recordAck(this.node, state.typeUrl, req.version_info);
      }
    } else if (req.error_detail !== null) {
      // A NACK of a response from an earlier stream (no nonce of ours): still worth recording.
      this.recordNack(state.typeUrl, req.version_info, req.error_detail.code, req.error_detail.message);
    }
    const wasWildcard = state.sub.wildcard;
    const { added, removed } = state.sub.applySotw(req.resource_names);
    // An ACK or NACK that keeps the subscription needs no answer: changes since are pushed by the hub.
    if (answersLatest && added.length === 0 && removed.length === 0 && wasWildcard === state.sub.wildcard) return;
    for (const name of removed) {
      // The client drops what it unsubscribed: a later resubscription must resend (go-cp #431).
      state.sent.delete(name);
      this.watch(state.typeUrl, name, false);
    }
    for (const name of added) this.watch(state.typeUrl, name, true);
    if (wasWildcard !== state.sub.wildcard) {
      this.setWildcard(state, state.sub.wildcard);
      if (!state.sub.wildcard) for (const name of [...state.sent.keys()]) if (!state.sub.names.has(name)) state.sent.delete(name);
    }
    if (isServedType(state.typeUrl)) this.answer(state.typeUrl);
  }

  protected planType(state: TypeState, typeUrl: ResourceTypeUrl, phase: FlushPhase): PlannedResponse | undefined {
    const { cache } = this.ctx;
    const full = requiresFullState(typeUrl);
    const out: CachedResource[] = [];
    const gone: string[] = [];
    let changed = false;
    for (const name of this.candidates(state, typeUrl)) {
      const res = cache.get(typeUrl, name);
      if (res !== undefined) {
        const fresh = state.sent.get(name) !== res.version;
        changed ||= fresh;
        if (fresh || full) out.push(res);
      } else if (state.sent.has(name)) {
        if (phase !== 'updates') gone.push(name);
        else if (full) {
          const grave = cache.tombstone(typeUrl, name);
          if (grave !== undefined && grave.version === state.sent.get(name)) out.push(grave);
        }
      }
    }
    // A first wildcard answer goes out even when empty: "there are none" is an answer, and
    // Envoy waits for its first LDS/CDS response before it starts.
    const firstWildcard = full && state.sub.wildcard && state.lastNonce === undefined;
    if (!changed && !(full && gone.length > 0) && !firstWildcard) {
      // Route and Endpoint deletions are not announced in SotW: the client just stops holding them.
      for (const name of gone) state.sent.delete(name);
      return undefined;
    }
    const version = cache.version(typeUrl);
    const { part, report } = this.sizePart(typeUrl, version, out, full);
    return {
      partial: part.length < out.length,
      send: () => {
        report?.();
        for (const name of gone) state.sent.delete(name);
        const entries = part.map((r) => r.sotwEntry);
        const key = () => `${phase}|${typeUrl}|${version}|${part.map((r) => `${r.name}@${r.version}`).join('|')}`;
        this.send(state, version, key, (nonce) => sotwResponse(version, typeUrl, nonce, entries));
        for (const r of part) state.sent.set(r.name, r.version);
      },
    };
  }

  /**
   * Each name this response may concern, once: the subscribed ones, those the client holds, and
   * (wildcard) every existing one. Without the wildcard the client holds subscribed names only
   * (onRequest forgets a name when it is unsubscribed, and every unsubscribed one when the
   * wildcard ends), so that is the subscription itself: no set built per stream per push.
   */
  private candidates(state: TypeState, typeUrl: ResourceTypeUrl): Iterable<string> {
    const { names, wildcard } = state.sub;
    if (!wildcard) return names;
    const all = new Set(names);
    for (const name of state.sent.keys()) all.add(name);
    for (const name of this.ctx.cache.names(typeUrl)) all.add(name);
    return all;
  }

  /**
   * What of `out` goes in this response: all of a full-state type, else the leading resources
   * that fit, at least one. `report` counts an oversized response once it is sent (a plan held
   * by the ACK gate is made again later).
   */
  private sizePart(typeUrl: ResourceTypeUrl, version: string, out: CachedResource[], full: boolean): { part: CachedResource[]; report?: () => void } {
    const { size } = this.ctx;
    const budget = size.sotwBudget(version, typeUrl);
    const sizes = out.map((r) => r.sotwEntry.length);
    if (full) {
      let total = 0;
      for (const n of sizes) total += n;
      if (total <= budget) return { part: out };
      return { part: out, report: () => size.fullStateOversized(typeUrl, version, size.maxBytes - budget + total, out.length) };
    }
    const n = fitCount(sizes, budget);
    const part = n === out.length ? out : out.slice(0, n);
    if (n > 1 || sizes[0]! <= budget) return { part };
    const alone = out[0]!;
    return { part, report: () => size.resourceOversized(typeUrl, alone.name, alone.version, size.maxBytes - budget + sizes[0]!) };
  }
}
