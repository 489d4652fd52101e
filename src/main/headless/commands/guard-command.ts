import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import type { GuardModeResult } from '../../../shared/api-contracts.js';
import type { GuardMode } from '../../../shared/risk.js';
import { readGuardMode } from '../../core/actions/action-runner.js';
import { AuditStore } from '../../core/actions/audit-store.js';
import {
  GUARD_CHOICES_TEXT,
  GuardChoice,
  pinGuardMode,
  readGuardOverride,
} from '../../core/actions/guard-override.js';
import { resolveDataDir } from '../../core/config/data-dir.js';
import { askDaemon, findDaemon } from '../daemon-client.js';
import { EXIT_FAILURE } from '../usage-error.js';
import { registerGuardProfile } from './guard-profile-command.js';
import { openStores } from './store-access.js';

const fail = (message: string): void => {
  process.stderr.write(`exo-sentinel: ${message}\n`);
  process.exitCode = EXIT_FAILURE;
};

interface GuardView {
  mode: GuardMode;
  override: GuardMode | null;
  byLevel: GuardMode;
  changed: boolean;
}

/** The guard's mode as the database holds it (read-only), with whether `changed` by this command. */
function readView(
  dataDir: string | undefined,
  changed: (override: GuardMode | null) => boolean,
): GuardView | null {
  const s = openStores(dataDir, 'read');
  if ('error' in s) {
    fail(s.error);
    return null;
  }
  try {
    const auto = readGuardMode(s.timeline);
    const override = readGuardOverride(s.timeline);
    return { mode: override ?? auto, override, byLevel: auto, changed: changed(override) };
  } finally {
    s.db.close();
  }
}

/**
 * Pins (or unpins) the guard: through the running daemon's API when there is one (applied at once, the daemon
 * the one writer), else in the database itself (a daemon started later reads it).
 */
async function pin(dataDir: string | undefined, mode: GuardMode | null): Promise<GuardView | null> {
  const daemon = findDaemon(resolveDataDir(dataDir));
  if (daemon) {
    const before = readView(dataDir, () => false);
    if (!before) return null;
    const r = await askDaemon<GuardModeResult>(daemon, 'PUT', '/api/v1/guard/mode', {
      mode: mode ?? 'auto',
    });
    if (!r.ok) {
      fail(r.message);
      return null;
    }
    return readView(dataDir, (override) => override !== before.override);
  }
  const s = openStores(dataDir, 'write');
  if ('error' in s) {
    fail(s.error);
    return null;
  }
  try {
    const auto = readGuardMode(s.timeline);
    const changed = pinGuardMode(
      s.timeline,
      new AuditStore(s.db),
      mode,
      auto,
      Date.now(),
      userInfo().username,
    );
    const override = readGuardOverride(s.timeline);
    return { mode: override ?? auto, override, byLevel: auto, changed };
  } finally {
    s.db.close();
  }
}

/**
 * `exo-sentinel guard [mode]`: shows the guard's mode, or pins it (`auto` follows the risk level again). A
 * running daemon is asked through its API; without one the pin is kept in the data directory for the next.
 */
export function registerGuard(program: Command): void {
  const guard = program
    .command('guard')
    .description('show the guard mode, or pin it by hand (auto = follow the risk level)')
    .argument('[mode]', GUARD_CHOICES_TEXT, (v: string) => {
      const choice = GuardChoice.safeParse(v);
      if (!choice.success)
        throw new InvalidArgumentError(`expected one of ${GUARD_CHOICES_TEXT}, got "${v}"`);
      return choice.data;
    })
    .option('--json', 'print JSON')
    .action(async (mode: GuardMode | null | undefined, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const view = mode === undefined ? readView(f.dataDir, () => false) : await pin(f.dataDir, mode);
      if (!view) return;
      if (f.json) process.stdout.write(`${JSON.stringify(view)}\n`);
      else
        process.stdout.write(
          view.override
            ? `guard: ${view.override}, pinned by hand (the risk level alone gives ${view.byLevel}); \`exo-sentinel guard auto\` undoes it\n`
            : `guard: ${view.byLevel}, following the risk level\n`,
        );
    });
  registerGuardProfile(guard);
}
