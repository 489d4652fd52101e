import { finiteNumber } from '../../util/finite.js';
/** `system_profiler SPDisplaysDataType` (text): the GPU's chipset, core count and Metal support. */
export interface DisplaysInfo {
  chipsetModel: string | null;
  totalCores: number | null;
  metalSupport: string | null;
  vendor: string | null;
  displays: string[];
}

export function parseDisplays(text: string): DisplaysInfo {
  const field = (label: string): string | null => {
    const m = new RegExp(`^\\s*${label}:\\s*(.+?)\\s*$`, 'm').exec(text);
    return m ? m[1]! : null;
  };
  const cores = field('Total Number of Cores');
  const displays: string[] = [];
  const block = /^(\s*)Displays:\s*$/m.exec(text);
  if (block) {
    const indent = block[1]!.length;
    for (const line of text.slice(block.index + block[0].length).split(/\r?\n/)) {
      const m = /^(\s*)(\S.*?):\s*$/.exec(line);
      if (m && m[1]!.length === indent + 2) displays.push(m[2]!);
    }
  }
  return {
    chipsetModel: field('Chipset Model'),
    totalCores: cores && /^\d+$/.test(cores) ? finiteNumber(cores) : null,
    metalSupport: field('Metal Support'),
    vendor: field('Vendor'),
    displays,
  };
}
