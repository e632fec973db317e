/**
 * Layering (docs: GUIDE "Style"): config/ -> core/ -> health/, balance/ -> wire/ -> server/ and
 * client/ (SDK) -> cli/. Arrows point down only. Run by `npm run check:deps` in CI.
 */
const SERVER_ONLY_PACKAGES = '^node_modules/(zod|pino|pino-pretty|mysql2|ioredis|@grpc/grpc-js-xds|@grpc/reflection|grpc-health-check|typescript|yaml|commander|undici|prom-client)/';

module.exports = {
  forbidden: [
    { name: 'client-not-server', severity: 'error', comment: 'the SDK never imports the server', from: { path: '^src/client/' }, to: { path: '^src/server/' } },
    { name: 'cli-not-server', severity: 'error', comment: 'the CLI talks to the server through the SDK (serve starts it through src/main.ts)', from: { path: '^src/cli/' }, to: { path: '^src/server/' } },
    { name: 'core-not-config', severity: 'error', comment: 'the model and registry do not know the config file', from: { path: '^src/core/' }, to: { path: '^src/config/' } },
    { name: 'wire-not-server', severity: 'error', comment: 'the wire layer sits below the server', from: { path: '^src/wire/' }, to: { path: '^src/(server|client|cli)/' } },
    { name: 'lower-layers-not-wire', severity: 'error', comment: 'config, core, health and balance know nothing of checkups.v1', from: { path: '^src/(config|core|health|balance)/' }, to: { path: '^src/(wire|server|client|cli)/' } },
    {
      name: 'sdk-stays-small',
      severity: 'error',
      comment: 'the SDK package ships only @grpc/grpc-js and @grpc/proto-loader: nothing it can reach may load a server-only package or the validator',
      from: { path: '^src/client/index\\.ts$' },
      to: { reachable: true, path: [SERVER_ONLY_PACKAGES, '^src/config/(schema|validate|load)\\.ts$', '^src/(server|health|cli)/', '^src/main\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
