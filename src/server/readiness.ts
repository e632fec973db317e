/**
 * Readiness (`GET /readyz`): named checks, each saying why the server should not get traffic
 * yet, or null when it may. The server registers `config` (the config file is loaded) and
 * `store` (the data dir is open); other parts add theirs with `register` (cluster mode: caught
 * up with the shared log). Liveness (`/healthz`) is not here: it only says the process answers.
 */
export type ReadinessCheck = () => string | null;

export interface ReadinessReport {
  readonly ready: boolean;
  /** Every check by name: null when passing, else why not. */
  readonly checks: ReadonlyMap<string, string | null>;
}

export class Readiness {
  private readonly checks = new Map<string, ReadinessCheck>();

  /** Adds (or replaces) the check `name`; returns its removal. */
  register(name: string, check: ReadinessCheck): () => void {
    this.checks.set(name, check);
    return () => {
      if (this.checks.get(name) === check) this.checks.delete(name);
    };
  }

  report(): ReadinessReport {
    const checks = new Map<string, string | null>();
    for (const [name, check] of this.checks) {
      let problem: string | null;
      try {
        problem = check();
      } catch (err) {
        problem = `check failed: ${err instanceof Error ? err.message : String(err)}`;
      }
      checks.set(name, problem);
    }
    return { ready: [...checks.values()].every((p) => p === null), checks };
  }
}
