import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Starts a real process tree shaped like EXO's, for discovery tests on Linux:
 *   app:    …/EXO.app/Contents/Resources/exo/exo main.js
 *             ├─ …/exo/_internal/macmon macmon.js pipe --interval 1000
 *             ├─ …/exo tracker.js -c "from multiprocessing.resource_tracker import main;main(8)"
 *             └─ …/exo runner.js --multiprocessing-fork tracker_fd=9 pipe_handle=N <MiB>   (× runners)
 *   source: <venv>/bin/python3 <venv>/bin/exo → <venv>/bin/python3 runner.js --multiprocessing-fork …
 * The binaries are symlinks to this Node, so argv[0] is exactly the path EXO would show. Each runner
 * allocates and touches real memory so the probes see its footprint.
 */

export interface FakeExoTree {
  mainPid: number;
  /** Filled in once the main process has reported its children. */
  children: { runners: number[]; macmon: number | null; tracker: number | null };
  root: string;
  stop(): Promise<void>;
}

const MAIN_JS = `
const { spawn } = require('node:child_process');
const layout = JSON.parse(process.env.FAKE_EXO_LAYOUT);
const kids = { runners: [], macmon: null, tracker: null };
const start = (file, args) => spawn(file, args, { stdio: 'ignore' });
if (layout.macmon) kids.macmon = start(layout.macmon, [layout.idle, 'pipe', '--interval', '1000']).pid;
kids.tracker = start(layout.exo, [layout.idle, '-c', 'from multiprocessing.resource_tracker import main;main(8)']).pid;
for (let i = 0; i < layout.runners; i++) {
  kids.runners.push(start(layout.exo, [layout.runner, '--multiprocessing-fork', 'tracker_fd=9', 'pipe_handle=' + (11 + i), String(layout.runnerMiB)]).pid);
}
require('node:fs').writeFileSync(layout.report, JSON.stringify(kids));
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);
`;

const RUNNER_JS = `
const mib = Number(process.argv[process.argv.length - 1]) || 0;
const held = Buffer.alloc(mib * 1024 * 1024, 1);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => { held[0] = (held[0] + 1) & 0xff; }, 1000);
`;

const IDLE_JS = `process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1 << 30);`;

export async function startFakeExoTree(
  root: string,
  options: {
    kind?: 'app' | 'source';
    runners?: number;
    runnerMiB?: number;
    /** Extra environment of the main process (EXO's knobs), and extra arguments after its script. */
    env?: Record<string, string>;
    args?: string[];
  } = {},
): Promise<FakeExoTree> {
  const kind = options.kind ?? 'app';
  const scripts = join(root, 'scripts');
  mkdirSync(scripts, { recursive: true });
  writeFileSync(join(scripts, 'runner.js'), RUNNER_JS);
  writeFileSync(join(scripts, 'idle.js'), IDLE_JS);
  let exo: string;
  let macmon: string | null = null;
  let mainArgs: string[];
  if (kind === 'app') {
    const bundle = join(root, 'EXO.app', 'Contents', 'Resources', 'exo');
    mkdirSync(join(bundle, '_internal'), { recursive: true });
    exo = join(bundle, 'exo');
    macmon = join(bundle, '_internal', 'macmon');
    symlinkSync(process.execPath, exo);
    symlinkSync(process.execPath, macmon);
    writeFileSync(join(scripts, 'main.js'), MAIN_JS);
    mainArgs = [join(scripts, 'main.js')];
  } else {
    const bin = join(root, 'exo-src', '.venv', 'bin');
    mkdirSync(bin, { recursive: true });
    exo = join(bin, 'python3');
    symlinkSync(process.execPath, exo);
    writeFileSync(join(bin, 'exo'), MAIN_JS);
    mainArgs = [join(bin, 'exo')];
  }
  const report = join(root, 'children.json');
  const layout = {
    exo,
    macmon,
    idle: join(scripts, 'idle.js'),
    runner: join(scripts, 'runner.js'),
    runners: options.runners ?? 2,
    runnerMiB: options.runnerMiB ?? 64,
    report,
  };
  const main: ChildProcess = spawn(exo, [...mainArgs, ...(options.args ?? [])], {
    detached: true,
    stdio: 'ignore',
    env: { ...process.env, ...options.env, FAKE_EXO_LAYOUT: JSON.stringify(layout) },
  });
  const tree: FakeExoTree = {
    mainPid: main.pid!,
    children: { runners: [], macmon: null, tracker: null },
    root,
    stop: async () => {
      try {
        process.kill(-main.pid!, 'SIGKILL');
      } catch {
        // Already gone.
      }
      await new Promise((r) => setTimeout(r, 100));
    },
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    try {
      tree.children = JSON.parse(readFileSync(report, 'utf8'));
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (tree.children.runners.length === 0) throw new Error('the fake EXO tree did not start its runners');
  // Give the runners time to allocate and touch their memory.
  await new Promise((r) => setTimeout(r, 400));
  return tree;
}
