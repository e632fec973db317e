/**
 * docs/sdk.md against the SDK's exported types: every export is named in the reference, and every
 * TypeScript example compiles (strict) against src/client/index.ts as `@checkups/client`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DOC = readFileSync(join(ROOT, 'docs', 'sdk.md'), 'utf8');
const ENTRY = join(ROOT, 'src', 'client', 'index.ts');

const OPTIONS: ts.CompilerOptions = {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.ESNext,
  moduleResolution: ts.ModuleResolutionKind.Bundler,
  lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
  types: ['node'],
  typeRoots: [join(ROOT, 'node_modules', '@types')],
  strict: true,
  noUncheckedIndexedAccess: true,
  allowImportingTsExtensions: true,
  noEmit: true,
  skipLibCheck: true,
  paths: { '@checkups/client': [ENTRY], 'checkups/client': [ENTRY] },
};

describe('docs/sdk.md', () => {
  it('names every export of the SDK', () => {
    const program = ts.createProgram([ENTRY], OPTIONS);
    const checker = program.getTypeChecker();
    const module = checker.getSymbolAtLocation(program.getSourceFile(ENTRY)!)!;
    const names = checker.getExportsOfModule(module).map((s) => s.getName());
    assert.ok(names.length > 30, `found ${names.length} exports`);
    const missing = names.filter((n) => !DOC.includes(`\`${n}\``) && !DOC.includes(`\`${n}(`) && !DOC.includes(`\`${n}<`) && !new RegExp(`^#+ ${n}\\b`, 'm').test(DOC));
    assert.deepEqual(missing, [], 'exports without a word in docs/sdk.md');
  });

  it('every example compiles against the exported types', () => {
    const blocks = [...DOC.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    assert.ok(blocks.length >= 4);
    const dir = mkdtempSync(join(tmpdir(), 'checkups-sdk-docs-'));
    try {
      const files = blocks.map((code, i) => {
        const file = join(dir, `example-${i + 1}.ts`);
        writeFileSync(file, `${code}\nexport {};\n`);
        return file;
      });
      const program = ts.createProgram(files, OPTIONS);
      const problems = ts.getPreEmitDiagnostics(program).map((d) => {
        const at = d.file !== undefined && d.start !== undefined ? `${d.file.fileName.replace(dir, 'docs/sdk.md')}:${d.file.getLineAndCharacterOfPosition(d.start).line + 1}: ` : '';
        return at + ts.flattenDiagnosticMessageText(d.messageText, '\n');
      });
      assert.deepEqual(problems, []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
