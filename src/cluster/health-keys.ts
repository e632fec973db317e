/**
 * Redis keys of membership, probe ownership and shared verdicts (docs/cluster.md, "Redis
 * layout"). They live under the cluster's prefix (`clusterKeys(NAME)` of
 * core/store/redis-keys.ts, which also checks the name and names the keys shared with admin
 * writes), so one hash tag holds every key of a cluster and each script may touch any of them.
 */
import type { ClusterKeys } from '../core/store/redis-keys.ts';

export interface ClusterHealthKeys {
  /** String: the cluster-wide revision counter, INCRed by every entry (shared with admin writes). */
  readonly revision: string;
  /** Stream: the change stream, one entry per revision (shared with admin writes). */
  readonly changes: string;
  /** String: the cluster epoch (shared with admin writes): scripts that append check it. */
  readonly epoch: string;
  /** Sorted set instance id -> expiry (Redis time, ms): the live members. */
  readonly members: string;
  /** Per instance: `<prefix>instance:<id>` -> JSON about it, expiring with its membership. */
  readonly instancePrefix: string;
  /** Per shard: `<prefix>lease:<shard>` -> "<instance> <epoch>", expiring unless renewed. */
  readonly leasePrefix: string;
  /** String: the fencing counter; every lease acquisition takes the next value as its epoch. */
  readonly fence: string;
  /** Hash `<skey>\n<peer>` -> last published heartbeat verdict (JSON). */
  readonly verdicts: string;
  /** Hash skey -> revision of the last verdict entry that named it. */
  readonly touched: string;
  /** Hash `<skey>\n<peer>` -> "<failures> <window start ms>": the fleet-wide passive window. */
  readonly passiveWindows: string;
  /** Hash `<skey>\n<peer>` -> JSON {until, failed}: current passive exclusions. */
  readonly passive: string;
  /** Per upstream: `<prefix>ejected:<skey>` sorted set peer -> exclusion end (ms), for the ejection cap. */
  readonly ejectedPrefix: string;
}

export function clusterHealthKeys(base: ClusterKeys): ClusterHealthKeys {
  const { prefix } = base;
  return {
    revision: base.revision,
    changes: base.changes,
    epoch: base.epoch,
    members: `${prefix}members`,
    instancePrefix: base.instancePrefix,
    leasePrefix: base.leasePrefix,
    fence: `${prefix}fence`,
    verdicts: base.verdicts,
    touched: `${prefix}touched`,
    passiveWindows: `${prefix}passive-windows`,
    passive: `${prefix}passive`,
    ejectedPrefix: `${prefix}ejected:`,
  };
}

/** Hash field of one peer of one upstream. */
export const peerField = (skey: string, peer: string): string => `${skey}\n${peer}`;
