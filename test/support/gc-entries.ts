/** Reading `gc` performance entries (PerformanceObserver with entryTypes ['gc']). */
import { constants, type PerformanceEntry } from 'node:perf_hooks';

/** A major (mark-compact) collection, as opposed to a scavenge or an incremental marking step. */
export function isMajorGc(entry: PerformanceEntry): boolean {
  return (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR;
}
