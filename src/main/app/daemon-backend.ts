import { acknowledgeHold } from '../core/actions/post-panic-hold.js';
import { collectCluster } from '../core/cluster/cluster-view.js';
import type { Config } from '../core/config/config-schema.js';
import { saveConfigFile } from '../core/config/config-writer.js';
import { paths } from '../core/config/data-dir.js';
import type { Daemon } from '../core/daemon.js';
import { ExoApiClient } from '../core/exo/exo-api-client.js';
import { buildCrashReport } from '../core/report/report-builder.js';
import type { AppBackend } from './app-backend.js';

const RAW_LIMIT_MS = 6 * 3_600_000;

/** The app's IPC answers, from the daemon running in the main process (the same data the HTTP API serves). */
export function daemonBackend(daemon: Daemon, config: Config, dataDir: string): AppBackend {
  const exo = new ExoApiClient(config.exo.url, config.exo.timeoutMs);
  return {
    status: () => daemon.statusView(),
    timeline: (from, to) =>
      to - from <= RAW_LIMIT_MS
        ? { from, to, resolution: 'raw', samples: daemon.store.samples(from, to, true) }
        : { from, to, resolution: 'minute', minutes: daemon.store.minuteSamples(from, to) },
    events: (kind, from) =>
      daemon.store.events(from, Date.now(), kind, 1000) as unknown as Array<Record<string, unknown>>,
    panics: () =>
      daemon.reports.list({}).filter((r) => r.status !== 'skipped') as unknown as Array<
        Record<string, unknown>
      >,
    panicReport: (id) => {
      const r = daemon.reports.get(id);
      return r && r.category === 'panic' && r.status === 'ingested'
        ? buildCrashReport(r, daemon.store, daemon.reports, Date.now())
        : null;
    },
    cluster: () =>
      collectCluster(
        daemon.statusView(),
        config.cluster,
        exo,
        daemon.risk.monitor.snapshot.nodeId,
      ) as Promise<unknown> as Promise<Record<string, unknown>>,
    advisory: () => daemon.advisory() as unknown as Record<string, unknown>,
    config: () => ({ config, path: paths(dataDir).config }),
    saveConfig: (input) => {
      const r = saveConfigFile(paths(dataDir).config, input);
      return r.ok ? { ok: true, errors: [] } : r;
    },
    ack: () => ({ ended: acknowledgeHold(daemon.store, daemon.audit, Date.now(), 'the menu bar') }),
    setGuardMode: (mode) => daemon.setGuardOverride(mode, 'the dashboard'),
  };
}
