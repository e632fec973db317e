import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_SHARD_COUNT, ownerOf, shardOf, shardOwners, shardsOf, targetKeyOf } from '../../src/cluster/shard-map.ts';

const S = DEFAULT_SHARD_COUNT;

describe('cluster shard map (rendezvous hashing with bounded loads)', () => {
  it('every shard has exactly one owner, and every member computes the same one', () => {
    const members = ['a', 'b', 'c'];
    const byMember = members.map((m) => shardsOf(m, members, S));
    for (let s = 0; s < S; s++) assert.equal(byMember.filter((set) => set.has(s)).length, 1, `shard ${s}`);
    // order of the member list does not matter
    for (let s = 0; s < S; s++) assert.equal(ownerOf(s, ['c', 'a', 'b'], S), ownerOf(s, members, S));
  });

  it('spreads shards evenly: shares differ by at most one shard, whatever the member count', () => {
    for (const n of [1, 2, 3, 5, 7, 10, 30, 100]) {
      const members = Array.from({ length: n }, (_, i) => `inst-${i + 1}`);
      const sizes = members.map((m) => shardsOf(m, members, S).size);
      assert.equal(sizes.reduce((a, b) => a + b, 0), S, `${n} members: every shard owned once`);
      assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `${n} members: ${Math.min(...sizes)}..${Math.max(...sizes)}`);
    }
  });

  it('when a member leaves, its shards move and only a few others change hands; when it comes back, they move back', () => {
    for (const n of [2, 3, 5, 10, 30]) {
      const all = Array.from({ length: n }, (_, i) => `inst-${i + 1}`);
      for (const gone of all) {
        const rest = all.filter((m) => m !== gone);
        const beforeAll = shardOwners(all, S);
        const afterAll = shardOwners(rest, S);
        let others = 0;
        for (let s = 0; s < S; s++) {
          const before = beforeAll[s];
          const after = afterAll[s];
          assert.notEqual(after, gone);
          if (before !== gone && after !== before) others++;
        }
        // Plain rendezvous moves none of them, but leaves shares uneven; evening them out costs a few.
        assert.ok(others <= S * 0.07, `${n} members, ${gone} left: ${others} other shards moved`);
        assert.deepEqual(shardOwners([...rest, gone], S), beforeAll, 'back as before');
      }
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
