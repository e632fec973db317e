/**
 * The Redis key layout of a checkups cluster (docs/cluster.md, "Redis layout"), written once.
 *
 * Every key of cluster NAME starts with `checkups:{NAME}:`. The braces are a Redis Cluster hash
 * tag: all keys of one cluster live in one slot, so each Lua script may touch any of them. Two
 * clusters share one Redis by using two names (`--cluster`).
 *
 * The revision rule (shared by every script that changes what clients see, admin writes and
 * health verdicts alike; LUA_CLUSTER_LIB below is the one implementation):
 * 1. the script first checks `epoch` against the epoch the instance joined; a mismatch means
 *    Redis lost its data or belongs to another incarnation of the cluster, and nothing is
 *    written (the caller gets `EPOCH`);
 * 2. it INCRs `revision` and appends ONE entry to `changes` with stream id `<revision>-0`.
 * So the stream carries every revision exactly once, in order: revisions are contiguous, and a
 * reader holding revision R expects R+1 next. A gap means the entries were trimmed (MAXLEN), and
 * the reader loads a snapshot instead. Every instance applies entries in stream order and uses
 * the entry's revision as the version of what it changed, so versions agree across instances.
 */

/** Cluster names (`--cluster`): what may appear inside the hash tag. */
export const CLUSTER_NAME = /^[A-Za-z0-9_.-]{1,64}$/;
export const DEFAULT_CLUSTER_NAME = 'default';

export interface ClusterKeys {
  readonly prefix: string;
  /** String: the cluster-wide revision counter (INCR). */
  readonly revision: string;
  /** String: the cluster's epoch id, set when the cluster is created or seeded again. */
  readonly epoch: string;
  /** Stream: the change log, one entry per revision (stream-entry.ts). */
  readonly changes: string;
  /** Hash skey -> stored upstream JSON `{"origin":..,"upstream":doc|null}` (null: deleted). */
  readonly upstreams: string;
  /** Hash skey -> revision of the upstream's last admin or file change (the version check). */
  readonly versions: string;
  /**
   * Hash skey -> the revision an upstream had before Redis lost its data, for upstreams seeded
   * again from an instance's view; `written` once changed after that (docs/cluster.md).
   */
  readonly reseeded: string;
  /** Hash instance id -> JSON {hash, file, host, at}: each instance's config file, to spot differences. */
  readonly configs: string;
  /** Key prefix for per-instance keys (membership, 10b): `<prefix>instance:<id>`. */
  readonly instancePrefix: string;
  /** Key prefix for probe-shard leases (10b): `<prefix>lease:<shard>`. */
  readonly leasePrefix: string;
  /** Hash `<skey> <peer>` -> last published verdict (10b). */
  readonly verdicts: string;
}

export function clusterKeys(cluster: string): ClusterKeys {
  if (!CLUSTER_NAME.test(cluster)) throw new RangeError(`cluster name ${JSON.stringify(cluster.slice(0, 80))}: use letters, digits, _ . - (1..64)`);
  const prefix = `checkups:{${cluster}}:`;
  return {
    prefix,
    revision: `${prefix}revision`,
    epoch: `${prefix}epoch`,
    changes: `${prefix}changes`,
    upstreams: `${prefix}upstreams`,
    versions: `${prefix}versions`,
    reseeded: `${prefix}reseeded`,
    configs: `${prefix}configs`,
    instancePrefix: `${prefix}instance:`,
    leasePrefix: `${prefix}lease:`,
    verdicts: `${prefix}verdicts`,
  };
}

/** Stream id of the entry of revision `rev`. */
export const streamId = (rev: number): string => `${rev}-0`;

/** Entries kept in `changes` (XADD MAXLEN ~): older ones are read from a snapshot instead. */
export const DEFAULT_STREAM_MAXLEN = 10_000;

/**
 * Lua shared by every script that appends to the change stream: prepend it to the script body.
 *
 * `check_epoch(epoch_key, expected)` returns false when the cluster epoch is not `expected`.
 * `append_entry(revision_key, changes_key, maxlen, fields)` INCRs the revision, XADDs `fields`
 * (a flat list name, value, ...; `rev` is added) as entry `<rev>-0`, and returns the revision
 * as a decimal string (return it as a string: a Lua number reply would be cut to an integer
 * anyway, but strings keep every script's reply shape the same).
 */
export const LUA_CLUSTER_LIB = `
local function check_epoch(epoch_key, expected)
  return redis.call('GET', epoch_key) == expected
end
-- Revisions reach 2^50 (they start near the epoch time in microseconds); Lua numbers are
-- doubles, exact there, but tostring() keeps only 14 digits: format them with %.0f.
local function rev_string(n)
  return string.format('%.0f', n)
end
local function append_entry(revision_key, changes_key, maxlen, fields)
  local rev = rev_string(redis.call('INCR', revision_key))
  local args = {changes_key, 'MAXLEN', '~', maxlen, rev .. '-0', 'rev', rev}
  for i = 1, #fields do args[#args + 1] = fields[i] end
  redis.call('XADD', unpack(args))
  return rev
end
`;
