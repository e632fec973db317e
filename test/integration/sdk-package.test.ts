/**
 * The SDK as a user gets it: build packages/client, `npm pack` it, install the tarball into an
 * empty project from the registry (nothing else installed there), measure node_modules, then
 * compile a strict TypeScript consumer under NodeNext, bundler and node10 resolution and run each
 * build against a real server.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { Checkups } from '../../src/main.ts';
import { startTestServer } from '../support/test-server.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
/** The target for node_modules of a project that installs only the SDK. */
const MAX_INSTALL_BYTES = 15 * 1024 * 1024;

const CONSUMER = `
import { AdminClient, CheckupsClient, CheckupsError, type SelectedPeer, type StatusReport, type UpstreamReport } from '@checkups/client';

const server = process.env['CHECKUPS_SERVER'];
if (server === undefined) throw new Error('CHECKUPS_SERVER is not set');
await using client = new CheckupsClient({ servers: server });
await client.ready();
const changes: UpstreamReport[] = [];
client.on('change', (u: UpstreamReport) => changes.push(u));
const first: SelectedPeer = client.pick('api');
using admin = new AdminClient({ servers: server });
const { version } = await admin.peers.down('api', { host: first.host, port: first.port });
await client.synced(version);
const picks = [client.pick('api').host, client.pick('api').host];
let code = '';
try {
  client.pick('nope');
} catch (err) {
  if (err instanceof CheckupsError) code = err.code;
}
const status: StatusReport = await admin.status();
await admin.peers.up('api', { host: first.host, port: first.port });
console.log(JSON.stringify({ first: first.host, picks, code, changes: changes.length, upstreams: status.upstreams.map((u) => u.skey) }));
`;

const RESOLUTIONS: Record<string, object> = {
  nodenext: { module: 'NodeNext', moduleResolution: 'NodeNext' },
  bundler: { module: 'ES2022', moduleResolution: 'bundler' },
  node10: { module: 'ES2022', moduleResolution: 'node10' },
};

function bytesUnder(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) if (e.isFile()) total += statSync(join(e.parentPath, e.name)).size;
  return total;
}

describe('SDK package', { timeout: 600_000 }, () => {
  let dir: string;
  let server: Checkups;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'checkups-sdk-pkg-'));
    writeFileSync(join(dir, 'checkups.yaml'), 'upstreams:\n  api:\n    cluster:\n      - servers: [ { host: 10.0.0.1, port: 80 }, { host: 10.0.0.2, port: 80 } ]\n');
    server = await startTestServer(dir);
  });

  after(async () => {
    await server?.stop(100);
    rmSync(dir, { recursive: true, force: true });
  });

  it('packs, installs alone under 15 MB, and a strict consumer compiles (NodeNext, bundler, node10) and runs', async () => {
    await run(process.execPath, [join(ROOT, 'scripts', 'build-sdk.mjs')], { cwd: ROOT });
    const { stdout: packed } = await run('npm', ['pack', './packages/client', '--pack-destination', dir, '--json'], { cwd: ROOT });
    const [{ filename, files }] = JSON.parse(packed) as [{ filename: string; files: { path: string }[] }];
    const paths = files.map((f) => f.path);
    assert.ok(paths.includes('LICENSE'), 'a LICENSE in the package');
    assert.deepEqual(paths.filter((p) => p.endsWith('.map')), [], 'no source maps (their sources are not shipped)');
    assert.deepEqual(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts')), [], 'no TypeScript sources');
    assert.ok(paths.includes('proto/checkups/v1/discovery.proto'));

    const project = join(dir, 'consumer');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    const t0 = performance.now();
    await run('npm', ['install', join(dir, filename), '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: project });
    const installMs = performance.now() - t0;
    const bytes = bytesUnder(join(project, 'node_modules'));
    const installed = readdirSync(join(project, 'node_modules'), { withFileTypes: true }).flatMap((e) =>
      e.name.startsWith('@') ? readdirSync(join(project, 'node_modules', e.name)).map((n) => `${e.name}/${n}`) : [e.name],
    );
    for (const heavy of ['zod', 'pino', 'mysql2', 'ioredis', '@grpc/grpc-js-xds', 'typescript', 'yaml', 'commander', 'undici']) assert.ok(!installed.includes(heavy), `${heavy} is not installed with the SDK`);
    console.log(`# SDK install: ${(bytes / 1024 / 1024).toFixed(1)} MB node_modules, ${installed.length} packages, ${(installMs / 1000).toFixed(1)} s`);
    assert.ok(bytes < MAX_INSTALL_BYTES, `node_modules is ${(bytes / 1024 / 1024).toFixed(1)} MB (target < 15 MB)`);

    writeFileSync(join(project, 'main.ts'), CONSUMER);
    for (const [name, resolution] of Object.entries(RESOLUTIONS)) {
      const out = join(project, `out-${name}`);
      const tsconfig = join(project, `tsconfig.${name}.json`);
      writeFileSync(
        tsconfig,
        JSON.stringify({
          compilerOptions: {
            ...resolution,
            target: 'ES2022',
            lib: ['ES2022', 'esnext.disposable'],
            strict: true,
            noUncheckedIndexedAccess: true,
            exactOptionalPropertyTypes: true,
            skipLibCheck: false,
            outDir: out,
            // Node's typings come from the repository: the consumer installed only the SDK.
            typeRoots: [join(ROOT, 'node_modules', '@types')],
            types: ['node'],
          },
          files: ['main.ts'],
        }),
      );
      await run(process.execPath, [TSC, '-p', tsconfig], { cwd: project }).catch((err: { stdout: string }) => assert.fail(`tsc (${name}):\n${err.stdout}`));
      writeFileSync(join(out, 'package.json'), JSON.stringify({ type: 'module' }));
      const { stdout } = await run(process.execPath, [join(out, 'main.js')], { cwd: project, env: { ...process.env, CHECKUPS_SERVER: server.grpcAddress }, timeout: 60_000 });
      const result = JSON.parse(stdout) as { first: string; picks: string[]; code: string; changes: number; upstreams: string[] };
      const other = result.first === '10.0.0.1' ? '10.0.0.2' : '10.0.0.1';
      assert.deepEqual(result.picks, [other, other], `${name}: after synced(version) no pick lands on the peer taken down`);
      assert.equal(result.code, 'UNKNOWN_SKEY', name);
      assert.ok(result.changes >= 1, name);
      assert.deepEqual(result.upstreams, ['api'], name);
    }
  });
});
