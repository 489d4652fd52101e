import type { Command } from 'commander';
import { type ClusterRow, collectCluster } from '../../core/cluster/cluster-view.js';
import { paths, resolveDataDir } from '../../core/config/data-dir.js';
import { ExoApiClient } from '../../core/exo/exo-api-client.js';
import { runningDaemon } from '../../core/instance-lock.js';
import { formatBytes, formatPercent } from '../../core/util/format.js';
import { isLocalApi, tokenForRequest } from '../daemon-client.js';
import { table } from '../output.js';
import { configFor, pollExo, takeReading } from './status-command.js';

export function renderCluster(rows: ClusterRow[]): string {
  return table(
    ['HOST', 'LEVEL', 'FREE', 'GPU IN USE / CEILING', 'PANICS 72H', 'REASONS'],
    rows.map((r) => [
      r.host,
      r.reachable ? (r.level ?? '—') : `unreachable (${r.error})`,
      formatPercent(r.memory.freePercent),
      `${formatBytes(r.gpu.inUseBytes)} / ${formatBytes(r.gpu.ceilingBytes)}`,
      r.panics72h === null ? '—' : String(r.panics72h),
      r.reasons
        .map((x) => x.message)
        .join('; ')
        .slice(0, 100),
    ]),
  );
}

export function registerCluster(program: Command): void {
  program
    .command('cluster')
    .description(
      "every node's level, memory, GPU and panics: this host and its peers (configured, or found in EXO's topology)",
    )
    .option('--json', 'print JSON')
    .action(async (_o: unknown, cmd: Command) => {
      const f = cmd.optsWithGlobals<{ json?: boolean; dataDir?: string }>();
      const dataDir = resolveDataDir(f.dataDir);
      const config = configFor(dataDir);
      if (!config) return;
      // A running daemon answers for this host; otherwise take a reading here.
      let result: { rows: ClusterRow[] } | null = null;
      try {
        const api = runningDaemon(paths(dataDir).pidfile)?.api ?? `http://${config.api.listen}`;
        // The token only to an address of this machine (the pidfile is data; see daemon-client.ts).
        const token = isLocalApi(api) ? tokenForRequest(paths(dataDir).apiToken) : null;
        const r = await fetch(`${api}/api/v1/cluster`, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
          redirect: 'manual',
          signal: AbortSignal.timeout(config.cluster.timeoutMs + 3000),
        });
        if (r.ok) result = (await r.json()) as { rows: ClusterRow[] };
      } catch {
        result = null;
      }
      if (!result) {
        const [reading, exo] = await Promise.all([takeReading(config), pollExo(config)]);
        const self = {
          identity: reading.identity,
          sample: reading.result.sample,
          risk: null,
          exo,
          panics: null,
        };
        result = await collectCluster(
          self,
          config.cluster,
          new ExoApiClient(config.exo.url, config.exo.timeoutMs),
          exo.nodeId,
        );
      }
      process.stdout.write(
        f.json ? `${JSON.stringify(result, null, 2)}\n` : `${renderCluster(result.rows)}\n`,
      );
    });
}
