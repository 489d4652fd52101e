/**
 * `ioreg -r -d 1 -w 0 -c IOAccelerator`: one `+-o AGXAccelerator…` node per GPU with one property per line.
 * Only the `"PerformanceStatistics" = {…}` line carries the memory figures; the IOReportLegend names the
 * same keys, so the whole output must never be grepped for them. Key order is not stable, and some
 * integers in the node exceed 2^53, so values are kept as strings until a known key is converted.
 */

export interface AcceleratorNode {
  className: string | null;
  /** Every PerformanceStatistics entry, value as printed. */
  performanceStatistics: Record<string, string>;
  inUseSystemMemory: number | null;
  allocSystemMemory: number | null;
  deviceUtilization: number | null;
  rendererUtilization: number | null;
  tilerUtilization: number | null;
  /** GPU recoveries (hang and reset) since boot. */
  recoveryCount: number | null;
  /** When the last recovery happened, as printed (0 = none; the unit is not documented). */
  lastRecoveryTime: number | null;
  model: string | null;
  /** e.g. `gpu,t6040`: the exact SoC, unlike the kernel family. */
  nameMatched: string | null;
  gpuCoreCount: number | null;
  sourceVersion: string | null;
  lastSubmissionPid: number | null;
}

/** Splits `{"a"=1,"b (x)"=2}` into pairs; commas inside nested braces/parentheses are kept. */
export function parseIoregDict(body: string): Record<string, string> {
  const inner = body.trim().replace(/^\{/, '').replace(/\}$/, '');
  const out: Record<string, string> = {};
  let depth = 0;
  let inString = false;
  let start = 0;
  const parts: string[] = [];
  for (let i = 0; i < inner.length; i++) {
    const c = inner[i];
    if (c === '"') inString = !inString;
    else if (!inString && (c === '{' || c === '(')) depth++;
    else if (!inString && (c === '}' || c === ')')) depth--;
    else if (!inString && depth === 0 && c === ',') {
      parts.push(inner.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(inner.slice(start));
  for (const part of parts) {
    const m = /^\s*"([^"]*)"\s*=\s*(.*?)\s*$/.exec(part);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

/** A decimal integer that fits exactly in a double, else null (never a rounded number). */
export function safeInt(value: string | undefined): number | null {
  if (value === undefined || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

const unquote = (v: string | undefined): string | null => {
  if (v === undefined) return null;
  const m = /^"(.*)"$/.exec(v.trim());
  return m ? m[1]! : v.trim();
};

export function parseIoregAccelerators(text: string): AcceleratorNode[] {
  const nodes: AcceleratorNode[] = [];
  const chunks = text.split(/^(?=\+-o )/m).filter((c) => c.startsWith('+-o '));
  // Output without a node header (e.g. a pasted excerpt) is still read as one node.
  if (chunks.length === 0 && /"PerformanceStatistics"/.test(text)) chunks.push(text);
  for (const chunk of chunks) {
    const props: Record<string, string> = {};
    for (const line of chunk.split(/\r?\n/)) {
      const m = /^\s*"([^"]+)"\s*=\s*(.*)$/.exec(line);
      if (m && !(m[1]! in props)) props[m[1]!] = m[2]!;
    }
    const cls = /^\+-o\s+(\S+)\s+<class\s+([^,>]+)/.exec(chunk);
    const stats = props['PerformanceStatistics'] ? parseIoregDict(props['PerformanceStatistics']) : {};
    const agc = props['AGCInfo'] ? parseIoregDict(props['AGCInfo']) : {};
    nodes.push({
      className: cls ? cls[2]!.trim() : null,
      performanceStatistics: stats,
      // Exact key: "In use system memory (driver)" shares the prefix and is a different figure.
      inUseSystemMemory: safeInt(stats['In use system memory']),
      allocSystemMemory: safeInt(stats['Alloc system memory']),
      deviceUtilization: safeInt(stats['Device Utilization %']),
      rendererUtilization: safeInt(stats['Renderer Utilization %']),
      tilerUtilization: safeInt(stats['Tiler Utilization %']),
      recoveryCount: safeInt(stats['recoveryCount']),
      lastRecoveryTime: safeInt(stats['lastRecoveryTime']),
      model: unquote(props['model']),
      nameMatched: unquote(props['IONameMatched']),
      gpuCoreCount: safeInt(props['gpu-core-count']),
      sourceVersion: unquote(props['IOSourceVersion']),
      lastSubmissionPid: safeInt(agc['fLastSubmissionPID']),
    });
  }
  return nodes;
}
