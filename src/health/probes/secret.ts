/**
 * Resolves a probe credential given as a value, an environment variable or a file
 * (`pass`/`pass_env`/`pass_file`, `redis_opts.password`/`password_env`/`password_file`). It is
 * read when the probe runs, so a rotated file is picked up without a restart and the secret
 * itself is never part of what is stored, streamed or shown. Errors name the source, never the value.
 */
import { readFileSync } from 'node:fs';

export interface SecretSource {
  readonly value?: string | undefined;
  readonly env?: string | undefined;
  readonly file?: string | undefined;
}

/** The secret, or undefined when none is configured. `what` names it in errors ("mysql pass"). */
export function resolveSecret(what: string, source: SecretSource): string | undefined {
  if (source.value !== undefined) return source.value;
  if (source.env !== undefined) {
    const v = process.env[source.env];
    if (v === undefined) throw new Error(`${what}: environment variable ${source.env} is not set`);
    return v;
  }
  if (source.file !== undefined) {
    let text: string;
    try {
      text = readFileSync(source.file, 'utf8');
    } catch (err) {
      throw new Error(`${what}: cannot read ${source.file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    // A trailing newline is how editors and `echo` end files, not part of the secret.
    return text.replace(/\r?\n$/, '');
  }
  return undefined;
}
