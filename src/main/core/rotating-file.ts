import {
  closeSync,
  copyFileSync,
  fstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
} from 'node:fs';
import { dirname, extname } from 'node:path';

export interface RotationLimits {
  /** The current file is rotated once it reaches this size. */
  maxBytes: number;
  /** Rotated files kept beside the current one (name.1.ext is the newest). */
  keep: number;
}

/** `dir/exo-sentinel.log` → `dir/exo-sentinel.3.log`. */
export function rotatedName(file: string, n: number): string {
  const ext = extname(file);
  return `${file.slice(0, file.length - ext.length)}.${n}${ext}`;
}

/** Shifts name.1 … name.(keep-1) up by one (the oldest falls off); the caller then moves the current file to .1. */
function shift(file: string, keep: number): void {
  rmSync(rotatedName(file, keep), { force: true });
  for (let i = keep - 1; i >= 1; i--) {
    try {
      renameSync(rotatedName(file, i), rotatedName(file, i + 1));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

const sizeOf = (file: string): number => {
  try {
    return statSync(file).size;
  } catch {
    return 0;
  }
};

/**
 * Rotates a file another process keeps open for appending (launchd's StandardOutPath/StandardErrorPath): when
 * it has reached `maxBytes`, its content is copied to name.1 (older copies shifted, `keep` kept) and the file
 * is truncated in place, so the writer's descriptor stays valid. Returns whether it rotated; never throws.
 */
export function rotateInPlace(file: string, limits: RotationLimits): boolean | string {
  try {
    if (sizeOf(file) < limits.maxBytes) return false;
    if (limits.keep > 0) {
      shift(file, limits.keep);
      copyFileSync(file, rotatedName(file, 1));
    }
    truncateSync(file, 0);
    return true;
  } catch (e) {
    return `${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
}

/**
 * A log file that rotates by size: lines are appended to `file` (its name never changes, so `tail -F` and
 * `exo-sentinel logs -f` follow it); at `maxBytes` it becomes name.1.ext, the older ones shift up and only
 * `keep` of them stay. Writes are synchronous appends (a daemon logs a few lines a minute): nothing waits in
 * memory. A line that cannot be written (disk full, read-only, directory gone) is dropped and reported through
 * `onError`; the next line tries again, and success is reported as `onError(null)`. Never throws.
 *
 * A file (or its directory) removed or replaced while open is found at the first line written a second or more
 * after the last look, and the file is opened again by its name (its directory recreated): every line went
 * into the unlinked file before, until the next rotation, so `exo-sentinel logs` had nothing for weeks.
 */
/** How often the log file's name is checked against the open file, ms. */
const RELOOK_MS = 1000;

export class RotatingFile {
  private fd: number | null = null;
  private size = 0;
  private failing: string | null = null;
  private closed = false;
  private lookedAt = 0;
  /** Rotations since open. */
  rotations = 0;

  constructor(
    readonly file: string,
    private readonly limits: RotationLimits,
    private readonly onError: (message: string | null) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {}

  write(line: string): void {
    if (this.closed) return;
    try {
      if (this.fd !== null && !this.stillNamed()) this.release();
      if (this.fd === null) this.open();
      const bytes = Buffer.from(line);
      if (this.size > 0 && this.size + bytes.length > this.limits.maxBytes) this.rotate();
      writeSync(this.fd!, bytes);
      this.size += bytes.length;
      if (this.failing !== null) {
        this.failing = null;
        this.onError(null);
      }
    } catch (e) {
      this.fail(e);
    }
  }

  close(): void {
    this.closed = true;
    this.release();
  }

  private open(): void {
    // 0700, as the data directory it may make again (removed while the daemon ran) is meant to be.
    mkdirSync(dirname(this.file), { recursive: true, mode: 0o700 });
    this.fd = openSync(this.file, 'a', 0o600);
    this.size = sizeOf(this.file);
    this.lookedAt = this.now();
  }

  /** Whether the open file is still the one at its name (looked at once per RELOOK_MS). */
  private stillNamed(): boolean {
    const t = this.now();
    if (t - this.lookedAt < RELOOK_MS && t >= this.lookedAt) return true;
    this.lookedAt = t;
    try {
      const open = fstatSync(this.fd!);
      const named = statSync(this.file);
      return open.ino === named.ino && open.dev === named.dev;
    } catch {
      return false;
    }
  }

  private rotate(): void {
    this.release();
    if (this.limits.keep > 0) {
      shift(this.file, this.limits.keep);
      renameSync(this.file, rotatedName(this.file, 1));
    } else rmSync(this.file, { force: true });
    this.rotations++;
    this.open();
  }

  private release(): void {
    if (this.fd === null) return;
    try {
      closeSync(this.fd);
    } catch {
      // already gone
    }
    this.fd = null;
  }

  private fail(e: unknown): void {
    const message = `the log file ${this.file} cannot be written: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
    // Reopened at the next line: the directory may be back, or the disk have room again.
    this.release();
    if (message === this.failing) return;
    this.failing = message;
    this.onError(message);
  }
}
