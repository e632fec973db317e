/**
 * `checkups … | head`: when the reader of stdout goes away, the CLI stops quietly with its exit
 * code instead of dying on an unhandled EPIPE with a stack trace.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';

describe('CLI output into a closed pipe', () => {
  it('exits 0 without a stack trace when the reader stops after the first line', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    // Like `head -1`: read one chunk, then close the read end.
    await once(child.stdout!, 'data');
    child.stdout!.destroy();
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});
