import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseMemoryPressure } from '../../../src/main/core/probes/darwin/memory-pressure-parser.js';
import {
  parsePressureLevel,
  parseSwapUsage,
  parseSysctl,
  sysctlInt,
} from '../../../src/main/core/probes/darwin/sysctl-parser.js';
import { parseVmStat } from '../../../src/main/core/probes/darwin/vm-stat-parser.js';
import { fixture } from '../../support/fixtures.js';

const P = 16384;
const M = 1024 * 1024;

describe('vm_stat parser', () => {
  it('reads the 48-column layout (Apple source width), cut off after Decompressions', () => {
    const v = parseVmStat(
      fixture('macos/vm_stat/vm_stat.narrow-48col.apple-silicon.hmcl-pr4876.EXCERPT.txt'),
    );
    assert.equal(v.pageSize, P);
    assert.equal(v.bytes.free, 3857 * P);
    assert.equal(v.bytes.active, 446206 * P);
    assert.equal(v.bytes.wired, 181483 * P);
    assert.equal(v.bytes.occupiedByCompressor, 442179 * P);
    assert.equal(v.values['Translation faults'], 8667427138);
    assert.equal(v.values['Decompressions'], 591661242);
    assert.equal(v.values['Swapouts'], undefined, 'an excerpt is not completed with made-up lines');
  });

  it('reads the 53-column layout (useful-system-monitor)', () => {
    const v = parseVmStat(fixture('macos/vm_stat/vm_stat.wide-53col.useful-system-monitor.txt'));
    assert.equal(v.bytes.free, 3860 * P);
    assert.equal(v.bytes.inactive, 175255 * P);
    assert.equal(v.bytes.speculative, 299 * P);
    assert.equal(v.bytes.wired, 251285 * P);
    assert.equal(v.bytes.purgeable, 2 * P);
    assert.equal(v.bytes.storedInCompressor, 2269827 * P);
    assert.equal(v.bytes.occupiedByCompressor, 389264 * P);
    assert.equal(v.values['Swapouts'], 11141085);
    assert.equal(Object.keys(v.values).length, 22);
  });

  it('reads the mlx-memory-profiler capture (32 GB machine)', () => {
    const v = parseVmStat(fixture('macos/vm_stat/vm_stat.wide-53col.mlx-memory-profiler.txt'));
    assert.equal(v.bytes.active, 850962 * P);
    assert.equal(v.bytes.wired, 268246 * P);
    assert.equal(v.bytes.fileBacked, 414135 * P);
    assert.equal(v.bytes.anonymous, 1286884 * P);
    assert.equal(v.values['Pageins'], 78874554);
  });

  it('reads MTE lines and keeps "Bytes of compressed tags" as bytes, not pages', () => {
    const v = parseVmStat(fixture('macos/vm_stat/vm_stat.wide-53col.mte-fields.jitter-trace.txt'));
    assert.equal(v.values['Translation faults'], 20427968665, 'counters above 2^32');
    assert.equal(v.values['Pages tagged'], 125762);
    assert.equal(v.values['Pages tag-storage non-tag wired'], 9);
    assert.equal(v.values['Bytes of compressed tags'], 4519808);
    assert.equal(v.values['Tagged decompressions'], 11448710);
    assert.equal(v.bytes.wired, 221113 * P);
    assert.equal(Object.keys(v.values).length, 33);
  });

  it('never throws on garbage and gives nulls', () => {
    for (const junk of ['', 'garbage', '\u0000\u0001', 'Pages free: lots.']) {
      const v = parseVmStat(junk);
      assert.equal(v.bytes.free, null);
    }
    assert.equal(parseVmStat('Pages free: 12.').bytes.free, null, 'no page size, no bytes');
  });
});

describe('sysctl parser', () => {
  it('reads hw/machdep dumps by name (M4 Max, macOS 15)', () => {
    const s = parseSysctl(fixture('macos/sysctl/sysctl-hw-machdep.m4max.macos15.archspec.txt'));
    assert.equal(sysctlInt(s, 'hw.memsize'), 68719476736);
    assert.equal(sysctlInt(s, 'hw.memsize_usable'), 67793829888);
    assert.equal(sysctlInt(s, 'hw.pagesize'), 16384);
    assert.equal(s['hw.targettype'], 'J614c');
    assert.equal(s['machdep.cpu.brand_string'], 'Apple M4 Max');
    assert.equal(s['hw.osenvironment'], '', 'an empty value is kept as empty');
    assert.equal(sysctlInt(s, 'hw.cpufamily'), 399882554);
  });

  it('reads the -w form (old -> new) as the new value', () => {
    const s = parseSysctl(
      fixture('macos/sysctl/sysctl-w-iogpu.wired_limit_mb.m1max-32gb.llmfit-issue570.txt'),
    );
    assert.equal(sysctlInt(s, 'iogpu.wired_limit_mb'), 26000);
    assert.equal(Object.keys(s).length, 1, 'the echoed `sudo sysctl …` command line is not a value');
  });

  it('reads -n hw.model and the pressure level', () => {
    assert.equal(fixture('macos/sysctl/sysctl-n-hw.model.Mac17_9.macos27.diskdiet.txt').trim(), 'Mac17,9');
    assert.equal(
      parsePressureLevel(
        fixture('macos/sysctl/sysctl-n-kern.memorystatus_vm_pressure_level.m5pro.wtfssd.txt'),
      ),
      1,
    );
    assert.equal(parsePressureLevel('4\n'), 4);
    assert.equal(parsePressureLevel('3'), null, 'only 1, 2 and 4 are levels');
  });

  it('reads vm.swapusage with and without the name, including the de_DE comma form', () => {
    const high = parseSwapUsage(fixture('macos/sysctl/sysctl-vm.swapusage.high.macos27.diskdiet.txt'));
    assert.deepEqual(high, {
      total: 45056 * M,
      used: Math.round(43437.06 * M),
      free: Math.round(1618.94 * M),
      encrypted: true,
    });
    const zero = parseSwapUsage(fixture('macos/sysctl/sysctl-vm.swapusage.zero-swap.m5pro.wtfssd.txt'));
    assert.deepEqual(zero, { total: 0, used: 0, free: 0, encrypted: true });
    const plain = parseSwapUsage(fixture('macos/sysctl/sysctl-n-vm.swapusage.useful-system-monitor.txt'));
    assert.equal(plain?.total, 12288 * M);
    assert.equal(plain?.used, Math.round(10772.94 * M));
    const de = parseSwapUsage(
      fixture('macos/sysctl/sysctl-n-vm.swapusage.de_DE-locale.useful-system-monitor.txt'),
    );
    assert.equal(de?.total, 1024 * M);
    assert.equal(de?.used, Math.round(80.31 * M));
    assert.equal(de?.free, Math.round(943.69 * M));
    assert.equal(parseSwapUsage('total = 2.00G  used = 512.00K  free = 1.50G')?.total, 2 * 1024 ** 3);
    assert.equal(parseSwapUsage('nonsense'), null);
  });
});

describe('memory_pressure parser', () => {
  it('reads -Q (macOS 27, 48 GB)', () => {
    const r = parseMemoryPressure(
      fixture('macos/memory_pressure/memory_pressure-Q.macos27.48gb.diskdiet.txt'),
    );
    assert.equal(r.totalBytes, 51539607552);
    assert.equal(r.totalPages, 3145728);
    assert.equal(r.pageSize, 16384);
    assert.equal(r.freePercent, 39);
  });

  it('reads the full report (M5 Pro, 64 GB) and its page counts', () => {
    const r = parseMemoryPressure(fixture('macos/memory_pressure/memory_pressure.m5pro.64gb.wtfssd.txt'));
    assert.equal(r.totalBytes, 68719476736);
    assert.equal(r.freePercent, 70);
    assert.equal(r.counts['Pages wired down'], 307897);
    assert.equal(r.counts['Pages used by compressor'], 909211);
    // The kernel's free % = (active+inactive+free+speculative)/usable pages: the capture is consistent.
    const anc =
      r.counts['Pages active']! +
      r.counts['Pages inactive']! +
      r.counts['Pages free']! +
      r.counts['Pages speculative']!;
    assert.equal(anc, 2916285);
    assert.equal(Math.floor((100 * anc * 16384) / 67793829888), 70);
  });
});
