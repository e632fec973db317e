/**
 * Which instance probes which target (docs/cluster.md, "Probe ownership"). Pure: no I/O, no time.
 *
 * - A target (one peer of one upstream, with that upstream's probe) falls into one of a fixed
 *   number of shards by a hash of its key. Shards, not targets, are leased: a lease renewal
 *   costs one Redis call per instance whatever the number of targets.
 * - A shard belongs to the live instance with the highest rendezvous score hash(instance, shard)
 *   (highest random weight). Every instance computes the same answer from the same member list,
 *   and when an instance joins or leaves only the shards it gains or loses move (about 1/n).
 */
import { hash53 } from '../balance/hash.ts';

/** Shards per cluster: enough to spread over tens of instances evenly, few enough to lease in one call. */
export const DEFAULT_SHARD_COUNT = 256;

/** The shard of a target key (see targetKeyOf). */
export function shardOf(targetKey: string, shardCount: number): number {
  return hash53(targetKey) % shardCount;
}

/** The key a target is sharded by: the upstream (its probe settings) and the peer. */
export function targetKeyOf(skey: string, peer: string): string {
  return `${skey}\n${peer}`;
}

/** Rendezvous score of `member` for `shard`. */
function score(member: string, shard: number): number {
  return hash53(`${member}/${shard}`);
}

/** The owner of `shard` among `members` (undefined when there are none). Ties go to the smaller id. */
export function ownerOf(shard: number, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestScore = -1;
  for (const m of members) {
    const s = score(m, shard);
    if (s > bestScore || (s === bestScore && best !== undefined && m < best)) {
      best = m;
      bestScore = s;
    }
  }
  return best;
}

/** The shards `member` should own when `members` are alive (member need not be among them). */
export function shardsOf(member: string, members: readonly string[], shardCount: number): Set<number> {
  const all = members.includes(member) ? members : [...members, member];
  const mine = new Set<number>();
  for (let s = 0; s < shardCount; s++) if (ownerOf(s, all) === member) mine.add(s);
  return mine;
}
