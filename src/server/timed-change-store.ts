/**
 * A ChangeStore that times its appends (checkups_store_append_seconds): from the call until
 * the change is durable, as the write path waits for it. Everything else is passed through.
 */
import type { AppendOutcome, ChangeStore, UpstreamChange } from '../core/store/change-store.ts';
import { storeAppendDuration } from '../observability/metrics.ts';
import type { Clock } from '../util/clock.ts';

export function timedChangeStore(store: ChangeStore, clock: Clock): ChangeStore {
  return {
    kind: store.kind,
    location: store.location,
    open: (base) => store.open(base),
    append: async (change: UpstreamChange, expect: number): Promise<AppendOutcome> => {
      const started = clock.now();
      const outcome = await store.append(change, expect);
      storeAppendDuration.observe((clock.now() - started) / 1000);
      return outcome;
    },
    follow: (cursor, onItem) => store.follow(cursor, onItem),
    reached: (revision, ms) => store.reached(revision, ms),
    snapshot: () => store.snapshot(),
    head: () => store.head(),
    syncState: () => store.syncState(),
    close: () => store.close(),
  };
}
