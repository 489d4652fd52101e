import { finiteNumber } from '../../util/finite.js';
import { parseSize } from './size-units.js';

/**
 * `top -l N -stats pid,command,mem` (or other stats). Each sample is a block starting `Processes:`;
 * with `-l 2` only the last block has real CPU figures. MEM is the phys_footprint, printed with a unit
 * and a `+`/`-`/space change marker; COMMAND is cut to 16 characters and may contain spaces; PID may
 * carry a `*`.
 */

export interface TopRow {
  pid: number;
  command: string | null;
  /** Column name (`MEM`, `POWER`, ...) → raw value. */
  values: Record<string, string>;
  memBytes: number | null;
}

export interface TopBlock {
  physMem: {
    used: number | null;
    wired: number | null;
    compressor: number | null;
    unused: number | null;
  } | null;
  columns: string[];
  rows: TopRow[];
}

export function parseTop(text: string): TopBlock[] {
  const blocks: TopBlock[] = [];
  let current: TopBlock | null = null;
  let inRows = false;
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('Processes:')) {
      current = { physMem: null, columns: [], rows: [] };
      blocks.push(current);
      inRows = false;
      continue;
    }
    if (!current) continue;
    const pm = /^PhysMem:\s*(\S+) used(?: \((\S+) wired(?:, (\S+) compressor)?\))?, (\S+) unused/.exec(line);
    if (pm) {
      current.physMem = {
        used: parseSize(pm[1]!),
        wired: pm[2] ? parseSize(pm[2]) : null,
        compressor: pm[3] ? parseSize(pm[3]) : null,
        unused: parseSize(pm[4]!),
      };
      continue;
    }
    if (/^PID\s/.test(line)) {
      current.columns = line.trim().split(/\s+/);
      inRows = true;
      continue;
    }
    if (!inRows || line.trim() === '') continue;
    const row = parseRow(line, current.columns);
    if (row) current.rows.push(row);
  }
  return blocks;
}

function parseRow(line: string, columns: string[]): TopRow | null {
  const tokens = line.trim().split(/\s+/);
  const pidTok = tokens[0]?.replace(/\*$/, '');
  const pid = pidTok && /^\d+$/.test(pidTok) ? finiteNumber(pidTok) : null;
  if (pid === null) return null;
  const values: Record<string, string> = {};
  let command: string | null = null;
  const cmdIndex = columns.indexOf('COMMAND');
  const after = columns.length - 1 - Math.max(cmdIndex, 0);
  if (cmdIndex >= 0) {
    // Columns after COMMAND are single tokens; COMMAND takes what is left between.
    const tail = tokens.slice(tokens.length - after);
    command = tokens.slice(1, tokens.length - after).join(' ') || null;
    columns.slice(cmdIndex + 1).forEach((c, i) => {
      values[c] = tail[i] ?? '';
    });
  } else {
    columns.slice(1).forEach((c, i) => {
      values[c] = tokens[i + 1] ?? '';
    });
  }
  const mem = values['MEM'];
  return { pid, command, values, memBytes: mem === undefined ? null : parseSize(mem) };
}

/** The last block's MEM per pid: what the fallback phys_footprint probe uses. */
export function topFootprints(text: string): Map<number, number> {
  const blocks = parseTop(text);
  const out = new Map<number, number>();
  const last = blocks[blocks.length - 1];
  for (const row of last?.rows ?? []) if (row.memBytes !== null) out.set(row.pid, row.memBytes);
  return out;
}
