/**
 * `general` probe: a TCP connect to the target, closed at once with a reset (docs/compat.md). Error texts follow the nginx cosocket wording the original records
 * ("connection refused", "timeout", ...), so status output reads the same.
 */
import { connect } from 'node:net';
import type { ProbeResult } from '../state-machine.ts';
import type { Probe, ProbeContext, ProbeTarget } from './types.ts';

export const OK: ProbeResult = Object.freeze({ status: 'ok', msg: null });
export const TIMEOUT: ProbeResult = Object.freeze({ status: 'err', msg: 'timeout' });

const CODE_TEXT: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset by peer',
  EPIPE: 'broken pipe',
  ETIMEDOUT: 'timeout',
  EHOSTUNREACH: 'no route to host',
  ENETUNREACH: 'network is unreachable',
  EADDRNOTAVAIL: 'cannot assign requested address',
};

/** The cosocket wording for an errno code (ECONNREFUSED -> "connection refused"), if known. */
export function codeText(code: string): string | undefined {
  return CODE_TEXT[code];
}

/** The text recorded for a failed probe: the cosocket wording when the error has a known code. */
export function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== undefined) {
      const text = CODE_TEXT[code];
      if (text !== undefined) return text;
      if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
        const host = (err as NodeJS.ErrnoException & { hostname?: string }).hostname;
        return `${host ?? 'host'} could not be resolved`;
      }
    }
    // AggregateError (happy eyeballs over several addresses) keeps the useful cause inside.
    if (err instanceof AggregateError && err.errors.length > 0) return errorText(err.errors[0]);
    return err.message || String(code ?? err.name);
  }
  return String(err);
}

/**
 * Connects, then closes the socket with a reset (SO_LINGER 0, as HAProxy closes its checks): a
 * FIN would leave a TIME_WAIT socket on this host for a minute per probe, over 300,000 at 6,000
 * probes a second, past the kernel's table (it then drops them and logs an overflow). It costs
 * the kernel less on both ends too. Settles only once the socket is closed (no fd outlives it).
 */
export function tcpConnect(target: ProbeTarget, ctx: ProbeContext): Promise<ProbeResult> {
  return new Promise((resolve) => {
    if (ctx.expired) return resolve(TIMEOUT);
    let result: ProbeResult | undefined;
    const sock = connect({ host: target.host, port: target.port });
    const finish = (r: ProbeResult, connected = false) => {
      if (result !== undefined) return;
      result = r;
      if (connected) sock.resetAndDestroy();
      else sock.destroy();
    };
    // The socket's own idle timer ends the connect at the deadline. Not the signal: it fires at
    // the same instant, and a listener added and removed per probe costs more than the rest of
    // this function's JavaScript at thousands of probes a second.
    sock.setTimeout(ctx.timeoutMs, () => finish(TIMEOUT));
    sock.once('connect', () => finish(OK, true));
    sock.on('error', (err) => finish({ status: 'err', msg: errorText(err) }));
    sock.once('close', () => resolve(result ?? { status: 'err', msg: 'connection closed' }));
  });
}

export const tcpProbe: Probe = (target, _spec, ctx) => tcpConnect(target, ctx);
