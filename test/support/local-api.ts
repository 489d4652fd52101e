import assert from 'node:assert/strict';
import { AuditStore } from '../../src/main/core/actions/audit-store.js';
import { ApiConfigSchema } from '../../src/main/core/api/api-config.js';
import { type ApiDeps, ApiServer } from '../../src/main/core/api/api-server.js';
import { Metrics } from '../../src/main/core/api/metrics.js';
import { validateConfig } from '../../src/main/core/config/config-loader.js';
import { SentinelService } from '../../src/main/core/service/sentinel-service.js';
import type { Db } from '../../src/main/core/store/database.js';
import { ReportStore } from '../../src/main/core/store/report-store.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { makeStatusView } from './status-view-factory.js';

/**
 * An API server in this process over `db` (real SQLite), with the default configuration, a fixed status view
 * and no dashboard; `listen` defaults to a free loopback port, `over` sets the token, limits and the rest.
 */
export function localApiServer(
  db: Db,
  dataDir: string,
  o: { listen?: string } & Partial<Omit<ApiDeps, 'config' | 'service'>> = {},
): ApiServer {
  const cfg = validateConfig({});
  assert.ok(cfg.ok);
  const { listen = '127.0.0.1:0', ...over } = o;
  return new ApiServer({
    token: 'x'.repeat(32),
    metrics: new Metrics(),
    dashboardDir: null,
    ...over,
    config: ApiConfigSchema.parse({ listen }),
    service: new SentinelService({
      timeline: new TimelineStore(db),
      reports: new ReportStore(db),
      audit: new AuditStore(db),
      now: () => Date.now(),
      status: () => makeStatusView(),
      config: () => cfg.config,
      configPath: () => `${dataDir}/config.json`,
    }),
  });
}
