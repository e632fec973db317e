/**
 * What both importers produce: a checkups config document (the YAML's shape, option names and
 * units of checkups.yaml) plus every construct of the source that was not carried, with its
 * place and what to do about it. Rendering adds those as comments on top, so the file explains
 * itself, and checks that the result loads the way `checkups serve` loads a file.
 */
import { Document } from 'yaml';
import { parseConfigText } from '../config/load.ts';
import type { RawCluster, RawServer, RawUpstream } from '../core/document.ts';
import type { RawGlobal } from '../config/schema.ts';

/** One construct of the source that did not make it into the output (or changed meaning). */
export interface ImportProblem {
  readonly file: string;
  readonly line: number;
  /** What was found, why it is not carried, and what to do instead. */
  readonly message: string;
}

export interface ImportedConfig {
  global?: RawGlobal;
  upstreams: Record<string, RawUpstream>;
}

export interface ImportResult {
  readonly config: ImportedConfig;
  readonly problems: readonly ImportProblem[];
}

export const formatProblem = (p: ImportProblem): string => `${p.file}:${p.line}: ${p.message}`;

/** A server as the output writes it: only the fields that were given (defaults stay implicit). */
export type ImportedServer = RawServer;
export type ImportedCluster = RawCluster;

/**
 * The YAML text of an import: a header naming the source, every problem as a comment, then the
 * document. Throws (with the validator's paths) if the result would not load: that is a bug of
 * the importer, never something to hand to a user.
 */
export function renderImport(result: ImportResult, source: string, tool: string): string {
  const doc = new Document({ ...(result.config.global !== undefined ? { global: result.config.global } : {}), upstreams: result.config.upstreams });
  const head = [`Imported from ${source} by \`checkups import ${tool}\`.`];
  if (result.problems.length > 0) {
    head.push(`Not carried, or carried with another meaning (${result.problems.length}):`);
    for (const p of result.problems) head.push(`  ${formatProblem(p)}`);
  }
  doc.commentBefore = head.map((l) => ` ${l}`).join('\n');
  const text = doc.toString({ lineWidth: 0, doubleQuotedAsJSON: true });
  parseConfigText(text, `${source} (imported)`);
  return text;
}
