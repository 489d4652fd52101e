import type { ConfigSaveResult, SentinelService } from '../core/service/sentinel-service.js';
import type { AppBackend } from './app-backend.js';
import { withLocalNetworkHint } from './local-network.js';

/** A configuration write's answer as the window reads it. */
function saveAnswer(r: ConfigSaveResult): ReturnType<AppBackend['saveConfig']> {
  if (!r.ok) return { ok: false, errors: r.errors };
  return r.reloaded
    ? { ok: true, errors: [], applied: r.applied, restartRequired: r.restartRequired }
    : { ok: true, errors: [], ...(r.reloadErrors ? { reloadErrors: r.reloadErrors } : {}) };
}

/**
 * The app's IPC answers, from the service of the daemon running in the main process: the same bounded pages,
 * masked tokens and protected configuration fields as the HTTP API (the same calls answer both).
 */
export function daemonBackend(service: SentinelService, platform: string = process.platform): AppBackend {
  return {
    status: () => service.status(),
    timeline: (from, to) => service.timeline({ from, to }),
    events: (kind, from, before) => service.events({ from, to: Date.now(), kind, before }),
    panics: (before) => service.panics({ before }),
    panicReport: (id) => {
      const r = service.panicReport(id);
      return r.ok ? r.markdown : null;
    },
    cluster: async () => withLocalNetworkHint(await service.cluster(), platform),
    advisory: () => service.advisory(),
    config: () => service.config(),
    configSchema: () => service.configSchema(),
    // Saved, then applied at once by the daemon's reload; what waits for a restart is listed.
    saveConfig: (input) => saveAnswer(service.saveConfig(input, 'app')),
    patchConfig: (patch) => saveAnswer(service.patchConfig(patch, 'app')),
    ack: () => service.ack('the menu bar'),
    setGuardMode: (mode) => service.setGuardMode(mode, 'the dashboard'),
    guardProfile: () => service.guardProfile(),
    setGuardProfile: (profile) => service.setGuardProfile(profile, 'the dashboard'),
  };
}
