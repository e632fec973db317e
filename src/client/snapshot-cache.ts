/**
 * The SDK's local copy of upstreams, built from Watch snapshots. It is an UpstreamSource, so the
 * SelectionEngine of src/balance picks from it exactly as the server picks from its registry.
 *
 * A snapshot whose configuration is unchanged keeps the previous spec object: the engine then
 * keeps its round-robin and passive state and only refreshes health (the server does the same).
 *
 * Slow start: a snapshot says how long ago each ramping peer became usable, by the server's
 * clock; the cache turns that into a time on the SDK's own clock when the message arrives, so
 * local picks ramp from the moment the server's do (less the transit time).
 */
import type { UpstreamView } from '../balance/upstream-balancer.ts';
import type { PassiveVerdict, PeerHealth, PeerId, UpstreamSpec } from '../core/model.ts';
import type { UpstreamSnapshot__Output } from '../generated/checkups/v1/UpstreamSnapshot.ts';
import type { WatchResponse__Output } from '../generated/checkups/v1/WatchResponse.ts';
import { snapshotFromWire, type ClockPair, type DecodedSnapshot } from '../wire/upstream.ts';

/**
 * The clock pair of one Watch message: the server's reading it carries and the local clock at
 * its arrival (undefined from a server that sends no clock: then nothing ramps locally).
 */
export function watchClocks(m: Pick<WatchResponse__Output, 'serverClockMs' | '_serverClockMs'>, localNow: number): ClockPair | undefined {
  return m._serverClockMs === 'serverClockMs' ? { server: m.serverClockMs!, local: localNow } : undefined;
}

class CachedUpstream implements UpstreamView {
  // Copied out of the snapshot: picks read them on every call.
  readonly spec: UpstreamSpec;
  readonly version: number;
  readonly heartbeat: boolean;

  constructor(readonly snapshot: DecodedSnapshot) {
    this.spec = snapshot.spec;
    this.version = snapshot.version;
    this.heartbeat = snapshot.heartbeat;
  }

  health(id: PeerId): PeerHealth | undefined {
    return this.snapshot.health.get(id);
  }

  passive(id: PeerId): PassiveVerdict | undefined {
    return this.snapshot.passive.get(id);
  }

  rampStart(id: PeerId): number | undefined {
    return this.snapshot.rampStarts.get(id);
  }
}

export class SnapshotCache {
  private readonly upstreams = new Map<string, CachedUpstream>();

  upstream(skey: string): UpstreamView | undefined {
    return this.upstreams.get(skey);
  }

  /** The decoded snapshot held for `skey`. */
  snapshot(skey: string): DecodedSnapshot | undefined {
    return this.upstreams.get(skey)?.snapshot;
  }

  has(skey: string): boolean {
    return this.upstreams.has(skey);
  }

  get size(): number {
    return this.upstreams.size;
  }

  skeys(): IterableIterator<string> {
    return this.upstreams.keys();
  }

  /** skey -> version held, for resuming a Watch without a full resend. */
  versions(): Record<string, number> {
    return Object.fromEntries([...this.upstreams].map(([k, u]) => [k, u.snapshot.version]));
  }

  /**
   * Applies one snapshot; returns it decoded, or undefined when older than what is held. Throws
   * if it does not decode. `clocks`: the Watch message's server clock and the local clock at
   * its arrival (without them, no peer ramps).
   */
  apply(s: UpstreamSnapshot__Output, clocks?: ClockPair): DecodedSnapshot | undefined {
    const held = this.upstreams.get(s.skey)?.snapshot;
    if (held !== undefined && held.version >= s.version) return undefined;
    const decoded = snapshotFromWire(s, held, clocks);
    this.upstreams.set(s.skey, new CachedUpstream(decoded));
    return decoded;
  }

  remove(skey: string): boolean {
    return this.upstreams.delete(skey);
  }
}
