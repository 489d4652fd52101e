import { renameSync, writeFileSync } from 'node:fs';
import { formatIssues } from './config-loader.js';
import { type Config, ConfigSchema } from './config-schema.js';

export type SaveResult = { ok: true; config: Config } | { ok: false; errors: string[] };

/** Validates a configuration and writes it atomically; it applies when the daemon next starts. */
export function saveConfigFile(path: string, input: unknown, where = 'config'): SaveResult {
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) return { ok: false, errors: formatIssues(parsed.error.issues, input, where) };
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(input, null, 2)}\n`, { mode: 0o644 });
  renameSync(tmp, path);
  return { ok: true, config: parsed.data };
}
