/**
 * `http_opts.body_match` with RE2 semantics (re2js, pure JavaScript): matching takes time linear
 * in the body, whatever the pattern. JavaScript's RegExp backtracks, so a pattern such as
 * `^(a+)+$` could hold the event loop (and every probe, stream and RPC with it) for seconds per
 * probe. RE2 has no backreferences or lookarounds; such patterns are refused when the config
 * or the admin write is validated, not when the probe runs.
 */
import { RE2JS } from 're2js';

export interface BodyMatcher {
  test(text: string): boolean;
}

const compiled = new Map<string, BodyMatcher>();
/** Distinct patterns kept compiled; more are compiled per probe (still linear). */
const MAX_CACHED = 1024;

/** Compiles `pattern`; throws with RE2's reason when it is not an RE2 expression. */
export function compileBodyMatch(pattern: string): BodyMatcher {
  const hit = compiled.get(pattern);
  if (hit !== undefined) return hit;
  const re = RE2JS.compile(pattern);
  const matcher: BodyMatcher = { test: (text) => re.matcher(text).find() };
  if (compiled.size < MAX_CACHED) compiled.set(pattern, matcher);
  return matcher;
}

/** Why `pattern` is not a usable body_match, or undefined when it is. */
export function bodyMatchProblem(pattern: string): string | undefined {
  try {
    compileBodyMatch(pattern);
    return undefined;
  } catch (err) {
    return (err as Error).message.replace(/^error parsing regexp: /, '');
  }
}
