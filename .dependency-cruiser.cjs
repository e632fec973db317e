/**
 * Layering (docs: GUIDE "Style"): config/ -> core/ -> health/, balance/ -> wire/ -> server/ and
 * client/ (SDK) -> cli/. Arrows point down only. Run by `npm run check:deps` in CI.
 */
module.exports = {
  forbidden: [
    { name: 'client-not-server', severity: 'error', comment: 'the SDK never imports the server', from: { path: '^src/client/' }, to: { path: '^src/server/' } },
    { name: 'cli-not-server', severity: 'error', comment: 'the CLI talks to the server through the SDK (serve starts it through src/main.ts)', from: { path: '^src/cli/' }, to: { path: '^src/server/' } },
    { name: 'core-not-config', severity: 'error', comment: 'the model and registry do not know the config file', from: { path: '^src/core/' }, to: { path: '^src/config/' } },
    { name: 'wire-not-server', severity: 'error', comment: 'the wire layer sits below the server', from: { path: '^src/wire/' }, to: { path: '^src/(server|client|cli)/' } },
    { name: 'lower-layers-not-wire', severity: 'error', comment: 'config, core, health and balance know nothing of checkups.v1', from: { path: '^src/(config|core|health|balance)/' }, to: { path: '^src/(wire|server|client|cli)/' } },
    {
      name: 'sdk-packages-allowed',
      severity: 'error',
      comment: 'packages/client declares only @grpc/grpc-js and @grpc/proto-loader: any other package the SDK reaches would be missing where it is installed alone',
      from: { path: '^src/client/index\\.ts$' },
      to: { reachable: true, path: '^node_modules/', pathNot: '^node_modules/@grpc/(grpc-js|proto-loader)/' },
    },
    {
      name: 'sdk-stays-small',
      severity: 'error',
      comment: 'the SDK reaches no server, health-check or CLI code, nor the validator (zod)',
      from: { path: '^src/client/index\\.ts$' },
      to: { reachable: true, path: ['^src/config/(schema|validate|load)\\.ts$', '^src/(server|health|cli)/', '^src/main\\.ts$'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
