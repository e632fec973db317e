/**
 * Reads `checkups.yaml` (or `.json`) from disk. A file that does not parse, or does not
 * validate, loads nothing: the error lists every problem with its path.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { CheckupsConfig } from '../core/model.ts';
import { CheckupsError } from '../util/errors.ts';
import { parseConfig } from './validate.ts';

/** Parses YAML or JSON text; syntax errors come back as `file:line:col: message` lines. */
export function parseConfigText(text: string, source: string): CheckupsConfig {
  let data: unknown;
  if (source.endsWith('.json')) {
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw invalid(source, [`${source}: ${(err as Error).message}`]);
    }
  } else {
    const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) {
      throw invalid(
        source,
        doc.errors.map((e) => {
          const at = e.linePos?.[0];
          return `${source}${at ? `:${at.line}:${at.col}` : ''}: ${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`;
        }),
      );
    }
    data = doc.toJS({ maxAliasCount: 100 });
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
    throw new CheckupsError('INVALID_CONFIG', `cannot read config ${path}: ${(err as Error).message}`);
  }
  return parseConfigText(text, path);
}

function invalid(source: string, errors: string[]): CheckupsError {
  const n = errors.length;
  return new CheckupsError(
    'INVALID_CONFIG',
    `${source}: ${n} error${n === 1 ? '' : 's'}, nothing loaded:\n  ${errors.join('\n  ')}`,
    errors,
  );
}
