/** Builders for model values: tests say only what matters to them. */
import type { ClusterKey, ClusterSpec, ServerSpec, UpstreamSpec } from '../../src/core/model.ts';
import { DEFAULT_MAX_EJECTION_PERCENT } from '../../src/balance/ejection-cap.ts';
import { parseConfig } from '../../src/config/validate.ts';

export function server(hostPort: string, extra: Partial<ServerSpec> = {}): ServerSpec {
  const at = hostPort.lastIndexOf(':');
  return {
    host: hostPort.slice(0, at),
    port: Number(hostPort.slice(at + 1)),
    weight: 1,
    maxFails: 0,
    failTimeoutMs: 10_000,
    down: false,
    ...extra,
  };
}

export function cluster(key: ClusterKey, servers: ServerSpec[], extra: Partial<ClusterSpec> = {}): ClusterSpec {
  return { key, servers, upstreamOnlyBackup: false, ...extra };
}

export function upstream(skey: string, clusters: ClusterSpec[], extra: Partial<UpstreamSpec> = {}): UpstreamSpec {
  return {
    skey,
    typ: 'general',
    timeoutMs: 5000,
    http: {},
    sensibility: 1,
    rise: 1,
    protected: true,
    maxEjectionPercent: DEFAULT_MAX_EJECTION_PERCENT,
    slowStart: { windowMs: 0, aggression: 1, minWeightPercent: 10 },
    flapDamping: { threshold: 0, windowMs: 60_000, penaltyMs: 30_000, maxPenaltyMs: 600_000 },
    mode: 'wrr',
    tryTimeoutMs: 0,
    mysql: {},
    redis: {},
    grpc: {},
    clusters,
    ...extra,
  };
}

/** Parses a config document and fails loudly if it does not validate. */
export function config(doc: unknown) {
  const parsed = parseConfig(doc);
  if (!parsed.ok) throw new Error(`config did not validate:\n${parsed.errors.join('\n')}`);
  return parsed.value;
}
