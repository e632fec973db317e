import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SHARD_COUNT, ownerOf, shardOf, shardsOf, targetKeyOf } from '../../src/cluster/shard-map.ts';

const S = DEFAULT_SHARD_COUNT;

describe('cluster shard map (rendezvous hashing)', () => {
  it('every shard has exactly one owner, and every member computes the same one', () => {
    const members = ['a', 'b', 'c'];
    const byMember = members.map((m) => shardsOf(m, members, S));
    for (let s = 0; s < S; s++) assert.equal(byMember.filter((set) => set.has(s)).length, 1, `shard ${s}`);
    // order of the member list does not matter
    for (let s = 0; s < S; s++) assert.equal(ownerOf(s, ['c', 'a', 'b']), ownerOf(s, members));
  });

  it('spreads shards evenly (each of 3 members within 25% of a third)', () => {
    const members = ['inst-1', 'inst-2', 'inst-3'];
    for (const m of members) {
      const n = shardsOf(m, members, S).size;
      assert.ok(Math.abs(n - S / 3) < (S / 3) * 0.25, `${m} owns ${n}`);
    }
  });

  it('when a member leaves, only its shards move; when it comes back, only they move back', () => {
    const three = ['a', 'b', 'c'];
    const two = ['a', 'c'];
    for (let s = 0; s < S; s++) {
      const before = ownerOf(s, three);
      const after = ownerOf(s, two);
      if (before !== 'b') assert.equal(after, before, `shard ${s} moved though its owner stayed`);
      else assert.ok(after === 'a' || after === 'c');
    }
  });

  it('a member not yet listed computes what it will own once it is', () => {
    assert.deepEqual(shardsOf('d', ['a', 'b'], S), shardsOf('d', ['a', 'b', 'd'], S));
  });

  it('targets spread over shards', () => {
    const counts = new Array<number>(S).fill(0);
    for (let a = 0; a < 100; a++) for (let p = 0; p < 100; p++) counts[shardOf(targetKeyOf(`u${a}`, `127.0.1.${a}:${20000 + p}`), S)]!++;
    const mean = 10_000 / S;
    assert.ok(Math.max(...counts) < mean * 1.8 && Math.min(...counts) > mean * 0.4, `${Math.min(...counts)}..${Math.max(...counts)}`);
  });
});
