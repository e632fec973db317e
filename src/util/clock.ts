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
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimer(ms, fn) {
    const handle = setTimeout(fn, ms);
    handle.unref();
    return { cancel: () => clearTimeout(handle) };
  },
};
