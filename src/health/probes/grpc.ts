/**
 * `grpc` probe: `grpc.health.v1.Health/Check` with `{service: grpc_opts.service ?? ""}`. Not in
 * the original (docs/compat.md adds it); it follows the shape of the other probes:
 * one check within `timeout`. SERVING is ok; any other serving status or an RPC error is err.
 *
 * Why node:http2 on a socket of our own rather than a grpc-js channel: a grpc-js channel dials
 * its TCP connections itself and only shows them once connected, and closing the channel does
 * not abort a connect in flight. Against a target that drops SYNs each probe then left a socket
 * in SYN-SENT behind for the kernel's whole retry time (about two minutes), enough to exhaust the
 * fd limit at a few hundred such targets. Here the probe owns the socket from the first SYN and
 * destroys it at the deadline in whatever state it is in, and settles only once it is closed.
 * One unary call needs little of gRPC: a 5-byte frame around two tiny protobuf messages, whose
 * codec is below, and the status in the trailers.
 */
import * as grpc from '@grpc/grpc-js';
import { connect as http2Connect, constants as h2 } from 'node:http2';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { ProbeResult } from '../state-machine.ts';
import { codeText, errorText, OK, TIMEOUT } from './tcp.ts';
import type { Probe } from './types.ts';

const CHECK_PATH = '/grpc.health.v1.Health/Check';
/** A health response is a few bytes; anything this large is not one. */
const MAX_RESPONSE_BYTES = 64 * 1024;

/** grpc.health.v1.HealthCheckResponse.ServingStatus */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'] as const;

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

/** A length-prefixed gRPC message holding HealthCheckRequest{service}. */
export function encodeHealthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  const body = name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, ...varint(name.length)]), name]);
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  return frame;
}

/** The serving status of a length-prefixed HealthCheckResponse, or an error text. */
export function decodeHealthCheckResponse(data: Buffer): { status: string } | { error: string } {
  if (data.length < 5) return { error: 'no response message' };
  if (data[0] !== 0) return { error: 'compressed response (not asked for)' };
  const len = data.readUInt32BE(1);
  if (data.length !== 5 + len) return { error: `response frame of ${len} bytes, got ${data.length - 5}` };
  let status = 0;
  // Walk the fields: status is field 1 (varint); others are skipped as the wire format allows.
  for (let i = 5; i < data.length; ) {
    let key = 0;
    let shift = 0;
    let b: number;
    do {
      b = data[i++]!;
      key |= (b & 0x7f) << shift;
      shift += 7;
    } while (b & 0x80 && i < data.length && shift < 35);
    const wire = key & 7;
    if (wire === 0) {
      let v = 0;
      shift = 0;
      do {
        b = data[i++]!;
        if (shift < 31) v |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80 && i < data.length);
      if (key >>> 3 === 1) status = v;
    } else if (wire === 2) {
      let n = 0;
      shift = 0;
      do {
        b = data[i++]!;
        n |= (b & 0x7f) << shift;
        shift += 7;
      } while (b & 0x80 && i < data.length && shift < 35);
      i += n;
    } else if (wire === 5) i += 4;
    else if (wire === 1) i += 8;
    else return { error: 'malformed response message' };
  }
  return { status: SERVING_STATUS[status] ?? `status ${status}` };
}

function grpcStatusText(code: number, message: string | undefined): string {
  let text = message ?? '';
  try {
    text = decodeURIComponent(text);
  } catch {
    // Not percent-encoded as the protocol asks: keep it as sent.
  }
  return `${grpc.status[code] ?? `status ${code}`}: ${text}`;
}

export const grpcProbe: Probe = (target, spec, ctx) =>
  new Promise<ProbeResult>((resolve) => {
    if (ctx.signal.aborted) return resolve(TIMEOUT);
    const authority = target.host.includes(':') ? `[${target.host}]:${target.port}` : `${target.host}:${target.port}`;
    let result: ProbeResult | undefined;
    const socket: Socket = tcpConnect({ host: target.host, port: target.port });
    const session = http2Connect(`http://${authority}`, { createConnection: () => socket, maxSessionMemory: 1 });
    const finish = (r: ProbeResult) => {
      if (result !== undefined) return;
      result = r;
      ctx.signal.removeEventListener('abort', onAbort);
      session.destroy();
      socket.destroy();
    };
    const onAbort = () => finish(TIMEOUT);
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    // Backstop when the caller's signal is late.
    socket.setTimeout(ctx.timeoutMs, () => finish(TIMEOUT));
    socket.on('error', (err) => finish({ status: 'err', msg: errorText(err) }));
    session.on('error', (err) => finish({ status: 'err', msg: codeText((err as NodeJS.ErrnoException).code ?? '') ?? errorText(err) }));
    socket.once('close', () => resolve(result ?? { status: 'err', msg: 'connection closed' }));

    const req = session.request({
      [h2.HTTP2_HEADER_METHOD]: 'POST',
      [h2.HTTP2_HEADER_PATH]: CHECK_PATH,
      [h2.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc',
      te: 'trailers',
      'grpc-timeout': `${Math.max(1, Math.ceil(ctx.timeoutMs))}m`,
    });
    req.on('error', (err) => finish({ status: 'err', msg: errorText(err) }));
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > MAX_RESPONSE_BYTES) finish({ status: 'err', msg: `response larger than ${MAX_RESPONSE_BYTES} bytes` });
      else chunks.push(chunk);
    });
    const settle = (headers: Record<string, string | string[] | undefined>) => {
      const code = Number(headers['grpc-status']);
      if (!Number.isInteger(code)) return finish({ status: 'err', msg: 'no grpc-status in the response' });
      if (code !== 0) return finish({ status: 'err', msg: grpcStatusText(code, headers['grpc-message'] as string | undefined) });
      const decoded = decodeHealthCheckResponse(Buffer.concat(chunks));
      if ('error' in decoded) return finish({ status: 'err', msg: decoded.error });
      finish(decoded.status === 'SERVING' ? OK : { status: 'err', msg: `health status ${decoded.status}` });
    };
    req.on('response', (headers) => {
      const httpStatus = Number(headers[h2.HTTP2_HEADER_STATUS]);
      if (httpStatus !== 200) return finish({ status: 'err', msg: `HTTP status ${httpStatus} (not a gRPC server?)` });
      // Trailers-only: the status arrives with the headers (errors usually do).
      if (headers['grpc-status'] !== undefined) settle(headers);
    });
    req.on('trailers', (trailers) => settle(trailers));
    req.on('end', () => finish({ status: 'err', msg: 'the response ended without a status' }));
    req.end(encodeHealthCheckRequest(spec.grpc.service ?? ''));
  });
