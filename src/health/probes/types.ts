/**
 * The contract every probe implements (Envoy's ActiveHealthCheckSession role): one check of one
 * target, with a hard deadline. The scheduler owns timing, concurrency and state; a probe only
 * does the I/O and says what it saw.
 */
import type { UpstreamSpec } from '../../core/model.ts';
import type { ProbeResult } from '../state-machine.ts';

export interface ProbeTarget {
  readonly host: string;
  readonly port: number;
}

export interface ProbeContext {
  /** Fires at the deadline (the upstream's `timeout`). Made when first read (ProbeDeadline). */
  readonly signal: AbortSignal;
  /** The deadline has passed (reading it makes no signal). */
  readonly expired: boolean;
  /** The deadline in ms, for clients that take a timeout option of their own. */
  readonly timeoutMs: number;
}

/**
 * Checks one target. Must resolve (a rejection is recorded as err with its message), must give
 * up promptly once `ctx.signal` fires, and must leave no socket or client open when it settles.
 */
export type Probe = (target: ProbeTarget, spec: UpstreamSpec, ctx: ProbeContext) => Promise<ProbeResult>;
