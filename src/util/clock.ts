/**
 * Time as the rest of checkups sees it (Envoy's TimeSource split): `now()` is monotonic and
 * drives every interval, window, deadline and budget; `wallNow()` is for display only.
 * Everything time-based takes a Clock so tests move time themselves instead of sleeping.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Monotonic milliseconds (arbitrary origin). */
  now(): number;
  /** Epoch milliseconds, for status output and logs. */
  wallNow(): number;
  /** Calls `fn` once after `ms`. Real timers are unref()'d: they never keep the process alive. */
  setTimer(ms: number, fn: () => void): Timer;
  /**
   * Calls `fn` once later in this turn of the event loop, after the I/O it polls (setImmediate).
   * To yield between slices of work: unlike a zero-delay timer, the loop polls without waiting,
   * so a busy process keeps its core instead of sleeping 1 ms and queueing for it again (on a
   * loaded machine that wake-up costs far more than the slice).
   */
  defer(fn: () => void): Timer;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
  defer(fn) {
    // Not unref()'d: an unref'd immediate lets the loop block in its poll (until the next timer
    // or I/O) before it runs, the very wait it is for avoiding; it holds the process one turn.
    const handle = setImmediate(fn);
    return { cancel: () => clearImmediate(handle) };
  },
};
