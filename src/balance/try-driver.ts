/**
 * The retry loop of ready_ok (docs/compat.md), kept exact:
 *
 *   for each cluster: pick; call; classify; record the outcome (passive); on failure penalise
 *   the pick (smooth WRR halves the server's effective weight) and skip the server in this
 *   cluster for the rest of the call; stop at the first success; after a failure, the try limit
 *   is checked first, then the time budget (only time spent in failed attempts counts).
 *   No eligible server left in a cluster: fall through to the next one.
 *
 * Additions: a cluster's own `try` caps failed attempts in it before falling through, and each
 * attempt gets an AbortSignal that fires when the remaining budget runs out or the caller
 * aborts (advisory: as in the original, a late success still counts).
 */
import type { Clock } from '../util/clock.ts';
import { CheckupsError } from '../util/errors.ts';
import type { Classifier } from './classify.ts';
import { SkipMask } from './mask.ts';
import type { SelectedPeer } from './peer.ts';
import type { ClusterBalancer } from './upstream-balancer.ts';

export interface AttemptInfo {
  /** 0 for the first attempt of the call. */
  readonly attempt: number;
  /** Fires when the call's try_timeout budget runs out during this attempt, or the caller aborts. */
  readonly signal: AbortSignal | undefined;
}

export interface TryPlan<T> {
  readonly skey: string;
  readonly clock: Clock;
  readonly clusters: readonly ClusterBalancer[];
  readonly key: string;
  readonly tryLimit: number;
  readonly tryTimeoutMs: number;
  readonly classify: Classifier;
  readonly signal?: AbortSignal;
  /** Brings skip masks up to date (health may change while attempts run). */
  refresh(): void;
  peer(c: ClusterBalancer, i: number): SelectedPeer;
  outcome(c: ClusterBalancer, i: number, failed: boolean): void;
  attempt(peer: SelectedPeer, info: AttemptInfo): Promise<T> | T;
}

type Settled<T> = { ok: true; value: T } | { ok: false; value: T | undefined; error: unknown; threw: boolean; budgetRanOut: boolean };

export async function runTries<T>(plan: TryPlan<T>): Promise<T> {
  const { clock } = plan;
  let tries = 0;
  let spent = 0;
  let last: Settled<T> | undefined;
  for (const c of plan.clusters) {
    const failedHere: number[] = [];
    let failuresInCluster = 0;
    const clusterTry = c.spec.try === undefined ? Infinity : Math.max(1, c.spec.try);
    for (;;) {
      plan.signal?.throwIfAborted();
      plan.refresh();
      const i = c.picker.pick(withFailed(c.mask, failedHere, c.spec.servers.length), plan.key, clock.now());
      if (i < 0) break;
      const started = clock.now();
      const result = await settle(plan, c, i, tries, plan.tryTimeoutMs > 0 ? plan.tryTimeoutMs - spent : 0);
      const took = clock.now() - started;
      last = result;
      plan.outcome(c, i, !result.ok);
      if (result.ok) return result.value;
      c.picker.penalize(i);
      failedHere.push(i);
      tries++;
      failuresInCluster++;
      if (tries >= plan.tryLimit) {
        if (result.threw) throw result.error;
        return result.value as T;
      }
      // A budget timer may fire a fraction of a millisecond early by the monotonic clock.
      spent = result.budgetRanOut ? Math.max(spent + took, plan.tryTimeoutMs) : spent + took;
      if (plan.tryTimeoutMs > 0 && spent >= plan.tryTimeoutMs) {
        throw new CheckupsError('TRY_TIMEOUT_EXCEEDED', `try_timeout exceeded in upstream ${plan.skey} after ${tries} failed attempts (${Math.round(spent)} ms)`, [], {
          cause: lastError(last),
        });
      }
      if (failuresInCluster >= clusterTry) break;
    }
  }
  throw new CheckupsError('NO_SERVERS_AVAILABLE', `no servers available in upstream ${plan.skey}`, [], { cause: lastError(last) });
}

async function settle<T>(plan: TryPlan<T>, c: ClusterBalancer, i: number, attempt: number, budgetMs: number): Promise<Settled<T>> {
  let budget: AbortController | undefined;
  let timer: { cancel(): void } | undefined;
  if (budgetMs > 0) {
    const ctl = (budget = new AbortController());
    timer = plan.clock.setTimer(budgetMs, () => ctl.abort(new CheckupsError('TRY_TIMEOUT_EXCEEDED', `try_timeout of upstream ${plan.skey} ran out`)));
  }
  const signal = budget === undefined ? plan.signal : plan.signal === undefined ? budget.signal : AbortSignal.any([plan.signal, budget.signal]);
  try {
    const value = await plan.attempt(plan.peer(c, i), { attempt, signal });
    return plan.classify(value) ? { ok: true, value } : { ok: false, value, error: undefined, threw: false, budgetRanOut: budget?.signal.aborted ?? false };
  } catch (error) {
    return { ok: false, value: undefined, error, threw: true, budgetRanOut: budget?.signal.aborted ?? false };
  } finally {
    timer?.cancel();
  }
}

function withFailed(mask: SkipMask | undefined, failed: readonly number[], size: number): SkipMask | undefined {
  if (failed.length === 0) return mask;
  const m = mask === undefined ? new SkipMask(size) : mask.clone();
  for (const i of failed) m.set(i);
  return m;
}

function lastError<T>(last: Settled<T> | undefined): unknown {
  if (last === undefined || last.ok) return undefined;
  return last.threw ? last.error : last.value;
}
