import { renameSync, statSync, writeFileSync } from 'node:fs';
import { uptime } from 'node:os';
import type { CeilingSource, GpuReading, MemoryReading, ProcessRole } from '../../../shared/sample.js';
import { readSmallFile } from '../util/small-file.js';
import { estimateCeiling } from './ceiling-estimate.js';
import { type CommandResult, type CommandRunner, runInBackground } from './command-runner.js';
import { parseMetalCeiling } from './darwin/metal-ceiling-parser.js';
import type { ProbeReporter, ProcessEntry } from './probe-types.js';

/**
 * Python code printing MLX's device info (`max_recommended_working_set_size` is the Metal
 * `recommendedMaxWorkingSetSize`): `mx.device_info()` in MLX ≥ 0.29, `mx.metal.device_info()` before.
 */
export const MLX_DEVICE_INFO_CODE =
  "import mlx.core as mx; f = getattr(mx, 'device_info', None) or mx.metal.device_info; print(f())";
export const PYTHON_ARGS: readonly string[] = ['-c', MLX_DEVICE_INFO_CODE];

/** How long one Python may take to answer (importing MLX and making a Metal device takes seconds cold). */
export const PYTHON_BUDGET_MS = 15_000;
/** At most this many different Pythons are asked per boot (a broken venv is not retried every tick). */
export const MAX_PYTHONS_ASKED = 3;

const PYTHON_NAME = /^python(\d+(\.\d+)*)?$/i;
/** EXO.app's frozen (PyInstaller) interpreter: `…/EXO.app/Contents/Resources/exo/exo`. */
const BUNDLED_EXO = /\/EXO\.app\/Contents\/Resources\/exo\/exo$/;

export interface WatchedProcess {
  entry: ProcessEntry;
  role: ProcessRole;
}

export interface PythonCandidate {
  path: string;
  source: 'mlx-python' | 'exo-python';
  /** Where it was found, for messages: "runner pid 1601 argv[0]". */
  via: string;
}

const ROLE_ORDER: ProcessRole[] = ['exo-runner', 'exo-main', 'exo-resource-tracker'];

/**
 * EXO's own Python, from its watched processes, runners first (they are what loads MLX), then the main process
 * and its resource tracker. A source install runs a venv's `python3` (argv[0], which keeps the venv; the
 * resolved executable would not have MLX). EXO.app runs a frozen `exo` that executes `-c CODE` and exits
 * (src/exo/__main__.py `_maybe_run_inline_code`, exo PR #995, opened 2025-12-23, merged); a build without it
 * runs EXO's main() with those arguments instead (the PR's words), so the bundle is only asked when one of its
 * processes already runs with `-c` (the multiprocessing resource tracker). EXO's frozen runners run as
 * `exo --multiprocessing-fork …`, which proves nothing about `-c`; a frozen `--exo-runner` flag was found only
 * on the unmerged branch `ai-slop` (16a3ab51, 2026-03-03), not on main or in a release. Only absolute paths.
 */
export function exoPythonCandidates(watched: readonly WatchedProcess[]): PythonCandidate[] {
  const out: PythonCandidate[] = [];
  const seen = new Set<string>();
  const runsInline = (path: string): boolean =>
    watched.some(
      (w) => (w.entry.argv[0] === path || w.entry.executable === path) && w.entry.argv.includes('-c'),
    );
  for (const role of ROLE_ORDER) {
    for (const w of watched) {
      if (w.role !== role) continue;
      const options: Array<[string | null | undefined, string]> = [
        [w.entry.argv[0], 'argv[0]'],
        [w.entry.executable, 'executable'],
      ];
      for (const [path, what] of options) {
        if (!path?.startsWith('/') || seen.has(path)) continue;
        const name = path.split('/').pop() ?? '';
        if (PYTHON_NAME.test(name) || (BUNDLED_EXO.test(path) && runsInline(path))) {
          seen.add(path);
          out.push({
            path,
            source: 'exo-python',
            via: `${role.replace('exo-', '')} pid ${w.entry.pid} ${what}`,
          });
        }
      }
    }
  }
  return out;
}

/**
 * Whether a program found in another process's argv may be run: a regular, executable file, owned by root or by
 * this user, not writable by others. Returns why not, or null.
 */
export function untrustedExecutable(path: string): string | null {
  try {
    const st = statSync(path);
    if (!st.isFile()) return 'not a regular file';
    if ((st.mode & 0o111) === 0) return 'not executable';
    if ((st.mode & 0o002) !== 0) return 'writable by anyone';
    const uid = process.getuid?.();
    if (uid !== undefined && st.uid !== 0 && st.uid !== uid) return `owned by uid ${st.uid}`;
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message;
  }
}

export interface CeilingChainOptions {
  /** The configured gpu.ceilingBytes. */
  ceilingBytes?: number | null;
  /** The configured gpu.mlxPython. */
  mlxPython?: string | null;
  /** Whose Metal this is: the Pythons are asked on macOS only (elsewhere there is no Metal device). */
  platform?: NodeJS.Platform;
  /** Runs a Python (tests inject captured outputs); default: a child that never keeps Node running. */
  run?: CommandRunner;
  budgetMs?: number;
  /** Boot time (epoch ms), the key of the cache; default from the uptime. */
  bootTime?: () => number;
  /** Whether a program may be run (tests); default `untrustedExecutable`. */
  untrusted?: (path: string) => string | null;
  /**
   * Where a Python's answer is kept for the rest of the boot (the data directory's metal-ceiling.json), so a
   * restarted daemon does not ask again; none: kept in memory only.
   */
  cacheFile?: string | null;
}

interface CachedAnswer {
  bootTime: number;
  bytes: number;
  source: 'mlx-python' | 'exo-python';
  path: string;
}

/** Two boot-time readings this close are the same boot (the uptime clock and the wall clock drift apart). */
const SAME_BOOT_MS = 120_000;

function readCache(file: string, boot: number): CachedAnswer | null {
  try {
    // Our own small file, but in a directory a FIFO or a device could be put in: read as a small file.
    const read = readSmallFile(file, 4096);
    if (!read.ok) return null;
    const c = JSON.parse(read.text) as Partial<CachedAnswer>;
    const ok =
      typeof c.bootTime === 'number' &&
      Math.abs(c.bootTime - boot) <= SAME_BOOT_MS &&
      typeof c.bytes === 'number' &&
      Number.isSafeInteger(c.bytes) &&
      c.bytes > 0 &&
      (c.source === 'mlx-python' || c.source === 'exo-python') &&
      typeof c.path === 'string';
    return ok ? (c as CachedAnswer) : null;
  } catch {
    return null;
  }
}

type Asked = { state: 'pending' } | { state: 'failed'; error: string } | { state: 'found'; bytes: number };

/**
 * The rest of the ceiling chain, after what the probe itself read (the addon's Metal figure, then
 * `iogpu.wired_limit_mb` > 0): the configured gpu.ceilingBytes, the configured gpu.mlxPython, EXO's own Python
 * from its processes' argv, else the estimate from RAM. A Python is asked once per boot, in the background within
 * its budget — `resolve` never waits, so the 1 s reading never does: until the answer comes the estimate stands.
 */
export class CeilingChain {
  private readonly asked = new Map<string, Asked>();
  private found: { bytes: number; source: 'mlx-python' | 'exo-python'; path: string } | null = null;
  private inflight = false;
  private boot: number;
  private readonly run: CommandRunner;
  private readonly bootTime: () => number;

  constructor(
    private readonly reporter: ProbeReporter,
    private readonly options: CeilingChainOptions = {},
  ) {
    this.run = options.run ?? runInBackground;
    this.bootTime = options.bootTime ?? (() => Date.now() - uptime() * 1000);
    this.boot = this.bootTime();
    const cached = options.cacheFile ? readCache(options.cacheFile, this.boot) : null;
    if (cached) {
      this.found = { bytes: cached.bytes, source: cached.source, path: cached.path };
      this.asked.set(cached.path, { state: 'found', bytes: cached.bytes });
    }
  }

  /** Keeps the answer for the rest of the boot; a failure to write costs a later restart one more ask. */
  private writeCache(found: { bytes: number; source: 'mlx-python' | 'exo-python'; path: string }): void {
    const file = this.options.cacheFile;
    if (!file) return;
    try {
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, `${JSON.stringify({ bootTime: this.boot, ...found })}\n`, { mode: 0o600 });
      renameSync(tmp, file);
    } catch (e) {
      this.reporter.failed('gpu.ceiling.cache', `${file}: ${(e as Error).message}`);
    }
  }

  /** The Python that answered, if any (for status and tests). */
  get python(): { path: string; bytes: number; source: CeilingSource } | null {
    return this.found;
  }

  /** The reading with its ceiling filled in, and where it came from. Never waits. */
  resolve(gpu: GpuReading, memory: MemoryReading, watched: readonly WatchedProcess[]): GpuReading {
    if (gpu.ceilingBytes !== null && gpu.ceilingBytes > 0)
      return { ...gpu, ceilingSource: gpu.ceilingSource ?? null };
    const configured = this.options.ceilingBytes;
    if (configured && configured > 0) return { ...gpu, ceilingBytes: configured, ceilingSource: 'config' };
    const python = this.pythonCeiling(watched, memory.total);
    if (python) return { ...gpu, ceilingBytes: python.bytes, ceilingSource: python.source };
    const estimate = estimateCeiling(memory.total);
    if (estimate !== null) return { ...gpu, ceilingBytes: estimate, ceilingSource: 'estimate' };
    this.reporter.unavailable(
      'gpu.ceilingBytes',
      'Metal ceiling unknown: no Metal figure, iogpu.wired_limit_mb is 0, no Python answered and the RAM size is unknown',
    );
    return { ...gpu, ceilingBytes: null, ceilingSource: null };
  }

  private pythonCeiling(
    watched: readonly WatchedProcess[],
    ramBytes: number | null,
  ): { bytes: number; source: CeilingSource } | null {
    if ((this.options.platform ?? process.platform) !== 'darwin') return null;
    const boot = this.bootTime();
    if (Math.abs(boot - this.boot) > SAME_BOOT_MS) {
      // A new boot (a suspended VM resumed, a clock jump): what was asked before may no longer hold.
      this.boot = boot;
      this.asked.clear();
      this.found = null;
    }
    if (this.found && ramBytes !== null && this.found.bytes > ramBytes) {
      // Metal never recommends more than the machine has: an answer above RAM is not believed.
      const error = `${this.found.bytes} bytes, more than the ${ramBytes} bytes of RAM`;
      this.asked.set(this.found.path, { state: 'failed', error });
      this.reporter.failed(
        `gpu.ceiling.${this.found.source}`,
        `${this.found.path} gave no usable Metal ceiling: ${error}`,
      );
      this.found = null;
    }
    if (this.found) return this.found;
    if (this.inflight) return null;
    const candidates: PythonCandidate[] = [];
    if (this.options.mlxPython)
      candidates.push({ path: this.options.mlxPython, source: 'mlx-python', via: 'gpu.mlxPython' });
    candidates.push(...exoPythonCandidates(watched));
    const next = candidates.find((c) => !this.asked.has(c.path));
    if (next && this.asked.size < MAX_PYTHONS_ASKED) this.ask(next);
    return null;
  }

  private ask(c: PythonCandidate): void {
    const why = c.source === 'exo-python' ? (this.options.untrusted ?? untrustedExecutable)(c.path) : null;
    if (why !== null) {
      this.asked.set(c.path, { state: 'failed', error: why });
      this.reporter.failed('gpu.ceiling.exo-python', `${c.path} (${c.via}) is not run: ${why}`);
      return;
    }
    this.asked.set(c.path, { state: 'pending' });
    this.inflight = true;
    const budget = this.options.budgetMs ?? PYTHON_BUDGET_MS;
    void this.run(c.path, [...PYTHON_ARGS], { timeoutMs: budget, maxBytes: 64 * 1024 })
      .catch((e: unknown): CommandResult => ({ ok: false, error: (e as Error).message ?? String(e) }))
      .then((r) => {
        const bytes = r.ok ? parseMetalCeiling(r.stdout).ceilingBytes : null;
        if (bytes !== null && bytes > 0) {
          this.asked.set(c.path, { state: 'found', bytes });
          this.found = { bytes, source: c.source, path: c.path };
          this.writeCache(this.found);
          return;
        }
        const error = r.ok ? 'its output has no max_recommended_working_set_size' : r.error;
        this.asked.set(c.path, { state: 'failed', error });
        this.reporter.failed(
          `gpu.ceiling.${c.source}`,
          `${c.path} (${c.via}) gave no Metal ceiling: ${error}`,
        );
      })
      .finally(() => {
        this.inflight = false;
      });
  }
}
