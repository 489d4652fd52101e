import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyProcesses } from '../../../src/main/core/exo/process-classifier.js';
import { MAX_MATCHED_LINE_CHARS } from '../../../src/main/core/exo/process-shape.js';
import { ProcessTracker } from '../../../src/main/core/exo/process-tracker.js';
import type { ProcessEntry } from '../../../src/main/core/probes/probe-types.js';

const p = (
  pid: number,
  ppid: number,
  argv: string[],
  executable: string | null = argv[0] ?? null,
): ProcessEntry => ({
  pid,
  ppid,
  argv,
  executable,
  name: executable?.split('/').pop() ?? null,
  startTime: 1_700_000_000_000 + pid,
});

const APP = '/Applications/EXO.app/Contents';
const appTree: ProcessEntry[] = [
  p(1, 0, ['/sbin/launchd']),
  p(500, 1, [`${APP}/MacOS/EXO`]),
  p(1577, 500, [`${APP}/Resources/exo/exo`]),
  p(1600, 1577, [`${APP}/Resources/exo/_internal/macmon`, 'pipe', '--interval', '1000']),
  p(1601, 1577, [`${APP}/Resources/exo/exo`, '--multiprocessing-fork', 'tracker_fd=9', 'pipe_handle=11']),
  p(1602, 1577, [
    `${APP}/Resources/exo/exo`,
    '-c',
    'from multiprocessing.resource_tracker import main;main(8)',
  ]),
  p(1603, 1577, [`${APP}/Resources/exo/exo`, '--multiprocessing-fork', 'tracker_fd=9', 'pipe_handle=13']),
  // Same p_comm, unrelated: a different program that happens to be called exo.
  p(2000, 1, ['/usr/local/bin/exo-unrelated-tool']),
];

describe('EXO process discovery', () => {
  it('finds the app, main, runners, macmon and the resource tracker of an EXO.app install', () => {
    const roles = classifyProcesses(appTree);
    assert.deepEqual(Object.fromEntries(roles), {
      500: 'exo-app',
      1577: 'exo-main',
      1600: 'exo-macmon',
      1601: 'exo-runner',
      1602: 'exo-resource-tracker',
      1603: 'exo-runner',
    });
  });

  it('finds a source install started by uv (python3 .venv/bin/exo → spawn children)', () => {
    const venv = '/Users/me/exo/.venv/bin';
    const tree = [
      p(10, 1, ['/opt/homebrew/bin/uv', 'run', 'exo']),
      p(11, 10, [`${venv}/python3`, `${venv}/exo`, '--no-downloads'], `${venv}/python3`),
      p(12, 11, ['macmon', 'pipe', '--interval', '1000']),
      p(13, 11, [
        `${venv}/python3`,
        '-c',
        'from multiprocessing.spawn import spawn_main; spawn_main(tracker_fd=6, pipe_handle=8)',
        '--multiprocessing-fork',
      ]),
      // A python3.13 multiprocessing child of some other program is not EXO's runner.
      p(20, 1, ['/usr/bin/python3', 'train.py']),
      p(21, 20, [
        '/usr/bin/python3',
        '-c',
        'from multiprocessing.spawn import spawn_main; spawn_main()',
        '--multiprocessing-fork',
      ]),
    ];
    assert.deepEqual(Object.fromEntries(classifyProcesses(tree)), {
      11: 'exo-main',
      12: 'exo-macmon',
      13: 'exo-runner',
    });
  });

  it('trusts ~/.exo/exo.pid for the main process and finds its runners', () => {
    const tree = [
      p(30, 1, ['/usr/bin/python3.13', 'launcher.py']),
      p(31, 30, ['/usr/bin/python3.13', '--multiprocessing-fork']),
    ];
    assert.deepEqual(Object.fromEntries(classifyProcesses(tree, { pidfilePid: 30 })), {
      30: 'exo-main',
      31: 'exo-runner',
    });
    assert.deepEqual(
      Object.fromEntries(classifyProcesses(tree, { pidfilePid: 999 })),
      {},
      'a stale pidfile names nothing',
    );
  });

  it('never matches on the bare process name', () => {
    const tree = [p(40, 1, ['exo'], '/usr/local/bin/exo-something'), p(41, 1, ['python3.13'])];
    assert.equal(classifyProcesses(tree).size, 0);
  });

  it('marks other MLX servers from the configurable patterns', () => {
    const tree = [
      p(50, 1, ['/opt/homebrew/bin/python3', '-m', 'mlx_lm.server', '--model', 'mlx-community/Qwen3']),
      p(51, 1, ['/Users/me/.local/bin/omlx', 'serve']),
      p(52, 1, ['/usr/bin/python3', '-m', 'http.server']),
    ];
    assert.deepEqual(Object.fromEntries(classifyProcesses(tree)), { 50: 'mlx-server', 51: 'mlx-server' });
    const custom = classifyProcesses(tree, { mlxServerPatterns: [/http\.server/] });
    assert.deepEqual(Object.fromEntries(custom), { 52: 'mlx-server' });
  });

  it('patterns see the first 4096 characters of a command line, however long a local user makes it', () => {
    const pad = 'x'.repeat(MAX_MATCHED_LINE_CHARS);
    const tree = [
      p(60, 1, ['/usr/bin/python3', '-m', 'mlx_lm.server', pad]),
      p(61, 1, ['/usr/bin/python3', pad, '-m', 'mlx_lm.server']),
    ];
    assert.deepEqual(Object.fromEntries(classifyProcesses(tree)), { 60: 'mlx-server' });
  });
});

describe('process tracker', () => {
  it('reports starts, exits and a recycled pid as a new process', () => {
    const t = new ProcessTracker();
    const a = p(1601, 1577, ['x', '--multiprocessing-fork']);
    assert.deepEqual(
      t.update([{ entry: a, role: 'exo-runner' }]).map((c) => c.kind),
      ['started'],
    );
    assert.deepEqual(t.update([{ entry: a, role: 'exo-runner' }]), []);
    const recycled = { ...a, startTime: a.startTime! + 5000 };
    const changes = t.update([{ entry: recycled, role: 'exo-runner' }]);
    assert.deepEqual(
      changes.map((c) => [c.kind, c.entry.startTime]),
      [
        ['started', recycled.startTime],
        ['exited', a.startTime],
      ],
    );
    assert.deepEqual(
      t.update([]).map((c) => c.kind),
      ['exited'],
    );
  });
});
