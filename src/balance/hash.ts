/**
 * 53-bit string hash (cyrb53 by bryc, public domain): two 32-bit multiply-xorshift lanes with
 * murmur3-style finalisers. Good avalanche, no allocation, fast on short keys; 53 bits keep
 * ring positions collision-free in practice and exact in a double.
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** Upper bound (exclusive) of hash53. */
export const HASH53_RANGE = 2 ** 53;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * The `index`-th 32-bit point derived from a hash53 value, for placing many points per server.
 * Seeding hash53 itself is not enough: its seed is XORed with the first character, so
 * ("a:1", seed 3) and ("b:1", seed 0) collide. Mixing the whole hash with the index cannot.
 */
export function derivedPoint(h53: number, index: number): number {
  const lo = h53 >>> 0;
  const hi = Math.floor(h53 / 4294967296);
  const h = fmix32(lo ^ Math.imul(index + 1, 0x9e3779b1));
  return fmix32(h ^ Math.imul(hi + index, 0x85ebca77));
}
