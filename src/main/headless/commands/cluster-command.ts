import type { Command } from 'commander';
import { type ClusterRow, collectCluster, rowsFromClusterAnswer } from '../../core/cluster/cluster-view.js';
import { resolveDataDir } from '../../core/config/data-dir.js';
import { ExoApiClient } from '../../core/exo/exo-api-client.js';
import { formatBytes, formatPercent } from '../../core/util/format.js';
import { askDaemon, debugClient, findDaemon } from '../daemon-client.js';
import { table } from '../output.js';
import { configFor, pollExo, takeReading } from './status-command.js';

export function renderCluster(rows: ClusterRow[]): string {
  return table(
    ['HOST', 'FROM', 'LEVEL', 'FREE', 'GPU IN USE / CEILING', 'PANICS 72H', 'REASONS'],
    rows.map((r) => [
      r.host,
      // What a node found only in EXO's topology says of itself is its own claim.
      r.source === 'self'
        ? 'this host'
        : r.source === 'configured'
          ? 'cluster.peers'
          : 'topology (unverified)',
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
      // A running daemon answers for this host (found through its pidfile, never by asking whatever listens on
      // api.listen: that could be anyone's while the daemon is down, and the token goes with the request);
      // otherwise, or when its answer is not a list of rows, a reading is taken here.
      let result: { rows: ClusterRow[] } | null = null;
      const link = findDaemon(dataDir);
      if (link) {
        const a = await askDaemon<unknown>(
          link,
          'GET',
          '/api/v1/cluster',
          undefined,
          config.cluster.timeoutMs + 3000,
        );
        const rows = a.ok ? rowsFromClusterAnswer(a.body) : null;
        if (rows) result = { rows };
        else
          debugClient(`cluster: ${a.ok ? 'the daemon answered no list of rows' : a.message}; reading here`);
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
