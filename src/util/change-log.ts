/**
 * Which keys changed at which sequence number, for readers that hold an older number and want
 * to update only what changed since: O(changes) instead of O(everything) (a mass failure is
 * 1,000 changes in an upstream of 10,000 peers). Sequence numbers never go down; several changes
 * may share one.
 *
 * Bounded: it keeps the last `capacity` changes, and a reader further behind is told to read
 * everything (`since` gives undefined). Its memory grows with the changes up to that bound, not
 * with the number of logs: a registry of 10,000 quiet upstreams holds 10,000 empty logs.
 */
export class ChangeLog<K> {
  private readonly seqs: number[] = [];
  private readonly keys: K[] = [];
  /** Where the next change goes once the log is full (the oldest slot). */
  private next = 0;
  /** Newest sequence number no longer held (or the floor): complete only for readers at or after it. */
  private dropped: number;

  /** `floor`: readers holding an older number must read everything. */
  constructor(
    private readonly capacity: number,
    floor = 0,
  ) {
    this.dropped = floor;
  }

  record(seq: number, key: K): void {
    if (this.seqs.length < this.capacity) {
      this.seqs.push(seq);
      this.keys.push(key);
      return;
    }
    this.dropped = this.seqs[this.next]!;
    this.seqs[this.next] = seq;
    this.keys[this.next] = key;
    this.next = (this.next + 1) % this.capacity;
  }

  /** Keys changed after `seq`, oldest first, possibly repeated; undefined when the log does not reach back to `seq`. */
  since(seq: number): K[] | undefined {
    if (seq < this.dropped) return undefined;
    const out: K[] = [];
    const n = this.seqs.length;
    // Newest first: the slot before `next` (in a log not yet full, `next` is 0: the last one).
    for (let k = 1; k <= n; k++) {
      const slot = (this.next - k + n) % n;
      if (this.seqs[slot]! <= seq) break;
      out.push(this.keys[slot]!);
    }
    return out.reverse();
  }

  /** Forgets every change; readers holding a number before `floor` must read everything. */
  clear(floor: number): void {
    this.seqs.length = 0;
    this.keys.length = 0;
    this.next = 0;
    this.dropped = floor;
  }
}
