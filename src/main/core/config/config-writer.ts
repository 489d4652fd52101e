import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { formatIssues } from './config-loader.js';
import { type Config, ConfigSchema } from './config-schema.js';

export type SaveResult =
  | { ok: true; config: Config }
  | { ok: false; errors: string[]; reason: 'invalid' | 'write-failed' };

/**
 * Validates a configuration and writes it atomically with mode 0600 (it may hold tokens); a running daemon
 * reloads it. A failed write (disk full, read-only) is an error value naming the file.
 */
export function saveConfigFile(path: string, input: unknown, where = 'config'): SaveResult {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success)
    return { ok: false, errors: formatIssues(parsed.error.issues, input, where), reason: 'invalid' };
  try {
    // The platform's config directory (~/.config/exo-sentinel) may not exist yet; only its owner reads it.
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    writeFileAtomic(path, `${JSON.stringify(input, null, 2)}\n`, 0o600);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    return {
      ok: false,
      errors: [`${where}: cannot write ${path} (${err.code ?? err.message})`],
      reason: 'write-failed',
    };
  }
  return { ok: true, config: parsed.data };
}
