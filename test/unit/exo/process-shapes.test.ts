import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ClassifierOptions,
  classifyProcesses,
  runnerKey,
} from '../../../src/main/core/exo/process-classifier.js';
import { exoPythonCandidates } from '../../../src/main/core/probes/gpu-ceiling.js';
import type { ProcessEntry } from '../../../src/main/core/probes/probe-types.js';
import { Sampler } from '../../../src/main/core/sampler.js';
import { fixture } from '../../support/fixtures.js';

type Row = Omit<ProcessEntry, 'name'>;
const tables = JSON.parse(fixture('exo/process-shapes.json')) as Record<string, Row[]>;

const table = (name: string): ProcessEntry[] =>
  tables[name]!.map((r) => ({ ...r, name: r.executable?.split('/').pop() ?? null }));
const roles = (name: string, options: ClassifierOptions = {}) =>
  Object.fromEntries(classifyProcesses(table(name), options));
const row = (name: string, pid: number): ProcessEntry => table(name).find((e) => e.pid === pid)!;

describe('EXO launch shapes (test/fixtures/exo/process-shapes.json)', () => {
  it('EXO.app: the Swift app, the frozen main, its macmon, resource tracker and spawn runners', () => {
    assert.deepEqual(roles('app-frozen'), {
      512: 'exo-app',
      1577: 'exo-main',
      1583: 'exo-macmon',
      1590: 'exo-resource-tracker',
      1601: 'exo-runner',
      1602: 'exo-runner',
    });
  });

  it('uv / venv source install, with its exact argv and as the ps fallback splits it on spaces', () => {
    const expected = {
      4102: 'exo-main',
      4110: 'exo-macmon',
      4111: 'exo-resource-tracker',
      4120: 'exo-runner',
      4121: 'exo-runner',
    };
    assert.deepEqual(roles('source-uv'), expected);
    assert.deepEqual(roles('source-uv-ps-split'), expected);
  });

  it('a main double-forked under launchd (--legacy-daemon), a Nix venv, and python -X … -m exo', () => {
    assert.deepEqual(roles('source-legacy-daemon'), {
      5200: 'exo-main',
      5230: 'exo-macmon',
      5241: 'exo-runner',
    });
    assert.deepEqual(roles('source-nix'), { 6100: 'exo-main', 6140: 'exo-macmon', 6150: 'exo-runner' });
    assert.deepEqual(roles('source-module'), { 6500: 'exo-main', 6520: 'exo-runner' });
  });

  it('the unmerged FD-pipe runner launch (--exo-runner, -m exo.worker.runner.bootstrap) and other exo modules', () => {
    assert.deepEqual(roles('branch-fd-runners'), {
      512: 'exo-app',
      1577: 'exo-main',
      1610: 'exo-runner',
      4102: 'exo-main',
      4130: 'exo-runner',
      4131: 'exo-other',
    });
  });

  it('look-alikes are nothing: the Exoscale `exo` CLI, -m exo in other argv, scripts named exo, other spawn trees', () => {
    assert.deepEqual(roles('look-alikes'), {});
  });

  it('a pidfile names a main only when that process could be EXO (a reused pid names nothing)', () => {
    assert.deepEqual(roles('look-alikes', { pidfilePid: 9013 }), {}, 'trustd took the stale pid');
    assert.deepEqual(
      roles('look-alikes', { pidfilePid: 9011 }),
      {},
      'a multiprocessing child is never a main',
    );
    assert.deepEqual(roles('look-alikes', { pidfilePid: 9010 }), {
      9010: 'exo-main',
      9011: 'exo-runner',
      9012: 'exo-other',
    });
  });
});

describe('orphaned runners (main killed; the runner keeps its Metal memory under launchd)', () => {
  it('without history only the frozen bundle is unmistakable; a bare Python spawn child is not', () => {
    assert.deepEqual(roles('orphans-after-sigkill'), { 1590: 'exo-resource-tracker', 1601: 'exo-runner' });
  });

  it('a runner seen before stays one while the same pid and start time live; a reused pid does not', () => {
    const known = new Set([runnerKey(row('source-uv', 4120))!]);
    assert.equal(roles('orphans-after-sigkill', { knownRunners: known })[4120], 'exo-runner');
    const reused = table('orphans-after-sigkill').map((e) =>
      e.pid === 4120 ? { ...e, startTime: e.startTime! + 3_600_000 } : e,
    );
    assert.equal(classifyProcesses(reused, { knownRunners: known }).get(4120), undefined);
    const noStart = { ...row('source-uv', 4120), startTime: null };
    assert.equal(runnerKey(noStart), null, 'no start time, no identity to remember');
  });

  it('EXO restarted in the same venv: the old orphan runs its interpreter; another venv’s orphan does not', () => {
    assert.deepEqual(roles('restarted-in-same-venv'), { 8102: 'exo-main', 4120: 'exo-runner' });
  });

  it('a shared Python running -m exo does not claim every orphaned spawn child of that Python', () => {
    assert.deepEqual(roles('shared-interpreter'), { 6500: 'exo-main' });
  });

  it('the sampler remembers its runners across readings, so the orphan stays watched after the main dies', async () => {
    let entries = table('source-uv');
    const probe = {
      readMemory: async () => ({}),
      readGpu: async () => ({}),
      listProcesses: async () => entries,
      readProcessStats: async () => new Map(),
    } as unknown as ConstructorParameters<typeof Sampler>[0];
    const sampler = new Sampler(probe, () => ({}));
    const runners = async () =>
      (await sampler.tick(0, true)).watched.filter((w) => w.role === 'exo-runner').map((w) => w.entry.pid);
    assert.deepEqual(await runners(), [4120, 4121]);
    entries = entries
      .filter((e) => e.pid !== 4102 && e.pid !== 4121)
      .map((e) => (e.pid === 4120 ? { ...e, ppid: 1 } : e));
    assert.deepEqual(await runners(), [4120]);
    assert.deepEqual(await runners(), [4120], 'still remembered at the reading after');
  });
});

describe('GPU ceiling: which EXO executable may be asked', () => {
  it('a frozen runner started with --exo-runner does not make the bundle a -c candidate', () => {
    const watched = [{ entry: row('branch-fd-runners', 1610), role: 'exo-runner' as const }];
    assert.deepEqual(exoPythonCandidates(watched), []);
    const tracker = [{ entry: row('app-frozen', 1590), role: 'exo-resource-tracker' as const }];
    assert.equal(exoPythonCandidates(tracker).length, 1);
  });
});
