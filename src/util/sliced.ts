/**
 * Work over many items in slices of the event loop. A push to 10,000 streams written in one go
 * held the loop for hundreds of ms, and nothing of it left the process meanwhile: Node's HTTP/2
 * sends what streams wrote only after the running callback returns. So the first client got
 * its message when the last one was written. In slices, each slice's messages go out while the
 * next is written, and calls that came in meanwhile are served between slices.
 */
import type { Clock } from './clock.ts';

/** Items done between two readings of the clock. */
const CHECK_EVERY = 32;

/**
 * Calls `each` for every item in order, yielding to the event loop (`clock.defer`) whenever a
 * slice has run `sliceMs`, then `done`. Items are taken as they are now; `each` decides whether
 * an item is still worth doing when its turn comes.
 */
export function forEachSliced<T>(clock: Pick<Clock, 'now' | 'defer'>, items: readonly T[], sliceMs: number, each: (item: T) => void, done?: () => void): void {
  let next = 0;
  const slice = () => {
    const start = clock.now();
    while (next < items.length) {
      each(items[next++]!);
      if (next % CHECK_EVERY === 0 && next < items.length && clock.now() - start >= sliceMs) {
        clock.defer(slice);
        return;
      }
    }
    done?.();
  };
  slice();
}
