/**
 * The grpc probe against a real grpc-js server running grpc-health-check's HealthImplementation
 * on loopback: serving status flips, named services, a refused port and a blackhole.
 */
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import { after, before, describe, it } from 'node:test';
import { runProbe } from '../../src/health/probes/index.ts';
import { blackhole, ctx, freePort, spec } from '../support/net.ts';

const TIMEOUT_MS = 1000;

function grpcProbe(port: number, service?: string, timeoutMs = TIMEOUT_MS) {
  return runProbe({ host: '127.0.0.1', port }, spec('grpc', { grpc: service === undefined ? {} : { service } }), ctx(timeoutMs));
}

describe('grpc probe', () => {
  let server: grpc.Server;
  let port: number;
  let hole: Awaited<ReturnType<typeof blackhole>>;
  const health = new HealthImplementation({ '': 'SERVING', 'checkups.test.Known': 'SERVING' });

  before(async () => {
    server = new grpc.Server();
    health.addToServer(server);
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    hole = await blackhole();
  });
  after(async () => {
    server.forceShutdown();
    await hole?.close();
  });

  it('is ok while the server is SERVING, err while NOT_SERVING, ok again after', async () => {
    assert.deepEqual(await grpcProbe(port), { status: 'ok', msg: null });
    health.setStatus('', 'NOT_SERVING');
    assert.deepEqual(await grpcProbe(port), { status: 'err', msg: 'health status NOT_SERVING' });
    health.setStatus('', 'SERVING');
    assert.deepEqual(await grpcProbe(port), { status: 'ok', msg: null });
  });

  it('asks for the configured service name', async () => {
    assert.deepEqual(await grpcProbe(port, 'checkups.test.Known'), { status: 'ok', msg: null });
    health.setStatus('checkups.test.Known', 'UNKNOWN');
    assert.deepEqual(await grpcProbe(port, 'checkups.test.Known'), { status: 'err', msg: 'health status UNKNOWN' });
    health.setStatus('checkups.test.Known', 'SERVING');
  });

  it('is err with the RPC status for a service the server does not know', async () => {
    assert.deepEqual(await grpcProbe(port, 'checkups.test.Nope'), { status: 'err', msg: 'NOT_FOUND: Health status unknown for service checkups.test.Nope' });
  });

  it('is err "connection refused" against a closed port (UNAVAILABLE, in the other probes\' words)', async () => {
    assert.deepEqual(await grpcProbe(await freePort()), { status: 'err', msg: 'connection refused' });
  });

  it('is err "timeout" against a blackhole that never speaks HTTP/2, at the deadline', async () => {
    const t0 = performance.now();
    assert.deepEqual(await grpcProbe(hole.port, undefined, 300), { status: 'err', msg: 'timeout' });
    assert.ok(performance.now() - t0 < 550, 'gave up at the deadline');
  });
});
