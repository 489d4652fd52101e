/**
 * The GitHub Actions workflow (.github/workflows/ci.yml), parsed as YAML: a Linux job that is .ci/run (the
 * README's two commands in a fresh clone) and a macOS arm64 job that runs the same README commands, then the
 * strict addon build, one daemon sample, doctor --probes and an unsigned app bundle. The commands it names
 * must exist in the CLI with the flags it passes. The macOS job has never run: this checks what is written.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Command } from 'commander';
import { registerDaemon } from '../../src/main/headless/commands/daemon-command.js';
import { registerDoctor } from '../../src/main/headless/commands/doctor-command.js';

const root = join(import.meta.dirname, '..', '..');
const read = (p: string): string => readFileSync(join(root, p), 'utf8');
// js-yaml comes with electron-builder (pinned exactly in package.json), as its own configuration parser.
const yaml = createRequire(import.meta.url)('js-yaml') as { load(text: string): unknown };

interface Step {
  name?: string;
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
  if?: string;
}
interface Job {
  name?: string;
  'runs-on': string;
  container?: { image: string; options?: string };
  env?: Record<string, string>;
  steps: Step[];
  'timeout-minutes'?: number;
}
interface Workflow {
  on: Record<string, unknown>;
  concurrency: { group: string; 'cancel-in-progress': boolean };
  defaults?: { run?: { shell?: string } };
  jobs: Record<string, Job>;
}

const workflow = yaml.load(read('.github/workflows/ci.yml')) as Workflow;
const job = (id: string): Job => {
  const j = workflow.jobs[id];
  assert.ok(j, `a job "${id}"`);
  return j;
};
/** Every command line a job runs, in order (a multi-line run is split into its lines). */
const commands = (j: Job): string[] =>
  j.steps.flatMap((s) => (s.run ?? '').split('\n').map((l) => l.trim())).filter((l) => l !== '');
/** The index of the first command matching, or a failure naming what was looked for. */
const indexOf = (lines: string[], re: RegExp): number => {
  const i = lines.findIndex((l) => re.test(l));
  assert.ok(i >= 0, `a step runs ${re}; the steps run:\n${lines.join('\n')}`);
  return i;
};
/** The README's two commands (its first code block). */
const readmeCommands = (): string[] => {
  const block = /```sh\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
  return block
    .split('\n')
    .map((l) => l.replace(/#.*$/, '').trim())
    .filter((l) => l !== '');
};

describe('the CI workflow', () => {
  it('runs on pushes to main and pull requests, cancels a superseded run, and fails a step on a failing pipe', () => {
    assert.ok('push' in workflow.on && 'pull_request' in workflow.on);
    assert.equal(workflow.concurrency['cancel-in-progress'], true);
    assert.match(workflow.concurrency.group, /github\.ref/);
    // GitHub runs `bash -eo pipefail` only when the shell is named.
    assert.equal(workflow.defaults?.run?.shell, 'bash');
    assert.deepEqual(Object.keys(workflow.jobs).sort(), ['linux', 'macos']);
  });

  it('pins every action by its major version', () => {
    const uses = Object.values(workflow.jobs).flatMap((j) =>
      j.steps.flatMap((s) => (s.uses ? [s.uses] : [])),
    );
    assert.ok(uses.includes('actions/checkout@v5'));
    for (const u of uses) assert.match(u, /^[\w.-]+\/[\w.-]+@v\d+$/, u);
  });

  it('the README has the two commands the jobs run', () => {
    assert.deepEqual(readmeCommands(), [
      './scripts/bootstrap.sh && npm start',
      './scripts/bootstrap.sh --test && npm test',
    ]);
  });

  it('Linux: a bare Debian as root running .ci/run, which runs the README commands in a fresh clone', () => {
    const linux = job('linux');
    assert.match(linux['runs-on'], /^ubuntu-\d/);
    assert.match(linux.container?.image ?? '', /^debian:/);
    assert.ok(linux.steps.some((s) => s.uses?.startsWith('actions/checkout@')));
    const lines = commands(linux);
    const git = indexOf(lines, /apt-get install .*\bgit\b/);
    assert.ok(git < indexOf(lines, /^\.ci\/run$/), 'git is there before .ci/run clones');
    const ci = read('.ci/run');
    for (const c of readmeCommands()) assert.ok(ci.includes(c), `.ci/run runs "${c}"`);
    assert.match(ci, /git clone/);
    assert.match(ci, /cli\.js status --json/);
  });

  it('macOS: an arm64 runner, the README commands, the strict addon build, a sample, doctor --probes, an unsigned app', () => {
    const mac = job('macos');
    // macos-14 and later are Apple Silicon; -large and -intel images are x64.
    const image = /^macos-(\d+)$/.exec(mac['runs-on']);
    assert.ok(image && Number(image[1]) >= 14, `an arm64 image, not ${mac['runs-on']}`);
    assert.ok(mac.steps.some((s) => s.uses?.startsWith('actions/checkout@')));
    assert.equal(mac.env?.['CSC_IDENTITY_AUTO_DISCOVERY'], 'false');
    const lines = commands(mac);
    const order = [
      indexOf(lines, /uname -m.*Darwin-arm64/),
      indexOf(lines, /^\.\/scripts\/bootstrap\.sh --test$/),
      indexOf(lines, /^npm run build:native( -- --strict)?$/),
      indexOf(lines, /^npm test$/),
      indexOf(lines, /cli\.js .*daemon --once\b/),
      indexOf(lines, /cli\.js .*doctor --probes --json\b/),
      indexOf(lines, /^npx electron-builder --mac --dir\b/),
    ];
    assert.deepEqual(
      [...order].sort((a, b) => a - b),
      order,
      'bootstrap, addon, tests, sample, doctor, app: in that order',
    );
    const build = lines.find((l) => l.startsWith('npx electron-builder'))!;
    assert.match(build, /-c\.mac\.identity=null/);
    assert.match(build, /-c\.mac\.notarize=false/);
    // A pipe into tee must not hide doctor's exit 1 (pipefail from the bash default above).
    assert.ok(lines.some((l) => /doctor --probes --json \| tee /.test(l)));
  });

  it('the build script the macOS job calls fails on a build error', () => {
    const pkg = JSON.parse(read('package.json')) as { scripts: Record<string, string> };
    assert.match(pkg.scripts['build:native'] ?? '', /scripts\/build-native\.mjs/);
    assert.match(read('scripts/build-native.mjs'), /process\.argv\.includes\('--strict'\)/);
    assert.equal(pkg.scripts['test']?.includes('run-tests.mjs'), true);
  });

  it('every CLI command a job runs exists with the flags it passes', () => {
    const program = new Command('exo-sentinel').exitOverride();
    registerDaemon(program);
    registerDoctor(program);
    const globals = [...read('src/main/headless/cli.ts').matchAll(/\.option\(\s*'(--[\w-]+)/g)].map(
      (m) => m[1],
    );
    const runs = commands(job('macos')).filter((l) => l.includes('dist/main/headless/cli.js'));
    assert.equal(runs.length, 2);
    for (const line of runs) {
      const words = line.split('|')[0]!.trim().split(/\s+/);
      const args = words.slice(words.indexOf('dist/main/headless/cli.js') + 1);
      const name = args.find((a, i) => !a.startsWith('-') && !args[i - 1]?.startsWith('--data-dir'));
      const cmd = program.commands.find((c) => c.name() === name);
      assert.ok(cmd, `exo-sentinel ${name} exists`);
      const known = new Set([...cmd.options.map((o) => o.long), ...globals]);
      for (const flag of args.filter((a) => a.startsWith('--')))
        assert.ok(known.has(flag.split('=')[0]), `exo-sentinel ${name} takes ${flag}`);
    }
  });
});
