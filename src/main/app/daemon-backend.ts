import { acknowledgeHold } from '../core/actions/post-panic-hold.js';
import { eventsPage, reportsPage, timelinePage } from '../core/api/bounded-queries.js';
import { collectCluster } from '../core/cluster/cluster-view.js';
import { configJsonSchema } from '../core/config/config-json-schema.js';
import type { Config } from '../core/config/config-schema.js';
import { maskConfig, saveClientConfig } from '../core/config/config-update.js';
import { paths } from '../core/config/data-dir.js';
import type { Daemon } from '../core/daemon.js';
import { ExoApiClient } from '../core/exo/exo-api-client.js';
import { buildCrashReport } from '../core/report/report-builder.js';
import type { AppBackend } from './app-backend.js';
import { withLocalNetworkHint } from './local-network.js';

/**
 * The app's IPC answers, from the daemon running in the main process: the same bounded pages, masked tokens
 * and protected configuration fields as the HTTP API.
 */
export function daemonBackend(daemon: Daemon, config: Config, dataDir: string): AppBackend {
  const exo = new ExoApiClient(config.exo.url, config.exo.timeoutMs);
  return {
    status: () => daemon.statusView(),
    timeline: async (from, to) => ({ ...(await timelinePage(daemon.store, { from, to })) }),
    events: async (kind, from, before) => ({
      ...(await eventsPage(daemon.store, { from, to: Date.now(), kind, before })),
    }),
    panics: (before) => ({ ...reportsPage(daemon.reports, { before }) }),
    panicReport: (id) => {
      const r = daemon.reports.get(id);
      return r && r.category === 'panic' && r.status === 'ingested'
        ? buildCrashReport(r, daemon.store, daemon.reports, Date.now())
        : null;
    },
    cluster: async () =>
      withLocalNetworkHint(
        await collectCluster(
          daemon.statusView(),
          daemon.config.cluster,
          exo,
          daemon.risk.monitor.snapshot.nodeId,
        ),
        process.platform,
      ) as unknown as Record<string, unknown>,
    advisory: () => daemon.advisory() as unknown as Record<string, unknown>,
    config: () => ({
      config: maskConfig(daemon.config),
      path: paths(dataDir).config,
      reload: daemon.statusView()['config'] ?? null,
    }),
    configSchema: () => configJsonSchema(),
    // Saved, then applied at once by the daemon's reload; what waits for a restart is listed.
    saveConfig: (input) => {
      const r = saveClientConfig(paths(dataDir).config, input);
      if (!r.ok) return { ok: false, errors: r.errors };
      const applied = daemon.reloadConfig('app');
      return applied?.ok
        ? { ok: true, errors: [], applied: applied.applied, restartRequired: applied.restartRequired }
        : { ok: true, errors: [], ...(applied ? { reloadErrors: applied.errors } : {}) };
    },
    ack: () => ({ ended: acknowledgeHold(daemon.store, daemon.audit, Date.now(), 'the menu bar') }),
    setGuardMode: (mode) => daemon.setGuardOverride(mode, 'the dashboard'),
    guardProfile: () => daemon.guardProfileView(),
    setGuardProfile: (profile) => daemon.chooseGuardProfile(profile, 'the dashboard'),
  };
}
