/**
 * Which servers of one cluster a pick must skip. Updated once per health change (not per pick),
 * so pickers read a byte per server instead of calling back into health state.
 *
 * A mask is changed in place (the balancer flips one bit per health change) and says what
 * changed: `generation` counts bit changes and a short journal keeps the last indices, so a
 * picker holding derived state (smooth WRR's heaps, its replay) catches up in O(changes) instead
 * of diffing n bytes. A clone (a retry's "already failed here" mask) knows its origin, so moving
 * between the two is O(changes) as well.
 */

/** Bit changes remembered per mask. */
const JOURNAL_SIZE = 32;

export class SkipMask {
  readonly skip: Uint8Array;
  /** Number of set entries; equal to the server count means nothing can be picked. */
  count = 0;
  /** Bit changes so far: state derived from this mask is current while this is unchanged. */
  generation = 0;
  /** The mask this one was cloned from, and that mask's generation at the time. */
  origin: SkipMask | undefined;
  originGeneration = 0;
  private readonly journal = new Int32Array(JOURNAL_SIZE);

  constructor(size: number) {
    this.skip = new Uint8Array(size);
  }

  set(i: number): void {
    if (this.skip[i] === 0) {
      this.skip[i] = 1;
      this.count++;
      this.logged(i);
    }
  }

  clear(i: number): void {
    if (this.skip[i] !== 0) {
      this.skip[i] = 0;
      this.count--;
      this.logged(i);
    }
  }

  clone(): SkipMask {
    const m = new SkipMask(this.skip.length);
    m.skip.set(this.skip);
    m.count = this.count;
    m.origin = this;
    m.originGeneration = this.generation;
    return m;
  }

  /**
   * Indices whose bit may differ between `from` as it was at generation `fromGeneration` and
   * this mask now, when that is known cheaply; undefined means "compare every index".
   * `from` undefined stands for "nothing skipped".
   */
  changesSince(from: SkipMask | undefined, fromGeneration: number): number[] | undefined {
    if (from === this) return this.since(fromGeneration);
    if (from === undefined) return this.origin === undefined ? this.since(0) : undefined;
    if (this.origin === from && from.generation === fromGeneration && this.originGeneration === fromGeneration) return this.since(0);
    if (from.origin === this && from.originGeneration === this.generation && from.generation === fromGeneration) return from.since(0);
    return undefined;
  }

  private since(generation: number): number[] | undefined {
    const n = this.generation - generation;
    if (n < 0 || n > JOURNAL_SIZE) return undefined;
    const out: number[] = [];
    for (let g = generation; g < this.generation; g++) out.push(this.journal[g % JOURNAL_SIZE]!);
    return out;
  }

  private logged(i: number): void {
    this.journal[this.generation % JOURNAL_SIZE] = i;
    this.generation++;
  }
}

/** A balancing policy over one cluster's servers (by index). Pure: no I/O, no clock (time is passed in). */
export interface Picker {
  /**
   * Index of the chosen server, or -1 when every server is skipped. `now` is the engine's clock,
   * read by slow start (smooth WRR built with a ramp) and ignored otherwise.
   */
  pick(mask: SkipMask | undefined, key: string, now: number): number;
  /** Called after a failed attempt on server `i` (smooth WRR halves its effective weight). */
  penalize(i: number): void;
}
