import assert from 'node:assert/strict';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { loadConfig } from '../../../src/main/core/config/config-loader.js';
import {
  ConfigReloader,
  changedKeys,
  liveConfig,
  type ReloadOutcome,
} from '../../../src/main/core/config/config-reload.js';
import { type Config, ConfigSchema } from '../../../src/main/core/config/config-schema.js';
import { sleep } from '../../support/cli-runner.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
const parse = (v: unknown): Config => ConfigSchema.parse(v);

describe('configuration reload', () => {
  it('lists changed keys, leaves by leaf, arrays whole', () => {
    assert.deepEqual(changedKeys(parse({}), parse({})), []);
    assert.deepEqual(
      changedKeys(
        parse({}),
        parse({ guard: { queue: { max: 2 } }, reports: { dirs: ['/a'] }, logLevel: 'debug' }),
      ),
      ['guard.queue.max', 'logLevel', 'reports.dirs'],
    );
  });

  it('keeps the running value of every restart-only key', () => {
    const running = parse({ api: { listen: '127.0.0.1:1' }, intervalSeconds: 2 });
    const next = parse({ api: { listen: '0.0.0.0:2' }, intervalSeconds: 5, guard: { contextCap: 4096 } });
    const live = liveConfig(running, next);
    assert.equal(live.api.listen, '127.0.0.1:1');
    assert.equal(live.intervalSeconds, 2);
    assert.equal(live.guard.contextCap, 4096);
  });

  it('applies a changed file, refuses a bad one keeping the last good, and reports keys only', async () => {
    const path = join(dir.path, 'config.json');
    writeFileSync(path, JSON.stringify({ guard: { token: 'first-token-0123456789' } }));
    const started = parse({ guard: { token: 'first-token-0123456789' } });
    const applied: Config[] = [];
    const reports: ReloadOutcome[] = [];
    let refuse: string[] = [];
    const r = new ConfigReloader({
      locate: () => path,
      load: (p) => loadConfig(p),
      started,
      apply: (next) => {
        if (refuse.length) return refuse;
        applied.push(next);
        return [];
      },
      report: (o) => reports.push(o),
      pollMs: 50,
      debounceMs: 20,
    });
    r.start();
    try {
      const write = (v: string): void => {
        writeFileSync(`${path}.tmp`, v);
        renameSync(`${path}.tmp`, path);
      };
      write(
        JSON.stringify({ guard: { token: 'second-token-0123456789', contextCap: 2048 }, intervalSeconds: 3 }),
      );
      for (let i = 0; i < 60 && r.state.reloads === 0; i++) await sleep(25);
      assert.equal(r.state.reloads, 1);
      assert.equal(applied.at(-1)?.guard.contextCap, 2048);
      assert.equal(applied.at(-1)?.intervalSeconds, 1, 'restart-only: the running value');
      assert.deepEqual(r.state.restartRequired, ['intervalSeconds']);
      const ok = reports.at(-1)!;
      assert.ok(ok.ok);
      assert.deepEqual(ok.applied, ['guard.contextCap', 'guard.token']);
      assert.ok(!JSON.stringify(reports).includes('second-token'), 'no value in a report');

      write('{"guard": {"contextCap": 1}}');
      for (let i = 0; i < 60 && r.state.error === null; i++) await sleep(25);
      assert.match(r.state.error!.errors[0]!, /"guard\.contextCap" is 1: /);
      assert.equal(applied.length, 1, 'nothing applied');
      assert.equal(r.state.reloads, 1);

      // The same bytes again (a touch) is not a reload; a request always is.
      const n = reports.length;
      write('{"guard": {"contextCap": 1}}');
      await sleep(200);
      assert.equal(reports.length, n);
      refuse = ['"guard.token": cannot be removed while it runs'];
      write('{}');
      for (let i = 0; i < 60 && reports.length === n; i++) await sleep(25);
      assert.deepEqual(r.state.error?.errors, refuse);
      refuse = [];
      const sighup = r.reload('SIGHUP');
      assert.ok(sighup.ok);
      assert.equal(sighup.trigger, 'SIGHUP');
      assert.deepEqual(r.state.restartRequired, []);
      assert.equal(r.state.error, null);
    } finally {
      r.stop();
    }
  });

  it('notices a file that appears where there was none (the directory made later)', async () => {
    const path = join(dir.path, 'later', 'config.json');
    const seen: ReloadOutcome[] = [];
    const r = new ConfigReloader({
      locate: () => path,
      load: (p) => loadConfig(p),
      started: parse({}),
      apply: () => [],
      report: (o) => seen.push(o),
      pollMs: 30,
      debounceMs: 10,
    });
    r.start();
    try {
      const { mkdirSync } = await import('node:fs');
      mkdirSync(join(dir.path, 'later'));
      writeFileSync(path, '{"logLevel": "debug"}');
      for (let i = 0; i < 80 && seen.length === 0; i++) await sleep(25);
      assert.ok(seen[0]?.ok && seen[0].applied.includes('logLevel'));
    } finally {
      r.stop();
    }
  });
});
