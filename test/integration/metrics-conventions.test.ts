import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { estimateCeiling } from '../../src/main/core/probes/ceiling-estimate.js';
import { VERSION } from '../../src/main/core/version.js';
import { sleep, startDaemon, waitForExit } from '../support/cli-runner.js';
import { type FakeExoControl, startFakeExo } from '../support/fake-exo-server.js';
import { repoRoot } from '../support/fixtures.js';
import { freeRatio, machineMemoryTotal, residentBytes } from '../support/machine.js';
import { tempDir } from '../support/temp-dir.js';

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;
const NO_PROMTOOL =
  'promtool is not installed (Debian: apt-get install prometheus, as scripts/bootstrap.sh --test does)';

const dashboardPath = join(repoRoot, 'packaging', 'grafana', 'exo-sentinel-cluster.json');

interface Family {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; count?: string }>;
}

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid: string };
  targets?: Array<{ expr: string; datasource: { uid: string } }>;
}

/** Metric names a PromQL expression reads (identifiers that are not functions, keywords or label names). */
function metricNames(expr: string): string[] {
  const bare = expr
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)]
    .filter((m) => !m[2] && !['and', 'or', 'unless', 'bool', 'offset'].includes(m[1]!))
    .map((m) => m[1]!);
}

const dashboard = JSON.parse(readFileSync(dashboardPath, 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string; definition?: string }> };
};
const queries = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, ...t })));

describe('/metrics on a running daemon: Prometheus conventions', () => {
  const dir = tempDir();
  let fake: FakeExoControl;
  let daemon: Awaited<ReturnType<typeof startDaemon>>;
  let text = '';
  let families: Family[] = [];
  const by = (name: string): Family => {
    const f = families.find((x) => x.name === name);
    assert.ok(f, `${name} is exported`);
    return f;
  };

  before(async () => {
    fake = await startFakeExo();
    daemon = await startDaemon([
      '--data-dir',
      `${dir.path}/data`,
      '--interval',
      '0.5',
      '--exo-url',
      fake.url,
    ]);
    const api = daemon.apiUrl()!;
    // Two slow ticks in: memory, EXO, panics and the tick histogram are all filled in.
    for (let i = 0; i < 40; i++) {
      text = await (await fetch(`${api}/metrics`)).text();
      if (/^exo_sentinel_panics\{/m.test(text) && /^exo_sentinel_exo_reachable 1$/m.test(text)) break;
      await sleep(250);
    }
    families = parsePrometheusTextFormat(text) as Family[];
  });
  after(async () => {
    daemon?.kill('SIGTERM');
    if (daemon) await waitForExit(daemon);
    await fake?.close();
    dir.cleanup();
  });

  it('passes promtool check metrics', { skip: promtool ? false : NO_PROMTOOL }, () => {
    const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(`${r.stdout}${r.stderr}`.trim(), '', 'promtool has nothing to say');
    assert.equal(r.status, 0);
  });

  it('says what it is: build_info = 1 with version, Node.js, platform and arch', () => {
    const info = by('exo_sentinel_build_info');
    assert.equal(info.type, 'GAUGE');
    assert.equal(info.metrics.length, 1);
    assert.equal(info.metrics[0]!.value, '1');
    assert.deepEqual(info.metrics[0]!.labels, {
      version: VERSION,
      node: process.versions.node,
      platform: process.platform,
      arch: process.arch,
    });
  });

  it('fractions are _ratio gauges in 0-1, and the free ratio is MemAvailable / MemTotal (macOS: memorystatus_level)', () => {
    assert.doesNotMatch(text, /_percent\b/, 'no *_percent metric');
    const ratio = Number(by('exo_sentinel_memory_free_ratio').metrics[0]!.value);
    assert.ok(ratio > 0 && ratio <= 1, `free ratio ${ratio}`);
    assert.ok(Math.abs(ratio - freeRatio()) < 0.05, `free ratio ${ratio}`);
    for (const f of families.filter((x) => x.name.endsWith('_ratio')))
      for (const m of f.metrics)
        assert.ok(Number(m.value) >= 0 && Number(m.value) <= 1, `${f.name} ${m.value}`);
  });

  it('capacities are their own metrics: summing memory by kind never adds the total or swap', () => {
    const total = machineMemoryTotal();
    assert.equal(Number(by('exo_sentinel_memory_total_bytes').metrics[0]!.value), total);
    const kinds = by('exo_sentinel_memory_bytes').metrics.map((m) => m.labels!['kind']!);
    for (const k of ['active', 'free', 'inactive', 'wired']) assert.ok(kinds.includes(k), k);
    for (const k of kinds) assert.ok(['active', 'free', 'inactive', 'wired', 'compressed'].includes(k), k);
    const parts = by('exo_sentinel_memory_bytes').metrics.reduce((s, m) => s + Number(m.value), 0);
    assert.ok(parts > 0 && parts <= total, `the parts (${parts}) fit in the total (${total})`);
    assert.ok(by('exo_sentinel_swap_total_bytes').metrics.length === 1);
    assert.ok(by('exo_sentinel_swap_used_bytes').metrics.length === 1);
    // Linux has no Apple GPU: declared, no sample, never a false 0. A Mac has at most one of each.
    for (const name of ['exo_sentinel_gpu_in_use_bytes'])
      if (process.platform === 'linux')
        assert.equal(
          by(name).metrics.length,
          0,
          `${name}: declared, no sample (no Apple GPU here), never a false 0`,
        );
      else assert.ok(by(name).metrics.length <= 1, name);
    // The ceiling is always known: on Linux (no Metal) the estimate from RAM, flagged as such.
    const ceiling = by('exo_sentinel_gpu_ceiling_bytes').metrics;
    const estimated = by('exo_sentinel_gpu_ceiling_estimated').metrics;
    assert.equal(ceiling.length, 1);
    assert.equal(estimated.length, 1);
    if (process.platform === 'linux') {
      assert.equal(Number(ceiling[0]!.value), estimateCeiling(total));
      assert.equal(Number(estimated[0]!.value), 1);
    }
  });

  it('counters start at 0 for every known label; histograms and help texts carry units', () => {
    const value = (name: string, labels: Record<string, string>): string | undefined =>
      by(name).metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))?.value;
    for (const reason of ['context', 'kv-headroom', 'mode', 'queue-full', 'queue-timeout', 'hold'])
      assert.equal(value('exo_sentinel_guard_refusals_total', { reason }), '0', reason);
    assert.equal(value('exo_sentinel_guard_requests_total', { decision: 'admit', status: '200' }), '0');
    assert.equal(value('exo_sentinel_guard_requests_total', { decision: 'refuse', status: '503' }), '0');
    const probes = process.platform === 'linux' ? ['meminfo', 'process-table'] : ['vm_stat', 'sysctl', 'ps'];
    for (const probe of [...probes, 'exo-monitor'])
      assert.equal(value('exo_sentinel_probe_failures_total', { probe }), '0', probe);
    for (const reason of [
      'idle_connection_closed',
      'connection_refused',
      'live_client_stalled',
      'live_client_refused',
    ])
      assert.equal(value('exo_sentinel_api_shed_total', { reason }), '0', reason);
    assert.equal(value('exo_sentinel_processes', { role: 'mlx-server' }), '0', 'a role with no process is 0');
    const own = families.filter((f) => f.name.startsWith('exo_sentinel_'));
    for (const f of own) {
      if (f.type === 'COUNTER') {
        assert.ok(f.name.endsWith('_total'), f.name);
        assert.ok(f.metrics.length > 0, `${f.name} has its series from the start`);
      }
      if (f.type === 'HISTOGRAM') assert.ok(f.name.endsWith('_seconds'), f.name);
      if (f.name.endsWith('_bytes')) assert.match(f.help, /bytes/, f.name);
      if (f.name.endsWith('_seconds')) assert.match(f.help, /seconds/, f.name);
      if (f.name.endsWith('_ratio')) assert.match(f.help, /ratio 0-1/, f.name);
    }
    assert.ok(Number(by('exo_sentinel_tick_duration_seconds').metrics[0]!.count) >= 2, 'ticks observed');
  });

  it("exports the daemon's own process metrics: its RSS is what /proc (macOS: ps) says", () => {
    const rss = Number(by('process_resident_memory_bytes').metrics[0]!.value);
    const vmRss = residentBytes(daemon.pid!);
    assert.ok(
      Math.abs(rss - vmRss) < 16 * 1024 * 1024,
      `process_resident_memory_bytes ${rss} vs VmRSS ${vmRss}`,
    );
    for (const name of [
      'process_cpu_seconds_total',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
    ])
      assert.ok(by(name).metrics.length > 0, name);
    const started = Number(by('process_start_time_seconds').metrics[0]!.value);
    assert.ok(Math.abs(started - Date.now() / 1000) < 120, 'the process started just now');
  });

  it('the Grafana dashboard queries only metrics that /metrics declares', () => {
    const declared = new Set(families.map((f) => f.name));
    const histograms = new Set(families.filter((f) => f.type === 'HISTOGRAM').map((f) => f.name));
    const exists = (name: string): boolean =>
      declared.has(name) ||
      [...histograms].some((h) => [`${h}_bucket`, `${h}_sum`, `${h}_count`].includes(name));
    const exprs = [
      ...queries.map((q) => ({ where: q.panel, expr: q.expr })),
      ...dashboard.templating.list
        .filter((v) => v.definition)
        .map((v) => ({
          where: `variable ${v.name}`,
          expr: v.definition!.replace(/^label_values\(|,.*$/g, ''),
        })),
    ];
    const seen = new Set<string>();
    for (const { where, expr } of exprs)
      for (const name of metricNames(expr)) {
        seen.add(name);
        assert.ok(exists(name), `${where}: ${name} is not in /metrics`);
      }
    for (const must of [
      'exo_sentinel_risk_level',
      'exo_sentinel_memory_free_ratio',
      'exo_sentinel_gpu_in_use_bytes',
      'exo_sentinel_gpu_ceiling_bytes',
      'exo_sentinel_guard_in_flight_requests',
      'exo_sentinel_guard_queue_depth',
      'exo_sentinel_guard_refusals_total',
      'exo_sentinel_panics',
    ])
      assert.ok(seen.has(must), `the dashboard shows ${must}`);
  });
});

describe('the Grafana dashboard (packaging/grafana)', () => {
  it('is one cluster view: every query by instance, on the chosen Prometheus, unique panel ids', () => {
    assert.equal(dashboard.uid, 'exo-sentinel-cluster');
    assert.ok(queries.length >= 15, `${queries.length} queries`);
    const ids = dashboard.panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    for (const q of queries) {
      assert.match(q.expr, /instance=~"\$instance"/, `${q.panel}: filtered by the instance variable`);
      assert.equal(q.datasource.uid, '$' + '{datasource}', q.panel);
    }
    assert.deepEqual(
      dashboard.templating.list.map((v) => v.name),
      ['datasource', 'instance'],
    );
  });

  it('every query is valid PromQL (promtool check rules)', { skip: promtool ? false : NO_PROMTOOL }, () => {
    const dir = tempDir();
    try {
      // Grafana's variables substituted as Grafana does before it sends a query.
      const rules = queries.map((q, i) => ({
        record: `dashboard:query_${i}`,
        expr: q.expr.replaceAll('$__rate_interval', '1m').replaceAll('$instance', '.+'),
      }));
      // JSON is YAML: a rules file promtool reads.
      const file = join(dir.path, 'dashboard-rules.yml');
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
      const r = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, new RegExp(`SUCCESS: ${rules.length} rules found`));
    } finally {
      dir.cleanup();
    }
  });
});
