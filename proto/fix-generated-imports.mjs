// proto-loader-gen-types writes extensionless relative imports; Node ESM with
// moduleResolution NodeNext needs them explicit. Run by `npm run generate`.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (path.endsWith('.ts')) {
      const text = readFileSync(path, 'utf8');
      const fixed = text.replace(/from '(\.{1,2}\/[^']+?)(?<!\.ts)'/g, "from '$1.ts'");
      if (fixed !== text) writeFileSync(path, fixed);
    }
  }
}
walk(process.argv[2] ?? 'src/generated');
