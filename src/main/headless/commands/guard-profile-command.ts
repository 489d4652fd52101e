import { userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import type { GuardProfileChoice } from '../../../shared/api-contracts.js';
import { AuditStore } from '../../core/actions/audit-store.js';
import {
  GUARD_PROFILES,
  type GuardProfile,
  GuardProfileSchema,
  readGuardProfile,
  setGuardProfile,
} from '../../core/actions/guard-profile.js';
import { loadConfig } from '../../core/config/config-loader.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { askDaemon, findDaemon } from '../daemon-client.js';
import { EXIT_FAILURE } from '../usage-error.js';
import { openStores } from './store-access.js';

const DESCRIPTIONS: Record<GuardProfile, string> = {
  protect:
    'serialise generation requests while EXO has wired the Metal working set on an affected macOS build (the default)',
  balanced: 'the risk level alone chooses the mode',
  observe: 'record only: the guard never holds a request back',
};

interface ProfileView {
  profile: GuardProfile;
  configured: GuardProfile;
  changed: boolean;
}

const fail = (message: string): void => {
  process.stderr.write(`exo-sentinel: ${message}\n`);
  process.exitCode = EXIT_FAILURE;
};

/**
 * Shows the profile (read-only), or chooses one: through the running daemon's API when there is one (it
 * applies it at once), else in the database itself.
 */
async function profileView(
  dataDir: string | undefined,
  profile: GuardProfile | undefined,
): Promise<ProfileView | null> {
  const daemon = profile === undefined ? null : findDaemon(resolveDataDir(dataDir));
  if (daemon && profile !== undefined) {
    const r = await askDaemon<GuardProfileChoice>(daemon, 'PUT', '/api/v1/guard/profile', { profile });
    if (!r.ok) fail(r.message);
    return r.ok ? { profile: r.body.profile, configured: r.body.configured, changed: r.body.changed } : null;
  }
  const s = openStores(dataDir, profile === undefined ? 'read' : 'write');
  if ('error' in s) {
    fail(s.error);
    return null;
  }
  try {
    const cfg = loadConfig(paths(s.dataDir).config);
    const configured: GuardProfile = cfg.ok ? cfg.config.actions.guardProfile : 'protect';
    const changed =
      profile !== undefined &&
      setGuardProfile(s.timeline, new AuditStore(s.db), profile, configured, Date.now(), userInfo().username);
    return { profile: readGuardProfile(s.timeline, configured), configured, changed };
  } finally {
    s.db.close();
  }
}

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
    .action(async (profile: GuardProfile | undefined, _o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const v = await profileView(f.dataDir, profile);
      if (!v) return;
      if (f.json) process.stdout.write(`${JSON.stringify(v)}\n`);
      else process.stdout.write(`guard profile: ${v.profile} — ${DESCRIPTIONS[v.profile]}\n`);
    });
}
