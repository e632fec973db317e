/**
 * Which servers of one cluster a pick must skip. Built once per health change (not per pick),
 * so pickers read a byte per server instead of calling back into health state.
 */
export class SkipMask {
  readonly skip: Uint8Array;
  /** Number of set entries; equal to the server count means nothing can be picked. */
  count = 0;

  constructor(size: number) {
    this.skip = new Uint8Array(size);
  }

  set(i: number): void {
    if (this.skip[i] === 0) {
      this.skip[i] = 1;
      this.count++;
    }
  }

  clear(i: number): void {
    if (this.skip[i] !== 0) {
      this.skip[i] = 0;
      this.count--;
    }
  }

  clone(): SkipMask {
    const m = new SkipMask(this.skip.length);
    m.skip.set(this.skip);
    m.count = this.count;
    return m;
  }
}

/** A balancing policy over one cluster's servers (by index). Pure: no I/O, no clock. */
export interface Picker {
  /** Index of the chosen server, or -1 when every server is skipped. */
  pick(mask: SkipMask | undefined, key: string): number;
  /** Called after a failed attempt on server `i` (smooth WRR halves its effective weight). */
  penalize(i: number): void;
}
