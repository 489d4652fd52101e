import { readFileSync, statSync } from 'node:fs';

/**
 * How close to the limit a file stopped by it is: SQLite writes a page at a time (4 KiB, with 24 bytes of
 * header in the write-ahead log), and the kernel writes up to the limit before it refuses. Two writes' worth.
 */
const NEAR_BYTES = 2 * (4096 + 24);

/**
 * The errors a write stopped by the limit gives: EFBIG from the OS, SQLITE_IOERR_WRITE (or _TRUNCATE) from
 * SQLite, or SQLITE_FULL for the write the kernel cut short at the limit.
 */
export const WRITE_ERRORS = new Set(['EFBIG', 'SQLITE_IOERR_WRITE', 'SQLITE_IOERR_TRUNCATE', 'SQLITE_FULL']);

/**
 * The soft file size limit of this process (`ulimit -f`, launchd's `SoftResourceLimits FileSize`, systemd's
 * `LimitFSIZE=`) in bytes, or null when unlimited or unknown. Read from `/proc/self/limits` (Linux); macOS has
 * no such file and gives null.
 */
export function fileSizeLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const soft = /^Max file size\s+(\S+)/m.exec(text)?.[1];
  if (soft === undefined || soft === 'unlimited') return null;
  const n = Number(soft);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/**
 * Whether a failed write to the database at `path` (SQLite reports EFBIG only as a generic I/O error) met the
 * file size limit: the limit is set and the database or its write-ahead log has grown to within one write of
 * it. Names the file and the figures, or null.
 */
export function fileSizeLimitHit(
  path: string,
  limit: number | null = fileSizeLimit(),
): { file: string; size: number; limit: number } | null {
  if (limit === null) return null;
  for (const file of [path, `${path}-wal`, `${path}-journal`]) {
    let size: number;
    try {
      size = statSync(file).size;
    } catch {
      continue;
    }
    if (size <= limit && size + NEAR_BYTES > limit) return { file, size, limit };
  }
  return null;
}

/** The sentence that says so. */
export const fileSizeLimitMessage = (hit: { file: string; size: number; limit: number }): string =>
  `the file size limit of this process (ulimit -f: ${hit.limit} bytes) stops writes to ${hit.file} (${hit.size} bytes); raise or remove it where exo-sentinel is started (a shell's ulimit -f, systemd's LimitFSIZE=, launchd's FileSize)`;

/**
 * The file size limit named for a failed write of the database at `path` (a read error, or a file not within
 * two writes of the limit, is not that), or null. `diskFull`: a full disk gives SQLITE_FULL too.
 */
export function fileSizeLimitProblem(code: string, path: string, diskFull = false): string | null {
  if (!WRITE_ERRORS.has(code) || (code === 'SQLITE_FULL' && diskFull)) return null;
  const hit = fileSizeLimitHit(path);
  return hit ? fileSizeLimitMessage(hit) : null;
}
