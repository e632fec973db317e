/**
 * Which instance probes which target (docs/cluster.md, "Probe ownership"). Pure: no I/O, no time.
 *
 * - A target (one peer of one upstream, with that upstream's probe) falls into one of a fixed
 *   number of shards by a hash of its key. Shards, not targets, are leased: a lease renewal
 *   costs one Redis call per instance whatever the number of targets.
 * - Shards go to live instances by rendezvous hashing with bounded loads: every (shard, member)
 *   pair has a score hash(member, shard); pairs are taken from the highest score down, a shard
 *   going to the first member that still has room, and members fill up to floor(shards / members)
 *   before any takes one more. Plain rendezvous (each shard to its best-scoring member) leaves
 *   shares uneven: with 256 shards and 3 members one instance held 38% and another 27%, and the
 *   busiest one sets how many instances a fleet needs. Bounded, the shares differ by at most one
 *   shard. Every instance computes the same answer from the same member list; when a member
 *   joins or leaves, the shards it gains or loses move, plus a few that change hands so the
 *   shares stay even (the unit tests bound them).
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

/** The last assignment computed: instances ask again every renewal with the same members. */
let lastAssignment: { key: string; owners: readonly string[] } | undefined;

/** The owner of every shard (index = shard) among `members`, which must not be empty. */
export function shardOwners(members: readonly string[], shardCount: number): readonly string[] {
  const sorted = [...new Set(members)].sort();
  const key = `${shardCount}\n${sorted.join('\n')}`;
  if (lastAssignment?.key === key) return lastAssignment.owners;
  const pairs: Array<{ score: number; member: string; shard: number }> = [];
  for (const member of sorted) for (let shard = 0; shard < shardCount; shard++) pairs.push({ score: score(member, shard), member, shard });
  // Highest score first; ties (hash collisions) by member, then shard, so every instance agrees.
  pairs.sort((a, b) => b.score - a.score || (a.member < b.member ? -1 : a.member > b.member ? 1 : 0) || a.shard - b.shard);
  // Two passes over the same order: first every member up to floor(shards / members), then the
  // few shards left, one more each at most, so shares differ by at most one shard.
  const owners = new Array<string>(shardCount);
  const held = new Map(sorted.map((m) => [m, 0]));
  const floor = Math.floor(shardCount / sorted.length);
  let left = shardCount;
  for (const cap of [floor, floor + 1]) {
    for (const p of pairs) {
      if (left === 0) break;
      if (owners[p.shard] !== undefined || held.get(p.member)! >= cap) continue;
      owners[p.shard] = p.member;
      held.set(p.member, held.get(p.member)! + 1);
      left--;
    }
  }
  lastAssignment = { key, owners };
  return owners;
}

/** The owner of `shard` among `members` (undefined when there are none). */
export function ownerOf(shard: number, members: readonly string[], shardCount: number): string | undefined {
  return members.length === 0 ? undefined : shardOwners(members, shardCount)[shard];
}

/** The shards `member` should own when `members` are alive (member need not be among them). */
export function shardsOf(member: string, members: readonly string[], shardCount: number): Set<number> {
  const owners = shardOwners(members.includes(member) ? members : [...members, member], shardCount);
  const mine = new Set<number>();
  owners.forEach((m, s) => {
    if (m === member) mine.add(s);
  });
  return mine;
}
