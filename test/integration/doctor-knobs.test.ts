import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { runCli } from '../support/cli-runner.js';
import { type FakeExoTree, startFakeExoTree } from '../support/fake-exo-tree.js';
import { tempDir } from '../support/temp-dir.js';

interface Knob {
  name: string;
  current: string | null;
  source: string;
  advised: string;
  atAdvised: boolean | null;
  cost: string;
}

describe("doctor reads EXO's knobs from the running EXO process", () => {
  const dir = tempDir();
  let exo: FakeExoTree;

  before(async () => {
    // A real EXO-shaped process tree started with one knob in its environment, one on its command line,
    // and a secret beside them that must never be printed.
    exo = await startFakeExoTree(`${dir.path}/src`, {
      kind: 'source',
      runners: 1,
      runnerMiB: 8,
      env: { EXO_MAX_CONCURRENT_REQUESTS: '1', HF_TOKEN: 'hf_do_not_print_me' },
      args: ['--no-batch'],
    });
  });
  after(async () => {
    await exo?.stop();
  });

  it('--json and text show the current values, their source, the advised value and its cost', async () => {
    // Other EXO-shaped trees may run beside this one (suites run two at a time): EXO's pidfile names ours.
    mkdirSync(`${dir.path}/d`, { recursive: true });
    writeFileSync(`${dir.path}/exo.pid`, `${exo.mainPid}\n`);
    writeFileSync(
      `${dir.path}/d/config.json`,
      JSON.stringify({ watch: { exoPidfile: `${dir.path}/exo.pid` } }),
    );
    const args = ['doctor', '--exo-url', 'http://127.0.0.1:9', '--data-dir', `${dir.path}/d`];
    const r = await runCli([...args, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const knobs = Object.fromEntries((JSON.parse(r.stdout).exoKnobs as Knob[]).map((k) => [k.name, k]));
    assert.deepEqual(
      [knobs['EXO_MAX_CONCURRENT_REQUESTS']?.current, knobs['EXO_MAX_CONCURRENT_REQUESTS']?.source],
      ['1', 'environment'],
    );
    assert.equal(knobs['EXO_MAX_CONCURRENT_REQUESTS']?.atAdvised, true);
    assert.deepEqual([knobs['EXO_NO_BATCH']?.current, knobs['EXO_NO_BATCH']?.source], ['on', 'argv']);
    assert.equal(knobs['EXO_MEMORY_THRESHOLD']?.source, 'default', 'not set: EXO chooses by RAM');
    assert.match(knobs['EXO_MEMORY_THRESHOLD']!.cost, /prefix-cache hits/);
    assert.doesNotMatch(r.stdout, /hf_do_not_print_me|HF_TOKEN/);

    const text = await runCli(args);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /EXO_MAX_CONCURRENT_REQUESTS +1 \(from EXO's environment\); advised 1 \(already\)/,
    );
    assert.match(text.stdout, /EXO_NO_BATCH +on \(from EXO's command line\)/);
    assert.doesNotMatch(text.stdout, /hf_do_not_print_me/);
  });
});
