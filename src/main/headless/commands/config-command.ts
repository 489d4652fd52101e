import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { type EditResult, getKey, setKey, unsetKey } from '../../core/config/config-edit.js';
import { configJsonSchema } from '../../core/config/config-json-schema.js';
import { loadConfig } from '../../core/config/config-loader.js';
import { EXECUTABLE_FIELDS, readStoredConfig } from '../../core/config/config-update.js';
import { saveConfigFile, withFileLock } from '../../core/config/config-writer.js';
import { configLocation, legacyConfigNotice, paths, resolveDataDir } from '../../core/config/data-dir.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { type DaemonLink, requestDaemon } from '../daemon-client.js';
import { EXIT_FAILURE, EXIT_USAGE } from '../usage-error.js';

interface Flags {
  dataDir?: string;
  json?: boolean;
  showSecrets?: boolean;
}

const fail = (message: string | string[], code = EXIT_FAILURE): void => {
  for (const m of typeof message === 'string' ? [message] : message)
    process.stderr.write(`exo-sentinel: ${m}\n`);
  process.exitCode = code;
};

/** Scalars print bare (for scripts: `$(exo-sentinel config get exo.url)`), everything else as JSON. */
const show = (v: unknown, json: boolean): string =>
  json || (v !== null && typeof v === 'object') ? JSON.stringify(v, null, 2) : String(v);

/** What a running daemon said to a configuration write or reload, and how long it may take to answer. */
interface DaemonAnswer {
  status: number;
  body: {
    error?: { message?: string };
    reloaded?: boolean;
    applied?: string[];
    restartRequired?: string[];
    reload?: { ok: boolean; applied?: string[]; restartRequired?: string[]; errors?: string[] };
  };
}

/** The daemon's answer to a configuration write or reload (daemon-client.ts sends it with the token). */
async function askDaemon(
  link: DaemonLink,
  method: 'PATCH' | 'POST',
  path: string,
  body?: unknown,
): Promise<DaemonAnswer> {
  const r = await requestDaemon<DaemonAnswer['body']>(link, method, path, body, 5000);
  return { status: r.status, body: r.body };
}

/**
 * Writes an edited configuration: through the running daemon's API when there is one (it validates, writes
 * and applies it, and says what waits for a restart), else straight to the file (0600, atomic). A field that
 * names a program to run is refused by the API: the file is written here and the daemon asked to reload it.
 */
async function writeEdit(
  dataDir: string,
  key: string,
  make: (stored: Record<string, unknown>) => EditResult,
): Promise<void> {
  const p = paths(dataDir);
  const daemon = runningDaemon(p.pidfile);
  // Read, changed and written under the file's lock: two commands at once each keep their key.
  const direct = (): boolean =>
    withFileLock(p.config, () => {
      const s = stored(p.config);
      if (!s) return false;
      const e = make(s);
      if (!e.ok) {
        fail(e.errors, EXIT_USAGE);
        return false;
      }
      const saved = saveConfigFile(p.config, e.stored);
      if (!saved.ok) fail(saved.errors.join('; '));
      return saved.ok;
    });
  const s = stored(p.config);
  if (!s) return;
  const edit = make(s);
  if (!edit.ok) return fail(edit.errors, EXIT_USAGE);
  const what = edit.value === undefined ? `removed ${key}` : `set ${key}`;
  if (!daemon?.api) {
    if (!direct()) return;
    process.stdout.write(
      `${what} in ${p.config}${daemon ? '; the daemon (no API) reloads the file by itself' : ' (applies when the daemon starts)'}\n`,
    );
    return;
  }
  const fileOnly = (EXECUTABLE_FIELDS as readonly string[]).some((f) => f === key || f.startsWith(`${key}.`));
  const link: DaemonLink = { pid: daemon.pid, api: daemon.api, tokenFile: p.apiToken };
  let answer: DaemonAnswer;
  try {
    if (fileOnly) {
      if (!direct()) return;
      answer = await askDaemon(link, 'POST', '/api/v1/config/reload');
    }
    // Only this key: the daemon changes its file as it stands, so a write made meanwhile is kept.
    else
      answer = await askDaemon(
        link,
        'PATCH',
        '/api/v1/config',
        edit.value === undefined ? { unset: [key] } : { set: { [key]: edit.value } },
      );
  } catch (e) {
    fail(
      `the daemon (pid ${daemon.pid}) did not answer at ${daemon.api} (${(e as Error).message}); nothing was changed${fileOnly ? ' but the file, which it reloads by itself' : ''}`,
    );
    return;
  }
  const b = answer.body;
  if (answer.status !== 200) {
    fail(`the daemon (pid ${daemon.pid}) refused it: ${b.error?.message ?? `HTTP ${answer.status}`}`);
    return;
  }
  const restart = b.restartRequired ?? b.reload?.restartRequired ?? [];
  const applied = b.applied ?? b.reload?.applied ?? [];
  const pending = restart.filter((k) => k === key || k.startsWith(`${key}.`) || key.startsWith(`${k}.`));
  process.stdout.write(
    `${what} in ${p.config}; ${
      pending.length
        ? `restart the daemon (pid ${daemon.pid}) to apply it`
        : applied.length
          ? `the daemon (pid ${daemon.pid}) applied it`
          : `the daemon (pid ${daemon.pid}) already runs with it (a flag may override it)`
    }\n`,
  );
}

/** The stored file for an edit (absent: `{}`), or an error printed. */
function stored(path: string): Record<string, unknown> | null {
  const s = readStoredConfig(path);
  if (!s.ok) fail(`${s.error}; fix the file first (exo-sentinel config validate)`);
  return s.ok ? s.value : null;
}

/** `exo-sentinel config path|get|set|unset|validate|schema`. */
export function registerConfig(program: Command): void {
  const config = program
    .command('config')
    .description('the configuration file: where it is, read, change and check keys, its JSON Schema');
  registerPath(config);
  registerGet(config);
  registerSet(config);
  registerUnset(config);
  registerValidate(config);
  registerSchema(config);
}

/** `config path`: where the file is (it may not exist yet). */
function registerPath(config: Command): void {
  config
    .command('path')
    .description('print where the configuration file is (it may not exist yet: every key has a default)')
    .option('--json', 'print {path, exists, preferred, legacy}')
    .action((_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<Flags>();
      const loc = configLocation(resolveDataDir(f.dataDir));
      if (f.json)
        process.stdout.write(`${JSON.stringify({ ...loc, exists: existsSync(loc.path) }, null, 2)}\n`);
      else process.stdout.write(`${loc.path}\n`);
      const notice = legacyConfigNotice(loc);
      if (notice && !f.json) process.stderr.write(`exo-sentinel: ${notice}\n`);
    });
}

/** `config get [key]`: a value or the whole configuration, defaults filled in, secrets masked. */
function registerGet(config: Command): void {
  config
    .command('get')
    .description(
      'print the value of a key (dotted, e.g. guard.contextCap), or the whole configuration; defaults filled in',
    )
    .argument('[key]', 'a dotted key')
    .option('--json', 'print JSON even for a single value')
    .option('--show-secrets', 'show tokens instead of masking them')
    .action((key: string | undefined, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<Flags>();
      const path = paths(resolveDataDir(f.dataDir)).config;
      const loaded = loadConfig(path);
      if (!loaded.ok) return fail(loaded.errors);
      const r = getKey(loaded.config, key, f.showSecrets === true);
      if (!r.ok) return fail(`config get: ${r.error}`, EXIT_USAGE);
      process.stdout.write(`${show(r.value, f.json === true)}\n`);
    });
}

/** `config set <key> <value>`: checked, written, applied by a running daemon. */
function registerSet(config: Command): void {
  config
    .command('set')
    .description(
      'set a key: the value is read as JSON when it parses (8192, true, null, ["a"]), else as text; checked before it is written; a running daemon applies it',
    )
    .argument('<key>', 'a dotted key, e.g. guard.contextCap')
    .argument('<value>', 'the value')
    .action(async (key: string, raw: string, _o: unknown, cmd: Command) => {
      const dataDir = resolveDataDir(cmd.optsWithGlobals<Flags>().dataDir);
      await writeEdit(dataDir, key, (s) => setKey(s, key, raw));
    });
}

/** `config unset <key>`: removed from the file, its default applies again. */
function registerUnset(config: Command): void {
  config
    .command('unset')
    .description('remove a key from the file: its default applies again')
    .argument('<key>', 'a dotted key')
    .action(async (key: string, _o: unknown, cmd: Command) => {
      const dataDir = resolveDataDir(cmd.optsWithGlobals<Flags>().dataDir);
      await writeEdit(dataDir, key, (s) => unsetKey(s, key));
    });
}

/** `config validate [file]`: exit 0 when valid, 1 with each problem. */
function registerValidate(config: Command): void {
  config
    .command('validate')
    .description(
      'check a configuration file (default: the one in use); exit 0 when valid, 1 with each problem',
    )
    .argument('[file]', 'the file to check')
    .option('--json', 'print {file, valid, errors}')
    .action((file: string | undefined, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<Flags>();
      const path = file ?? paths(resolveDataDir(f.dataDir)).config;
      const r = loadConfig(path, {}, true);
      if (f.json)
        process.stdout.write(
          `${JSON.stringify({ file: path, valid: r.ok, errors: r.ok ? [] : r.errors }, null, 2)}\n`,
        );
      else if (r.ok) process.stdout.write(`${path}: valid\n`);
      else for (const e of r.errors) process.stderr.write(`exo-sentinel: ${e}\n`);
      if (!r.ok) process.exitCode = EXIT_FAILURE;
    });
}

/** `config schema`: the JSON Schema, for editors. */
function registerSchema(config: Command): void {
  config
    .command('schema')
    .description('print the configuration\'s JSON Schema (for editors: "$schema" in config.json)')
    .action(() => {
      process.stdout.write(`${JSON.stringify(configJsonSchema(), null, 2)}\n`);
    });
}
