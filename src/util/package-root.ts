/** The directory holding checkups' package.json, from the source tree or from dist/. */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'proto'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the checkups package root (package.json next to proto/)');
    dir = up;
  }
  return (cached = dir);
}
