/**
 * Whether a callback's result counts as success (docs/compat.md `classify`).
 * The original uses Lua truthiness; in TypeScript: `false`, `null` and `undefined` fail, a
 * thrown error fails, and for `typ: http` upstreams with `http_opts.statuses` an object with a
 * numeric `status` (or `statusCode`) fails when statuses[String(status)] is false. Everything
 * else, 0 and "" included, succeeds.
 */
import type { UpstreamSpec } from '../core/model.ts';

export type Classifier = (result: unknown) => boolean;

export function defaultClassifier(spec: UpstreamSpec): Classifier {
  const statuses = spec.typ === 'http' ? spec.http.statuses : undefined;
  return (result) => {
    if (result === false || result === null || result === undefined) return false;
    if (statuses !== undefined && typeof result === 'object') {
      const r = result as { status?: unknown; statusCode?: unknown };
      const status = typeof r.status === 'number' ? r.status : typeof r.statusCode === 'number' ? r.statusCode : undefined;
      if (status !== undefined) return statuses[String(status)] !== false;
    }
    return true;
  };
}
