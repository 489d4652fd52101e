import { finiteNumber, finiteOrNull } from '../../util/finite.js';
import { linearOf } from '../../util/linear-regexp.js';

/**
 * The Metal working-set ceiling (`recommendedMaxWorkingSetSize`) as printed by the tools people run:
 * - MLX `mx.device_info()` repr: `{'max_recommended_working_set_size': 188743680000, …}`
 * - llama.cpp `--list-devices`: `MTL0: Apple M1 Max (26000 MiB, 25999 MiB free)`
 * - Ollama's log: `msg="inference compute" … library=Metal … total="96.0 GiB"`
 * - a probe line: `recommendedMaxWorkingSetSize: 107.52 GiB`
 * Returns bytes, or null if no ceiling is stated.
 */
const UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
};

const toBytes = (n: string, unit: string): number | null => {
  const mult = UNITS[unit];
  return mult === undefined ? null : finiteOrNull(Math.round(Number(n) * mult));
};

export interface MetalDeviceInfo {
  ceilingBytes: number | null;
  maxBufferLength: number | null;
  architecture: string | null;
  deviceName: string | null;
}

/** llama.cpp's device line; on the linear-time engine (backtracking, `MTL0:` and 8000 spaces took 68 s). */
const LLAMA = linearOf(/MTL\d+:\s*(.+?)\s*\((\d+(?:\.\d+)?)\s*(MiB|GiB)(?:,\s*[\d.]+\s*(?:MiB|GiB) free)?\)/);

export function parseMetalCeiling(text: string): MetalDeviceInfo {
  const info: MetalDeviceInfo = {
    ceilingBytes: null,
    maxBufferLength: null,
    architecture: null,
    deviceName: null,
  };
  const mlx = /['"]max_recommended_working_set_size['"]\s*:\s*(\d+)/.exec(text);
  if (mlx) {
    info.ceilingBytes = finiteNumber(mlx[1]);
    const buf = /['"]max_buffer_length['"]\s*:\s*(\d+)/.exec(text);
    const arch = /['"]architecture['"]\s*:\s*['"]([^'"]+)['"]/.exec(text);
    info.maxBufferLength = buf ? finiteNumber(buf[1]) : null;
    info.architecture = arch ? arch[1]! : null;
    return info;
  }
  const llama = LLAMA.exec(text);
  if (llama) {
    info.deviceName = llama[1]!;
    info.ceilingBytes = toBytes(llama[2]!, llama[3]!);
    return info;
  }
  const ollamaLine = /^.*library=Metal.*$/m.exec(text)?.[0];
  const ollama = ollamaLine ? /\btotal="(\d+(?:\.\d+)?) (B|KiB|MiB|GiB|TiB)"/.exec(ollamaLine) : null;
  if (ollamaLine && ollama) {
    info.deviceName = /\bdescription="([^"]*)"/.exec(ollamaLine)?.[1] ?? null;
    info.ceilingBytes = toBytes(ollama[1]!, ollama[2]!);
    return info;
  }
  // Several annotated lines (stock vs with a wired limit): the first is the stock value.
  const direct = /recommendedMaxWorkingSetSize:\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?/.exec(text);
  if (direct) info.ceilingBytes = toBytes(direct[1]!, direct[2] ?? 'B');
  return info;
}

/** All `recommendedMaxWorkingSetSize:` values in order, e.g. stock and with `iogpu.wired_limit_mb` set. */
export function parseAllWorkingSetLines(text: string): number[] {
  const out: number[] = [];
  const re = /recommendedMaxWorkingSetSize:\s*(\d+(?:\.\d+)?)\s*(B|KiB|MiB|GiB|TiB)?/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const b = toBytes(m[1]!, m[2] ?? 'B');
    if (b !== null) out.push(b);
  }
  return out;
}
