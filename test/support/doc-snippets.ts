/**
 * The fenced code blocks of README.md and docs/*.md, with how each one is checked (the
 * convention is described at the top of test/integration/readme-snippets.test.ts).
 * A `<!-- snippet: ... -->` line right before a fence says how to treat that block.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type SnippetLang = 'sh' | 'ts' | 'yaml' | 'json' | 'text';

export type SnippetHow =
  /** sh: run in the foreground, must exit 0; ts: run as a file in the copy's root, must exit 0. */
  | { readonly kind: 'run' }
  /** sh: a long-running command; started, then the next blocks run once `ready` accepts TCP. */
  | { readonly kind: 'background'; readonly ready: { readonly host: string; readonly port: number } }
  /** yaml/json/sh/ts: written to `path` (relative to the copy's root) for later blocks, and parsed. */
  | { readonly kind: 'file'; readonly path: string }
  /** sh: README's setup commands, run by .ci/run exactly as written (they install; npm test cannot run itself). */
  | { readonly kind: 'ci-setup' }
  /** yaml/json: parsed (and loaded as a checkups config when it has `upstreams`); text: output shown, not run. */
  | { readonly kind: 'parse' };

export interface Snippet {
  /** e.g. README.md:49, the fence's line. */
  readonly where: string;
  readonly lang: SnippetLang;
  readonly code: string;
  readonly how: SnippetHow;
}

const LANGS: ReadonlyMap<string, SnippetLang> = new Map<string, SnippetLang>([
  ['sh', 'sh'],
  ['bash', 'sh'],
  ['ts', 'ts'],
  ['typescript', 'ts'],
  ['yaml', 'yaml'],
  ['yml', 'yaml'],
  ['json', 'json'],
  ['', 'text'],
  ['text', 'text'],
]);

/** README.md first, then docs/*.md in name order: the order a reader pastes them in. */
export function snippetDocs(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

function parseMarker(marker: string, lang: SnippetLang, where: string): SnippetHow {
  const [kind, ...args] = marker.trim().split(/\s+/);
  switch (kind) {
    case 'background': {
      const m = /^ready=([^:\s]+):(\d+)$/.exec(args.join(' '));
      if (m === null || lang !== 'sh') throw new Error(`${where}: write <!-- snippet: background ready=HOST:PORT --> before a sh block`);
      return { kind, ready: { host: m[1]!, port: Number(m[2]) } };
    }
    case 'file':
      if (args.length !== 1 || args[0]!.startsWith('/') || args[0]!.includes('..')) throw new Error(`${where}: write <!-- snippet: file RELATIVE/PATH -->`);
      return { kind, path: args[0]! };
    case 'ci-setup':
      if (lang !== 'sh') throw new Error(`${where}: ci-setup marks sh blocks`);
      return { kind };
    default:
      throw new Error(`${where}: unknown snippet marker "${marker.trim()}" (background ready=HOST:PORT | file PATH | ci-setup)`);
  }
}

export function extractSnippets(root: string, doc: string): Snippet[] {
  const lines = readFileSync(join(root, doc), 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const where = `${doc}:${i + 1}`;
    const lang = LANGS.get(open[1]!);
    if (lang === undefined) throw new Error(`${where}: fence language "${open[1]}" has no check; use sh, ts, yaml, json, or none for output`);
    const end = lines.findIndex((l, j) => j > i && /^```\s*$/.test(l));
    if (end === -1) throw new Error(`${where}: unclosed fence`);
    const marker = /^<!--\s*snippet:(.*?)-->\s*$/.exec(lines[i - 1] ?? '');
    const how: SnippetHow = marker !== null ? parseMarker(marker[1]!, lang, where) : lang === 'sh' || lang === 'ts' ? { kind: 'run' } : { kind: 'parse' };
    out.push({ where, lang, code: lines.slice(i + 1, end).join('\n') + '\n', how });
    i = end;
  }
  return out;
}
