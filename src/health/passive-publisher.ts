/**
 * Publishes passive (max_fails) exclusions so that everything reading the registry acts on them:
 * Watch snapshots (and through them the SDK's local picks), SelectPeer, GetStatus, `/status` and
 * xDS EDS (UNHEALTHY). An exclusion is lifted again, as its own change, when it ends.
 *
 * The engine decides (its accounting, lua-resty-checkups' rules plus the ejection cap); this only
 * makes the decision visible. In a cluster the cluster's publisher takes this one's place and
 * writes the verdict to the shared change stream instead (docs/cluster.md).
 */
import type { PassiveVerdict, PeerId } from '../core/model.ts';
import type { UpstreamRegistry } from '../core/registry.ts';
import type { Clock, Timer } from '../util/clock.ts';

export interface PassiveVerdictPublisher {
  publish(skey: string, id: PeerId, verdict: PassiveVerdict): void;
  close(): void;
}

const key = (skey: string, id: PeerId) => `${skey}\n${id}`;

/** One instance: verdicts go straight into the registry; a timer lifts each when it ends. */
export class LocalPassivePublisher implements PassiveVerdictPublisher {
  /** At most one per excluded peer (bounded by the ejection cap of each upstream). */
  private readonly lifts = new Map<string, Timer>();

  constructor(
    private readonly registry: UpstreamRegistry,
    private readonly clock: Clock,
  ) {}

  publish(skey: string, id: PeerId, verdict: PassiveVerdict): void {
    if (!this.registry.setPassive(skey, id, verdict)) return;
    const k = key(skey, id);
    this.lifts.get(k)?.cancel();
    this.lifts.set(
      k,
      this.clock.setTimer(Math.max(0, verdict.untilWall - this.clock.wallNow()), () => {
        this.lifts.delete(k);
        if (this.registry.upstream(skey)?.passive(id)?.untilWall === verdict.untilWall) this.registry.setPassive(skey, id, undefined);
      }),
    );
  }

  close(): void {
    for (const t of this.lifts.values()) t.cancel();
    this.lifts.clear();
  }
}
