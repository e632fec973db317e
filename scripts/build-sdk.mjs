#!/usr/bin/env node
// Builds packages/client (the SDK package) from src/: compiles src/client/index.ts and what it
// imports (balancing, wire layer, model; nothing of the server), copies the protos and LICENSE.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = join(root, 'packages', 'client');
rmSync(join(pkg, 'dist'), { recursive: true, force: true });
rmSync(join(pkg, 'proto'), { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(pkg, 'tsconfig.json')], { stdio: 'inherit' });
cpSync(join(root, 'proto', 'checkups'), join(pkg, 'proto', 'checkups'), { recursive: true });
cpSync(join(root, 'LICENSE'), join(pkg, 'LICENSE'));

// tsc rewrites relative `.ts` imports in the JavaScript it emits, not in declaration files: do it
// there too, so consumers resolve the typings without allowImportingTsExtensions.
for (const entry of readdirSync(join(pkg, 'dist'), { recursive: true, withFileTypes: true })) {
  if (!entry.isFile() || !entry.name.endsWith('.d.ts')) continue;
  const file = join(entry.parentPath, entry.name);
  const text = readFileSync(file, 'utf8');
  const fixed = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.ts\2/g, '$1$2$3.js$2');
  if (fixed !== text) writeFileSync(file, fixed);
}
