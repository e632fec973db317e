/**
 * Every code block of README.md and docs/*.md, pasted in order on a fresh copy of the project
 * (the files git would hand a new clone, this checkout's dist/ from `npm ci`, its node_modules),
 * with the demo (`npm start`) running, as the Quick start says. Everything runs in a private
 * network namespace, so the README's fixed ports (7600, 7601, 8080, 6379, ...) are free and
 * nothing else on the machine is touched; a private redis-server answers on 6379 there.
 *
 * How a block is checked, by its fence language and an optional marker line right above it:
 *   ```sh      run with bash -e -o pipefail in the copy's root; must exit 0.
 *   ```ts      written to a file in the copy's root (so `./src/...` and `checkups/client`
 *              imports resolve), run with `node --import tsx`; must exit 0 (close what you open).
 *   ```yaml / ```json   parsed; one with an `upstreams:` key is loaded as a checkups config,
 *              every error with its path. docs/envoy.md's Envoy bootstrap is also checked field
 *              by field against the Envoy protos by test/unit/xds-envoy-doc.test.ts.
 *   ``` (no language)   output shown to the reader; not run.
 *   <!-- snippet: background ready=HOST:PORT -->   a long-running sh command (a server): started,
 *              the next blocks run once HOST:PORT accepts connections; stopped at the end.
 *   <!-- snippet: file PATH -->   the block is saved as PATH in the copy (after being parsed), for
 *              the blocks after it, e.g. the `checkups.yaml` that `serve --config` reads.
 *   <!-- snippet: ci-setup -->    README's two setup commands; they install, so .ci/run runs them
 *              exactly as written instead (npm test cannot run itself).
 * There is no "skip": a block that cannot run here as written is rewritten so that it can (a
 * local address instead of 10.0.0.5, a cluster of the demo's). `grpcurl`, which is no Debian
 * package, is test/support/bin/grpcurl: the strict reflection client of test/support/strict-grpcurl.py.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { loadConfigFile } from '../../src/config/load.ts';
import { extractSnippets, snippetDocs, type Snippet } from '../support/doc-snippets.ts';
import { IsolatedNet, type Background } from '../support/isolated-net.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Bounds against a hang, not timing checks: on a loaded 2-core machine one `npx` takes seconds.
const STEP_TIMEOUT_MS = 300_000;
const START_TIMEOUT_MS = 120_000;
const DEMO_HTTP = { host: '127.0.0.1', port: 7601 };
const FRESH_HINT = 'npm start -- --fresh';

const snippets: Snippet[] = snippetDocs(ROOT).flatMap((doc) => extractSnippets(ROOT, doc));

/** The environment of a new terminal: no npm lifecycle or test-runner variables, no checkups settings. */
function terminalEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('npm_') || k.startsWith('CHECKUPS_') || k === 'NODE_TEST_CONTEXT' || k === 'INIT_CWD' || k === 'NODE_OPTIONS') continue;
    env[k] = v;
  }
  env['PATH'] = `${join(ROOT, 'test', 'support', 'bin')}:${process.env['PATH'] ?? '/usr/bin:/bin'}`;
  return env;
}

/** Fills `copy` with what a fresh clone holds (tracked and new, unignored files), plus dist/ and node_modules. */
function fillFreshCopy(copy: string): void {
  assert.ok(existsSync(join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: npm ci builds it (prepare)');
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: ROOT, encoding: 'utf8' })
    .split('\0')
    .filter((f) => f !== '' && !/^(node_modules|dist)(\/|$)/.test(f)); // a symlinked node_modules is not ignored by `node_modules/`
  for (const file of files) {
    if (!existsSync(join(ROOT, file))) continue; // deleted in the work tree, not yet committed
    mkdirSync(dirname(join(copy, file)), { recursive: true });
    cpSync(join(ROOT, file), join(copy, file));
  }
  cpSync(join(ROOT, 'dist'), join(copy, 'dist'), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
}

/** pino JSON lines of a process's output; other lines are ignored. */
function logMessages(output: string): Array<{ level: number; msg: string }> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
}

describe('README and docs/ snippets, pasted in order on a fresh copy with the demo running', () => {
  let copy: string;
  let net: IsolatedNet;
  let demo: Background;
  const env = terminalEnv();

  async function sh(script: string, what: string): Promise<string> {
    const ran = await net.run('bash', ['-e', '-o', 'pipefail', '-c', script], { cwd: copy, env, timeoutMs: STEP_TIMEOUT_MS });
    assert.ok(ran.code === 0, `${what}: ${ran.timedOut ? `killed after ${STEP_TIMEOUT_MS} ms` : `exit ${ran.code ?? ran.signal}`}\n--- script\n${script}--- output\n${ran.output}`);
    return ran.output;
  }

  async function startDemo(args: string[] = []): Promise<Background> {
    const bg = net.start('npm', ['start', ...(args.length > 0 ? ['--', ...args] : [])], { cwd: copy, env });
    await net.waitForListener(DEMO_HTTP.host, DEMO_HTTP.port, bg, START_TIMEOUT_MS).catch((err: Error) => {
      throw new Error(`npm start ${args.join(' ')}: ${err.message}\n${bg.output()}`);
    });
    return bg;
  }

  before(async () => {
    copy = mkdtempSync(join(tmpdir(), 'checkups-readme-'));
    fillFreshCopy(copy);
    net = await IsolatedNet.create();
    const redis = net.start('redis-server', ['--port', '6379', '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', copy], { cwd: copy, env });
    await net.waitForListener('127.0.0.1', 6379, redis, START_TIMEOUT_MS);
    demo = await startDemo();
  });

  after(async () => {
    await net?.close();
    if (copy !== undefined) rmSync(copy, { recursive: true, force: true });
  });

  it('README: two setup commands (run by .ci/run as written), then blocks that run', () => {
    const setup = snippets.filter((s) => s.how.kind === 'ci-setup');
    assert.deepEqual(
      setup.map((s) => s.where.split(':')[0]),
      ['README.md', 'README.md'],
      'README ## Setup: one install-and-start and one install-and-test block, each marked <!-- snippet: ci-setup -->',
    );
    assert.ok(setup.every((s) => s.code.trim().split('\n').length === 1 && s.code.startsWith('npm ci && npm ')));
    assert.ok(snippets.filter((s) => s.how.kind === 'run' && s.lang === 'sh').length >= 3);
    assert.ok(snippets.filter((s) => s.how.kind === 'run' && s.lang === 'ts').length >= 2);
  });

  // ci-setup blocks are .ci/run's; output blocks (no language) are not code.
  for (const snippet of snippets.filter((s) => s.how.kind !== 'ci-setup' && s.lang !== 'text')) {
    it(`${snippet.where} ${snippet.lang} (${snippet.how.kind})`, async () => {
      const { how, lang, code, where } = snippet;
      switch (how.kind) {
        case 'ci-setup':
          return;
        case 'background': {
          const bg = net.start('bash', ['-c', code], { cwd: copy, env });
          await net.waitForListener(how.ready.host, how.ready.port, bg, START_TIMEOUT_MS).catch((err: Error) => {
            throw new Error(`${where}: ${err.message}\n--- script\n${code}--- output\n${bg.output()}`);
          });
          return;
        }
        case 'file':
          checkData(snippet, join(copy, how.path));
          return;
        case 'parse':
          checkData(snippet, join(copy, `.snippet-${where.replace(/[^\w]+/g, '-')}.${lang}`));
          return;
        case 'run':
          if (lang === 'sh') {
            await sh(code, where);
          } else {
            const file = `readme-snippet-${where.replace(/[^\w]+/g, '-')}.ts`;
            writeFileSync(join(copy, file), code);
            await sh(`node --import tsx ${file}`, where);
          }
          return;
      }
    });
  }

  it(`the demo names its data dir on start, restores admin changes from it, and ${FRESH_HINT} leaves them behind`, async () => {
    writeFileSync(join(copy, 'only-12356.yaml'), 'cluster:\n  - servers: [ { host: 127.0.0.1, port: 12356 } ]\n');
    await sh('npx checkups update api -f only-12356.yaml', 'update api');
    await net.stop(demo);

    demo = await startDemo();
    const restored = logMessages(demo.output()).find((l) => l.msg.startsWith('data dir '));
    assert.ok(restored !== undefined, `no start log line names the data dir:\n${demo.output()}`);
    assert.equal(restored.level, 40, 'restored admin changes are a warning: the demo no longer serves examples/checkups.yaml as written');
    assert.ok(restored.msg.includes(join(copy, 'checkups-data')) && restored.msg.includes(FRESH_HINT), restored.msg);
    assert.doesNotMatch(await sh('npx checkups get api', 'get api'), /12355/);
    await net.stop(demo);

    demo = await startDemo(['--fresh']);
    const fresh = logMessages(demo.output()).filter((l) => l.msg.startsWith('--fresh: emptied the data dir ') || l.msg.startsWith('data dir '));
    assert.deepEqual(
      fresh.map((l) => [l.level, l.msg.split(' ')[0]]),
      [[30, '--fresh:'], [30, 'data']],
      `--fresh says it emptied the data dir, then names it as kept:\n${demo.output()}`,
    );
    assert.match(await sh('npx checkups get api', 'get api'), /12355/);
  });
});

/** yaml/json: parses; a checkups config (it has `upstreams`) loads with every error named. */
function checkData(snippet: Snippet, path: string): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, snippet.code);
  if (snippet.lang === 'yaml' || snippet.lang === 'json') {
    const doc: unknown = snippet.lang === 'json' ? JSON.parse(snippet.code) : parseYaml(snippet.code);
    assert.ok(doc !== null && typeof doc === 'object', `${snippet.where}: not a document`);
    if ('upstreams' in doc) loadConfigFile(path);
  }
}
