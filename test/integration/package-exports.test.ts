/**
 * `import { CheckupsClient } from 'checkups/client'` works for a consumer: resolved through the
 * package's `exports` to the built dist/ (npm ci builds it through `prepare`).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';

describe('package exports', () => {
  it('checkups/client resolves to the built SDK with its typings', () => {
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('checkups/client'); const r = await import.meta.resolve('checkups/client'); console.log(typeof m.CheckupsClient, typeof m.CheckupsError, r);"],
      { encoding: 'utf8', timeout: 20_000 },
    ).trim();
    assert.match(out, /^function function file:\/\/.*\/dist\/src\/client\/index\.js$/);
    const pkg = JSON.parse(execFileSync('npm', ['pkg', 'get', 'exports'], { encoding: 'utf8' })) as Record<string, { types: string }>;
    assert.equal(pkg['./client']!.types, './dist/src/client/index.d.ts');
  });
});
