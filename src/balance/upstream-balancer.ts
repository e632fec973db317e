/**
 * Per-upstream balancing state: one picker per cluster (smooth WRR or the hash ring, by mode)
 * and, per cluster, the mask of servers a pick must skip right now.
 *
 * Eligibility (docs/compat.md): a server is skipped when an operator set it down,
 * when its heartbeat status is err (only while heartbeat is on for the upstream), or when it
 * is passively excluded. `unstable` and never-probed servers stay eligible. Masks are rebuilt
 * when the upstream's version or the passive epoch changes, or when a passive exclusion ends,
 * so a pick itself reads one byte per server at most. When the view can say which peers changed
 * since the version last seen (the registry can), and the passive table which of its peers
 * changed since the epoch last seen, only their bits are recomputed: a health flip or a passive
 * exclusion costs O(clusters listing the peer), plus one copy of the affected masks.
 *
 * Slow start (wrr only): with the mask bit, each eligible server's ramp start is passed on to
 * the cluster's ramp (slow-start.ts) from the view, which says when the peer became usable; a
 * skipped server's ramp ends (the next time it is usable, the view has a new start). The hash
 * ring does not ramp: a peer back from err gets its keys back at once.
 */
import type { ClusterSpec, HeartbeatStatus, PassiveVerdict, PeerHealth, PeerId, UpstreamSpec } from '../core/model.ts';
import { distinctPeers, peerId } from '../core/model.ts';
import { ConsistentHashRing } from './chash.ts';
import { SkipMask, type Picker } from './mask.ts';
import type { PassiveHealth } from './passive.ts';
import { SlowStartRamp, slowStartOn } from './slow-start.ts';
import { SmoothWeightedRoundRobin } from './smooth-wrr.ts';

/** What balancing needs to know about one upstream; the registry and the SDK cache provide it. */
export interface UpstreamView {
  readonly spec: UpstreamSpec;
  /** Increases on every change of spec or health. */
  readonly version: number;
  /** Heartbeat on: heartbeat err excludes a server. Off: only passive state counts. */
  readonly heartbeat: boolean;
  health(id: PeerId): PeerHealth | undefined;
  /** A passive exclusion published by the server (or the cluster); the engine adopts it. */
  passive(id: PeerId): PassiveVerdict | undefined;
  /** Peers whose health or published passive verdict changed after `version`, or undefined when unknown (re-read everything). */
  peerChangesSince?(version: number): readonly PeerId[] | undefined;
  /**
   * Slow start: when the peer last became usable, on the engine's clock, while that may be within
   * the upstream's slow_start window (undefined: full weight). Changes only with a new version.
   */
  rampStart?(id: PeerId): number | undefined;
}

/** Where a peer sits: cluster index and server index. */
export interface PeerPosition {
  readonly cluster: number;
  readonly index: number;
}

export interface ClusterBalancer {
  readonly spec: ClusterSpec;
  readonly picker: Picker;
  readonly ids: readonly PeerId[];
  /** Servers to skip now; undefined until one was skipped. Changed in place (see mask.ts). */
  mask: SkipMask | undefined;
  /**
   * Each server's heartbeat status as the mask last read it ('unchecked' with heartbeat off), so
   * that a pick reports it without a lookup by peer id: at 10,000 servers that lookup was half
   * of selectPeer's cost, more while the picker steps instead of replaying.
   */
  readonly status: HeartbeatStatus[];
  /** Slow start of this cluster's servers (wrr with slow_start and 2+ servers only). */
  readonly ramp: SlowStartRamp | undefined;
}

export class UpstreamBalancer {
  readonly clusters: readonly ClusterBalancer[];
  /** Distinct peers of the upstream, for the passive last-usable-server guard. */
  readonly peers: readonly PeerId[];
  /** Every position of each peer, in cluster order then server order. */
  readonly positions: ReadonlyMap<PeerId, readonly PeerPosition[]>;
  private seenVersion = -1;
  private seenEpoch = -1;
  /** Earliest end of a passive exclusion among masked servers. */
  private nextExpiry = Infinity;

  constructor(readonly spec: UpstreamSpec) {
    this.clusters = spec.clusters.map((c) => {
      const ramp = spec.mode === 'wrr' && slowStartOn(spec.slowStart) && c.servers.length > 1 ? new SlowStartRamp(c.servers.length, spec.slowStart) : undefined;
      return {
        spec: c,
        picker: spec.mode === 'wrr' ? new SmoothWeightedRoundRobin(c.servers.map((s) => s.weight), ramp === undefined ? {} : { ramp }) : new ConsistentHashRing(c.servers),
        ids: c.servers.map((s) => peerId(s.host, s.port)),
        mask: undefined,
        status: c.servers.map((): HeartbeatStatus => 'unchecked'),
        ramp,
      };
    });
    this.peers = distinctPeers(spec).map((s) => peerId(s.host, s.port));
    const positions = new Map<PeerId, PeerPosition[]>();
    this.clusters.forEach((c, cluster) =>
      c.ids.forEach((id, index) => {
        let list = positions.get(id);
        if (list === undefined) positions.set(id, (list = []));
        list.push({ cluster, index });
      }),
    );
    this.positions = positions;
  }

  /** Brings the skip masks up to date; cheap when nothing changed. */
  refresh(view: UpstreamView, passive: PassiveHealth, now: number): void {
    if (view.version === this.seenVersion && passive.epoch === this.seenEpoch && now < this.nextExpiry) return;
    if (now < this.nextExpiry && this.seenVersion >= 0) {
      // Only what changed since: peers in the registry's log and in the passive table's log.
      const changed = view.version === this.seenVersion ? [] : view.peerChangesSince?.(this.seenVersion);
      const passiveChanged = passive.epoch === this.seenEpoch ? [] : passive.changedSince(this.seenEpoch);
      if (changed !== undefined && passiveChanged !== undefined) {
        this.seenVersion = view.version;
        this.seenEpoch = passive.epoch;
        this.apply(view, passive, now, changed);
        this.apply(view, passive, now, passiveChanged);
        return;
      }
    }
    this.seenVersion = view.version;
    this.seenEpoch = passive.epoch;
    this.nextExpiry = Infinity;
    for (const c of this.clusters) c.ids.forEach((id, i) => this.update(c, i, id, view, passive, now));
  }

  /** Recomputes the bits of `changed` peers only. */
  private apply(view: UpstreamView, passive: PassiveHealth, now: number, changed: readonly PeerId[]): void {
    for (const id of changed) {
      for (const { cluster, index } of this.positions.get(id) ?? []) this.update(this.clusters[cluster]!, index, id, view, passive, now);
    }
  }

  private update(c: ClusterBalancer, i: number, id: PeerId, view: UpstreamView, passive: PassiveHealth, now: number): void {
    const s = c.spec.servers[i]!;
    const status = view.heartbeat ? (view.health(id)?.status ?? 'unchecked') : 'unchecked';
    c.status[i] = status;
    let skip = s.down || status === 'err';
    if (!skip && passive.isDown(id, s.failTimeoutMs, now)) {
      skip = true;
      this.nextExpiry = Math.min(this.nextExpiry, passive.downUntil(id, s.failTimeoutMs));
    }
    if (skip) (c.mask ??= new SkipMask(c.spec.servers.length)).set(i);
    else c.mask?.clear(i);
    if (c.ramp === undefined) return;
    const at = skip ? undefined : view.rampStart?.(id);
    if (at === undefined) c.ramp.end(i);
    else c.ramp.begin(i, at);
  }
}
