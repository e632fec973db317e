/**
 * The passive ejection cap: how many peers of one upstream passive health (max_fails /
 * fail_timeout) may exclude at the same time, like Envoy's outlier detection
 * `max_ejection_percent`. One rule, used wherever a passive verdict turns a peer err: the
 * server's own accounting, verdicts adopted from elsewhere (the SDK from Watch snapshots, an
 * instance from the cluster), and the hardening limits on Feedback. See docs/compat.md.
 *
 * - With fewer than two distinct peers nothing is ejected (lua-resty-checkups' "last usable
 *   server" guard says the same for one peer).
 * - Otherwise at most floor(peers * percent / 100), but at least one (Envoy ejects one host
 *   whatever the percentage) and never all of them: one peer always stays.
 * - `percent` 0 turns passive ejection off while failures are still counted and shown.
 */

/** Default share of an upstream's peers passive health may exclude at once (Envoy uses 10%). */
export const DEFAULT_MAX_EJECTION_PERCENT = 50;

/** Highest number of an upstream's `peerCount` distinct peers passively excluded at once. */
export function maxPassiveEjections(peerCount: number, maxEjectionPercent: number): number {
  if (peerCount < 2 || maxEjectionPercent <= 0) return 0;
  return Math.min(peerCount - 1, Math.max(1, Math.floor((peerCount * maxEjectionPercent) / 100)));
}

/** True when one more peer may be excluded while `ejectedNow` others already are. */
export function mayEject(ejectedNow: number, peerCount: number, maxEjectionPercent: number): boolean {
  return ejectedNow < maxPassiveEjections(peerCount, maxEjectionPercent);
}
