/**
 * The durable store of admin changes: every upstream written or deleted through the admin API is
 * appended here before the RPC returns, and replayed on top of the config file at start.
 * Documents are stored as config documents (RawUpstream, see config/serialize.ts) so a restored
 * upstream goes through the same validation as one read from the file.
 */
import type { RawUpstream } from '../document.ts';

export type StoreOp =
  | { readonly op: 'put'; readonly skey: string; readonly upstream: RawUpstream }
  | { readonly op: 'delete'; readonly skey: string };

export interface RecoveredState {
  /** skey -> latest document, or null when the last op deleted it; in the order skeys were first touched. */
  readonly upstreams: ReadonlyMap<string, RawUpstream | null>;
  /** Sequence number of the last durable change (0 for an empty store). */
  readonly lastSeq: number;
  /** Things recovery repaired that an operator should know about (logged by the server). */
  readonly warnings: readonly string[];
}

export interface UpstreamStore {
  /** Takes the data dir, recovers its state. Throws CheckupsError('DATA_CORRUPT') on bad data. */
  open(): Promise<RecoveredState>;
  /** Resolves with the op's sequence number once it is on disk (written and synced). */
  append(op: StoreOp): Promise<number>;
  /** Waits for pending appends, then releases the data dir. Later appends reject. */
  close(): Promise<void>;
}
