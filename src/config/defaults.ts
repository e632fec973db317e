/**
 * Every default in one place, in the config's own units (seconds), as lua-resty-checkups
 * has them (docs/compat.md). `mode` defaults to wrr, which the original names but
 * crashes on.
 */
import { DEFAULT_MAX_EJECTION_PERCENT } from '../balance/ejection-cap.ts';

export const DEFAULTS = {
  global: {
    checkup_timer_interval: 5,
    checkup_timer_overtime: 60,
    default_heartbeat_enable: true,
    /** Unset means "same as checkup_timer_interval". */
    shd_config_timer_interval: undefined,
    ups_status_sync_enable: false,
    ups_status_timer_interval: 5,
    conf_hash: null,
  },
  upstream: {
    typ: 'general',
    timeout: 5,
    sensibility: 1,
    rise: 1,
    protected: true,
    max_ejection_percent: DEFAULT_MAX_EJECTION_PERCENT,
    mode: 'wrr',
    try_timeout: 0,
    /** Seconds a peer that becomes usable takes to ramp to its full weight; 0 = off. */
    slow_start: 0,
    /** Envoy's defaults: a linear ramp that starts at 10% of the weight. */
    slow_start_aggression: 1,
    slow_start_min_weight_percent: 10,
    /** Status changes within flap_window that damp a peer; 0 = off. */
    flap_threshold: 0,
    flap_window: 60,
    /** First hold of a damped peer; doubles on each further flap up to flap_penalty_max. */
    flap_penalty: 30,
    flap_penalty_max: 600,
  },
  /** server.feedback (process settings, not a peer's). */
  feedback: {
    max_batch: 1000,
    caller_rate: 10_000,
    caller_burst: 20_000,
    peers_per_caller: 1,
  },
  server: {
    weight: 1,
    max_fails: 0,
    fail_timeout: 10,
    down: false,
  },
} as const;
