/**
 * Reads `checkups.yaml` (or `.json`) from disk. A file that does not parse, or does not
 * validate, loads nothing: the error lists the problems with their paths (at most
 * MAX_LISTED_ERRORS, then how many more).
 */
import { readFileSync } from 'node:fs';
import { parseDocument, type Document } from 'yaml';
import type { CheckupsConfig } from '../core/model.ts';
import { errorSummary } from '../util/bounded-text.ts';
import { CheckupsError } from '../util/errors.ts';
import { parseConfig } from './validate.ts';

/** Aliases one document may expand; more is the "billion laughs" attack, not a config. */
export const MAX_YAML_ALIASES = 100;

function yamlErrors(doc: Document, source: string): string[] {
  return doc.errors.map((e) => {
    const at = e.linePos?.[0];
    return `${source}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
  });
}

/** Parses YAML or JSON text; syntax errors come back as `file:line:col: message` lines. */
export function parseConfigText(text: string, source: string): CheckupsConfig {
  let data: unknown;
  if (source.endsWith('.json')) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw invalid(source, [`${source}: ${(err as Error).message}`]);
    }
    // JSON.parse keeps the last of duplicate keys silently; YAML (a JSON superset) refuses them.
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) throw invalid(source, yamlErrors(doc, source));
  } else {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) throw invalid(source, yamlErrors(doc, source));
    try {
      data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
    } catch (err) {
      throw invalid(source, [
        `${source}: ${(err as Error).message} (at most ${MAX_YAML_ALIASES} alias expansions); reduce the use of YAML aliases (*name) and anchors (&name)`,
      ]);
    }
  }
  const parsed = parseConfig(data ?? {});
  if (!parsed.ok) throw invalid(source, parsed.errors);
  return parsed.value;
}

export function loadConfigFile(path: string): CheckupsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EISDIR' ? ': it is a directory; give the path of the config file (e.g. checkups.yaml)' : `: ${(err as Error).message}`;
    throw new CheckupsError('INVALID_CONFIG', `cannot read config ${path}${hint}`);
  }
  return parseConfigText(text, path);
}

function invalid(source: string, errors: string[]): CheckupsError {
  return new CheckupsError('INVALID_CONFIG', `${source}: ${errorSummary(errors, 'nothing loaded')}`, errors);
}
