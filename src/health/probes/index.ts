/**
 * The probe registry: `typ` -> probe (docs/compat.md), and `runProbe`, the one
 * entry point the scheduler calls. runProbe always resolves: a throw or rejection becomes err
 * with its message. Once the deadline passes, the probe gets ABORT_GRACE_MS to close its sockets
 * and report; after that runProbe resolves `timeout` without it, so a stuck library cannot hold
 * a scheduler slot long past the deadline.
 */
import type { ProbeType, UpstreamSpec } from '../../core/model.ts';
import type { ProbeResult } from '../state-machine.ts';
import type { ProbeDeadline } from './deadline.ts';
import { grpcProbe } from './grpc.ts';
import { httpProbe } from './http.ts';
import { mysqlProbe } from './mysql.ts';
import { redisProbe } from './redis.ts';
import { errorText, tcpProbe, TIMEOUT } from './tcp.ts';
import type { Probe, ProbeContext, ProbeTarget } from './types.ts';

export const PROBES: Readonly<Record<ProbeType, Probe>> = Object.freeze({
  general: tcpProbe,
  http: httpProbe,
  redis: redisProbe,
  mysql: mysqlProbe,
  grpc: grpcProbe,
});

/** How long a probe may take to wind down after its signal fires. */
export const ABORT_GRACE_MS = 100;

/** Runs the probe for `spec.typ`; `probes` is a seam for tests. */
export function runProbe(
  target: ProbeTarget,
  spec: UpstreamSpec,
  ctx: ProbeDeadline,
  probes: Readonly<Record<ProbeType, Probe>> = PROBES,
): Promise<ProbeResult> {
  if (ctx.expired) return Promise.resolve(TIMEOUT);
  const failed = (err: unknown): ProbeResult => (ctx.expired ? TIMEOUT : { status: 'err', msg: errorText(err) });
  const probe = probes[spec.typ] as Probe | undefined;
  if (probe === undefined) return Promise.resolve({ status: 'err', msg: `no probe for typ ${JSON.stringify(spec.typ)}` });
  let probed: Promise<ProbeResult>;
  try {
    probed = probe(target, spec, ctx);
  } catch (err) {
    return Promise.resolve(failed(err));
  }
  // One promise settled by whichever comes first, the probe or the end of the grace after the
  // deadline (not Promise.race over two more promises, nor a listener on the signal: this runs
  // for every probe).
  return new Promise((resolve) => {
    let grace: NodeJS.Timeout | undefined;
    ctx.onExpire = () => (grace = setTimeout(resolve, ABORT_GRACE_MS, TIMEOUT));
    const settle = (r: ProbeResult) => {
      ctx.onExpire = undefined;
      clearTimeout(grace);
      resolve(r);
    };
    probed.then(settle, (err: unknown) => settle(failed(err)));
  });
}
