/**
 * ProbeDeadline: the end of one probe's time (its upstream's `timeout`). `expire()` marks it
 * passed and fires `signal`. The signal is made only when something reads it: an AbortController
 * (an EventTarget) and a listener on it cost about a tenth of a TCP probe's JavaScript at
 * thousands of probes a second, and the TCP probe never reads it (its socket's own timer ends it).
 */
import type { ProbeContext } from './types.ts';

/** What the signal's abort carries (its `reason`), as the scheduler's deadline always did. */
const timeoutReason = (): Error => new Error('timeout');

export class ProbeDeadline implements ProbeContext {
  private controller: AbortController | undefined;
  private passed = false;
  private expiryHook: (() => void) | undefined;

  constructor(readonly timeoutMs: number) {}

  get expired(): boolean {
    return this.passed;
  }

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.passed) this.controller.abort(timeoutReason());
    }
    return this.controller.signal;
  }

  /**
   * The one call made when the deadline passes (runProbe's grace timer), in place of a listener on
   * the signal; undefined removes it. Runs at once when the deadline has passed already.
   */
  set onExpire(fn: (() => void) | undefined) {
    this.expiryHook = fn;
    if (fn !== undefined && this.passed) this.fireHook();
  }

  expire(): void {
    if (this.passed) return;
    this.passed = true;
    this.controller?.abort(timeoutReason());
    this.fireHook();
  }

  private fireHook(): void {
    const fn = this.expiryHook;
    this.expiryHook = undefined;
    fn?.();
  }
}
