/**
 * TLS and mTLS on the gRPC port, with certificates made by openssl at test time; and the
 * refusal to serve an open admin API beyond loopback.
 */
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { startCheckups } from '../../src/main.ts';
import { checkupsProto } from '../../src/wire/proto.ts';
import { CheckupsError } from '../../src/util/errors.ts';
import { call, grpcError } from '../support/grpc-clients.ts';

const dir = mkdtempSync(join(tmpdir(), 'checkups-tls-'));
const f = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { stdio: 'ignore' });
}

/** A CA, a server certificate for 127.0.0.1/localhost and a client certificate, all signed by the CA. */
function makePki(): void {
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.crt'), '-days', '2', '-subj', '/CN=checkups test CA');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f(`${who}.key`), '-out', f(`${who}.csr`), '-subj', `/CN=${who}`);
    openssl('x509', '-req', '-in', f(`${who}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f(`${who}.crt`), '-days', '2', ...(who === 'server' ? ['-extfile', f('server.ext')] : []));
  }
}

const CONFIG = 'upstreams:\n  api: { cluster: [ { servers: [ { host: 127.0.0.1, port: 9 } ] } ] }\n';

describe('TLS', () => {
  before(() => {
    makePki();
    writeFileSync(f('c.yaml'), CONFIG);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const select = (address: string, creds: grpc.ChannelCredentials) => {
    const client = new (checkupsProto().DiscoveryService)(address, creds);
    return call(client, client.SelectPeer, { skey: 'api' }).finally(() => client.close());
  };

  it('serves over TLS; a client trusting the CA connects, a plaintext client does not', async () => {
    const server = await startCheckups({
      configFile: f('c.yaml'),
      grpcListen: '127.0.0.1:0',
      httpListen: '127.0.0.1:0',
      dataDir: f('data-tls'),
      healthChecks: false,
      tls: { certFile: f('server.crt'), keyFile: f('server.key') },
      logger: pino({ level: 'silent' }),
    });
    try {
      const res = await select(server.grpcAddress, grpc.credentials.createSsl(readFileSync(f('ca.crt'))));
      assert.equal(res.peer!.port, 9);
      await assert.rejects(select(server.grpcAddress, grpc.credentials.createInsecure()), grpcError(grpc.status.UNAVAILABLE));
    } finally {
      await server.stop(100);
    }
  });

  it('mTLS: a client without a certificate signed by the client CA is refused', async () => {
    const server = await startCheckups({
      configFile: f('c.yaml'),
      grpcListen: '127.0.0.1:0',
      httpListen: '127.0.0.1:0',
      dataDir: f('data-mtls'),
      healthChecks: false,
      tls: { certFile: f('server.crt'), keyFile: f('server.key'), clientCaFile: f('ca.crt') },
      logger: pino({ level: 'silent' }),
    });
    try {
      const ca = readFileSync(f('ca.crt'));
      const withCert = grpc.credentials.createSsl(ca, readFileSync(f('client.key')), readFileSync(f('client.crt')));
      assert.equal((await select(server.grpcAddress, withCert)).peer!.port, 9);
      await assert.rejects(select(server.grpcAddress, grpc.credentials.createSsl(ca)), grpcError(grpc.status.UNAVAILABLE));
    } finally {
      await server.stop(100);
    }
  });

  it('refuses an open admin API on a non-loopback address, unless allowed or given a token', async () => {
    const opts = { configFile: f('c.yaml'), grpcListen: '0.0.0.0:0', httpListen: '127.0.0.1:0', dataDir: f('data-open'), healthChecks: false, logger: pino({ level: 'silent' }) };
    const saved = process.env['CHECKUPS_ADMIN_TOKEN'];
    delete process.env['CHECKUPS_ADMIN_TOKEN'];
    try {
      await assert.rejects(startCheckups(opts), (err: unknown) => err instanceof CheckupsError && /refusing to serve the admin API on 0\.0\.0\.0:0 without a token/.test(err.message));
      // Nothing is left bound or locked after the refusal: a second attempt with a token works.
      const withToken = await startCheckups({ ...opts, grpcListen: '127.0.0.2:0', adminToken: 'a-long-enough-admin-token' });
      await withToken.stop(100);
    } finally {
      if (saved !== undefined) process.env['CHECKUPS_ADMIN_TOKEN'] = saved;
    }
  });
});
