import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import { AuditStore } from '../../core/actions/audit-store.js';
import {
  GUARD_PROFILES,
  type GuardProfile,
  GuardProfileSchema,
  readGuardProfile,
  setGuardProfile,
} from '../../core/actions/guard-profile.js';
import { loadConfig } from '../../core/config/config-loader.js';
import { paths } from '../../core/config/data-dir.js';
import { EXIT_FAILURE } from '../usage-error.js';
import { openStores } from './store-access.js';

const DESCRIPTIONS: Record<GuardProfile, string> = {
  protect:
    'serialise generation requests while EXO has wired the Metal working set on an affected macOS build (the default)',
  balanced: 'the risk level alone chooses the mode',
  observe: 'record only: the guard never holds a request back',
};

/** `exo-sentinel guard profile [protect|balanced|observe]`: shows or chooses the guard's profile. */
export function registerGuardProfile(guard: Command): void {
  guard
    .command('profile')
    .description('show the guard profile, or choose protect, balanced or observe')
    .argument('[profile]', GUARD_PROFILES.join(', '), (v: string) => {
      const p = GuardProfileSchema.safeParse(v);
      if (!p.success)
        throw new InvalidArgumentError(`expected one of ${GUARD_PROFILES.join(', ')}, got "${v}"`);
      return p.data;
    })
    .option('--json', 'print JSON')
    .action((profile: GuardProfile | undefined, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const s = openStores(f.dataDir, profile === undefined ? 'read' : 'write');
      if ('error' in s) {
        process.stderr.write(`exo-sentinel: ${s.error}\n`);
        process.exitCode = EXIT_FAILURE;
        return;
      }
      try {
        const cfg = loadConfig(paths(s.dataDir).config);
        const configured: GuardProfile = cfg.ok ? cfg.config.actions.guardProfile : 'protect';
        const changed =
          profile !== undefined &&
          setGuardProfile(
            s.timeline,
            new AuditStore(s.db),
            profile,
            configured,
            Date.now(),
            userInfo().username,
          );
        const now = readGuardProfile(s.timeline, configured);
        if (f.json) process.stdout.write(`${JSON.stringify({ profile: now, configured, changed })}\n`);
        else process.stdout.write(`guard profile: ${now} — ${DESCRIPTIONS[now]}\n`);
      } finally {
        s.db.close();
      }
    });
}
