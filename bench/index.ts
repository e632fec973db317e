/**
 * `npm run bench -- NAME...` runs the named benchmarks (all when none is named).
 * Each prints a table and writes bench/results/NAME.json.
 */
const BENCHES: Record<string, () => Promise<{ run(): Promise<void> }>> = {
  pick: () => import('./pick.ts'),
  rpc: () => import('./rpc.ts'),
  probe: () => import('./probe.ts'),
  sdk: () => import('./sdk.ts'),
  fanout: () => import('./fanout.ts'),
  cluster: () => import('./cluster.ts'),
  fleet: () => import('./fleet.ts'),
  feedback: () => import('./feedback.ts'),
};

const names = process.argv.slice(2);
const unknown = names.filter((n) => !(n in BENCHES));
if (unknown.length > 0) {
  console.error(`unknown benchmark: ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`);
  process.exit(2);
}
for (const name of names.length > 0 ? names : Object.keys(BENCHES)) {
  const mod = await BENCHES[name]!();
  await mod.run();
}
