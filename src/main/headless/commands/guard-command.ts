import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import type { GuardMode } from '../../../shared/risk.js';
import { readGuardMode } from '../../core/actions/action-runner.js';
import { AuditStore } from '../../core/actions/audit-store.js';
import {
  GUARD_CHOICES_TEXT,
  GuardChoice,
  pinGuardMode,
  readGuardOverride,
} from '../../core/actions/guard-override.js';
import { EXIT_FAILURE } from '../usage-error.js';
import { registerGuardProfile } from './guard-profile-command.js';
import { openStores } from './store-access.js';

/**
 * `exo-sentinel guard [mode]`: shows the guard's mode, or pins it (`auto` follows the risk level again).
 * Written to the data directory like `ack`, so a running daemon applies it at its next tick.
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
    .action((mode: GuardMode | null | undefined, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const s = openStores(f.dataDir, mode === undefined ? 'read' : 'write');
      if ('error' in s) {
        process.stderr.write(`exo-sentinel: ${s.error}\n`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      try {
        const auto = readGuardMode(s.timeline);
        const changed =
          mode !== undefined &&
          pinGuardMode(s.timeline, new AuditStore(s.db), mode, auto, Date.now(), userInfo().username);
        const override = readGuardOverride(s.timeline);
        const view = { mode: override ?? auto, override, byLevel: auto, changed };
        if (f.json) process.stdout.write(`${JSON.stringify(view)}\n`);
        else
          process.stdout.write(
            override
              ? `guard: ${override}, pinned by hand (the risk level alone gives ${auto}); \`exo-sentinel guard auto\` undoes it\n`
              : `guard: ${auto}, following the risk level\n`,
          );
      } finally {
        s.db.close();
      }
    });
  registerGuardProfile(guard);
}
