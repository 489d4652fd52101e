import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { openDatabase } from '../../src/main/core/store/database.js';
import { TimelineStore } from '../../src/main/core/store/timeline-store.js';
import { runCli, sleep, startDaemon, startFakeExoProcess, waitForExit } from '../support/cli-runner.js';
import { tempDir } from '../support/temp-dir.js';

const MODEL = 'mlx-community/Qwen3-Coder-Next-4bit';

const chat = async (url: string): Promise<{ status: number; id: string | null }> => {
  const res = await fetch(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: MODEL,
      stream: true,
      max_tokens: 8,
      messages: [{ role: 'user', content: 'a'.repeat(400) }],
    }),
  });
  const text = await res.text();
  return { status: res.status, id: /"id":"([0-9a-f-]{36})"/.exec(text)?.[1] ?? null };
};

describe('guard end to end: the protect profile', () => {
  const dir = tempDir();
  after(dir.cleanup);

  it('with the wired limit active, two concurrent streams run one after the other; balanced lets them overlap', async () => {
    const exoHome = `${dir.path}/exo-home`;
    // The fake EXO logs "Wired limit set" at start, as EXO does at every model load.
    const fake = await startFakeExoProcess(['--log', `${exoHome}/exo_log/exo.log`, '--token-ms', '120']);
    const dataDir = `${dir.path}/data`;
    mkdirSync(dataDir, { recursive: true });
    // Linux is not an affected platform: `any` applies the (default) protect profile here too.
    writeFileSync(
      `${dataDir}/config.json`,
      JSON.stringify({ exo: { url: fake.url, home: exoHome }, actions: { guardProfilePlatforms: 'any' } }),
    );
    const daemon = await startDaemon(['--data-dir', dataDir, '--interval', '0.5']);
    const timing = async (id: string | null) =>
      (await (await fetch(`${fake.control}/__fake/timing/${id}`)).json()) as { start: number; end: number };
    const pair = async (guard: string) => {
      const [a, b] = await Promise.all([
        chat(guard),
        (async () => {
          await sleep(50);
          return chat(guard);
        })(),
      ]);
      assert.deepEqual([a.status, b.status], [200, 200]);
      return [await timing(a.id), await timing(b.id)] as const;
    };
    try {
      const guard = daemon.guardUrl()!;
      let notice: string | null = null;
      for (let i = 0; i < 60 && !notice; i++) {
        const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
        notice =
          new TimelineStore(db).events(0, Date.now() + 1000, 'guard.profile-notice')[0]?.message ?? null;
        db.close();
        if (!notice) await sleep(250);
      }
      assert.ok(notice, 'the one-time notice is in the timeline');
      assert.match(notice, /serialises generation requests .* costs throughput.*guard profile balanced/);

      const [ta, tb] = await pair(guard);
      assert.ok(
        tb.start >= ta.end,
        `under protect the second began (${tb.start}) after the first ended (${ta.end})`,
      );

      const r = await runCli(['guard', 'profile', 'balanced', '--json', '--data-dir', dataDir]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { profile: 'balanced', configured: 'protect', changed: true });
      await sleep(1200); // the daemon reads the profile at its next tick
      const [tc, td] = await pair(guard);
      assert.ok(
        td.start < tc.end,
        `under balanced the second began (${td.start}) before the first ended (${tc.end})`,
      );

      const db = openDatabase(`${dataDir}/timeline.db`, { readonly: true });
      const store = new TimelineStore(db);
      assert.equal(
        store.events(0, Date.now() + 1000, 'guard.profile-notice').length,
        1,
        'the notice came once',
      );
      assert.deepEqual(
        store
          .events(0, Date.now() + 1000, 'guard.profile')
          .filter((e) => e.kind === 'guard.profile')
          .map((e) => e.data?.['profile']),
        ['balanced'],
      );
      db.close();
    } finally {
      daemon.kill('SIGTERM');
      await waitForExit(daemon);
      await fake.stop();
    }
  });
});
