// Compiles every service checkups serves on its gRPC port into one FileDescriptorSet with buf,
// for server reflection (src/server/grpc/reflection.ts). Run by `npm run build` (so `npm ci`
// makes it) and `npm run generate`. Usage: node proto/build-descriptors.mjs [OUT]
//
// Why compiled descriptors: @grpc/reflection rebuilds descriptors from protobufjs, which loses
// dependencies, map entry names and field names, so strict clients (grpcurl, protobuf's
// descriptor pool) reject them. buf keeps the files exactly as protoc would.
//
// The proto sources stay where their packages ship them (never copied into this repo): ours in
// proto/, grpc.health.v1 from grpc-health-check, grpc.reflection from @grpc/reflection, Envoy
// and its dependencies from @grpc/grpc-js-xds's deps/ tree. buf needs them as modules of one
// workspace, so a temporary directory links them together.
//
// One adjustment: Envoy's protocol.proto uses `ignore_empty` of validate.StringRules, which the
// validate.proto shipped next to it predates (protoc-gen-validate added it as field 26), so a
// strict compiler fails. The temporary workspace gets a copy of validate.proto with that field
// added under its upstream number; nothing else differs.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(root, 'dist', 'descriptors.binpb'));
const require = createRequire(join(root, 'package.json'));
const pkgDir = (name) => dirname(require.resolve(`${name}/package.json`));

/** The Envoy files whose services and resources are served (shared with src/server/xds/proto.ts). */
const ENVOY_FILES = JSON.parse(readFileSync(join(root, 'proto', 'envoy-files.json'), 'utf8'));

const work = mkdtempSync(join(tmpdir(), 'checkups-descriptors-'));
try {
  const xdsDeps = join(pkgDir('@grpc/grpc-js-xds'), 'deps');
  const link = (target, path) => {
    mkdirSync(dirname(join(work, path)), { recursive: true });
    symlinkSync(target, join(work, path));
  };
  link(join(root, 'proto', 'checkups'), 'checkups/checkups');
  link(join(pkgDir('grpc-health-check'), 'proto', 'health', 'v1', 'health.proto'), 'grpc/grpc/health/v1/health.proto');
  link(join(pkgDir('@grpc/reflection'), 'build', 'proto', 'grpc', 'reflection'), 'grpc/grpc/reflection');
  for (const dir of ['envoy-api', 'xds', 'googleapis']) link(join(xdsDeps, dir), dir);
  const validate = readFileSync(join(xdsDeps, 'protoc-gen-validate', 'validate', 'validate.proto'), 'utf8');
  const patched = validate.replace(/(optional bool strict = 25 \[default = true\];\r?\n)/, '$1  optional bool ignore_empty = 26;\n');
  if (patched === validate) throw new Error('validate.proto changed: review the ignore_empty adjustment in proto/build-descriptors.mjs');
  mkdirSync(join(work, 'validate', 'validate'), { recursive: true });
  writeFileSync(join(work, 'validate', 'validate', 'validate.proto'), patched);
  writeFileSync(
    join(work, 'buf.yaml'),
    ['version: v2', 'modules:', ...['checkups', 'grpc', 'envoy-api', 'xds', 'googleapis', 'validate'].map((m) => `  - path: ${m}`), ''].join('\n'),
  );
  const paths = ['checkups/checkups', 'grpc/grpc/health', 'grpc/grpc/reflection', ...ENVOY_FILES.map((f) => `envoy-api/${f}`)];
  const buf = join(pkgDir('@bufbuild/buf'), 'bin', 'buf');
  mkdirSync(dirname(out), { recursive: true });
  const tmpOut = join(work, 'out.binpb');
  execFileSync(buf, ['build', '--as-file-descriptor-set', '-o', tmpOut, ...paths.flatMap((p) => ['--path', p])], { cwd: work, stdio: ['ignore', 'inherit', 'inherit'] });
  copyFileSync(tmpOut, out);
} finally {
  rmSync(work, { recursive: true, force: true });
}
