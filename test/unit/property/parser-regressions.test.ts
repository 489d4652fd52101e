/**
 * Counterexamples the parser property tests found, kept as named cases. Each was a throw or a
 * non-finite number (Infinity from a digit run longer than a double holds, or from an overflowing product).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateConfig } from '../../../src/main/core/config/config-loader.js';
import { parseExoLogLine } from '../../../src/main/core/exo/exo-log-parser.js';
import {
  detectFailures,
  parseNodeIdentities,
  parseNodeMemory,
  parsePlacementPreviews,
  parseRunners,
} from '../../../src/main/core/exo/exo-state-parser.js';
import { parsePanicReport } from '../../../src/main/core/panics/panic-parser.js';
import { parseUserCrash } from '../../../src/main/core/panics/user-crash-parser.js';
import { parseFootprint } from '../../../src/main/core/probes/darwin/footprint-parser.js';
import { parseMemoryPressure } from '../../../src/main/core/probes/darwin/memory-pressure-parser.js';
import {
  parseAllWorkingSetLines,
  parseMetalCeiling,
} from '../../../src/main/core/probes/darwin/metal-ceiling-parser.js';
import { parseElapsed, parsePs } from '../../../src/main/core/probes/darwin/ps-parser.js';
import {
  parseSwapUsage,
  parseSysctl,
  sysctlInt,
} from '../../../src/main/core/probes/darwin/sysctl-parser.js';
import { parseDisplays } from '../../../src/main/core/probes/darwin/system-profiler-parser.js';
import { parseTop } from '../../../src/main/core/probes/darwin/top-parser.js';
import { parseVmStat } from '../../../src/main/core/probes/darwin/vm-stat-parser.js';
import { parseMeminfo } from '../../../src/main/core/probes/linux/meminfo-parser.js';
import {
  parseKeyValueKb,
  parseProcStat,
  parseSystemStat,
} from '../../../src/main/core/probes/linux/proc-pid-parser.js';
import { parsePsi } from '../../../src/main/core/probes/linux/psi-parser.js';
import { assertWellTyped } from '../../support/property.js';

/** 310 nines: Number() of it is Infinity. */
const HUGE = '9'.repeat(310);

describe('parser regressions found by the property tests', () => {
  it('vm_stat: a page count past a double is dropped, and a huge page size gives no byte figures', () => {
    const v = parseVmStat(
      `Mach Virtual Memory Statistics: (page size of 16384 bytes)\nPages free:   3857.\nPages active:   ${HUGE}446206.\n`,
    );
    assertWellTyped(v);
    assert.equal(v.values['Pages active'], undefined);
    assert.equal(v.bytes.active, null);
    assert.equal(v.bytes.free, 3857 * 16384);
    const big = parseVmStat(
      `Mach Virtual Memory Statistics: (page size of ${'9'.repeat(300)} bytes)\nPages free:   ${'9'.repeat(20)}.\n`,
    );
    assertWellTyped(big);
    assert.equal(big.bytes.free, null);
  });

  it('ps: rss, elapsed and cpu time that overflow are left out, the row is kept', () => {
    const rows = parsePs(
      `  PID  PPID     ELAPSED   RSS COMMAND\n 544     1 02-17:00:00 ${HUGE} /usr/sbin/fseventsd\n`,
    );
    assertWellTyped(rows);
    assert.equal(rows[0]?.pid, 544);
    assert.equal(rows[0]?.rssBytes, undefined);
    assert.equal(parseElapsed(`${HUGE}-00:00:00`), null);
    const headerless = parsePs(` 544 ${'9'.repeat(306)} 1.0\n`, ['pid', 'rss', 'pcpu']);
    assertWellTyped(headerless);
  });

  it('top: a pid past a double is not a row; a MEM past a double has no bytes', () => {
    const text = `Processes: 1 total\n\nPID    COMMAND          MEM   \n${HUGE} kernel_task 517M+\n0      kernel_task      ${HUGE}517M+ \n69411  firefox          361M+ \n`;
    const blocks = parseTop(text);
    assertWellTyped(blocks);
    assert.deepEqual(
      blocks.at(-1)?.rows.map((r) => [r.pid, r.memBytes]),
      [
        [0, null],
        [69411, 361 * 1024 ** 2],
      ],
    );
  });

  it('footprint: a category size past a double is null and the graphics sum stays finite', () => {
    const f = parseFootprint(
      `ruby [3644]: 64-bit    Footprint: 42 MB (16384 bytes per page)\n  Dirty      Clean  Reclaimable    Regions    Category\n6288 KB ${HUGE}       0 B          0 B        155    untagged ("VM_ALLOCATE")\n${HUGE} KB 0 B 0 B 1 IOAccelerator (graphics)\n`,
    );
    assertWellTyped(f);
  });

  it('memory_pressure, Metal ceiling, sysctl, swap usage, system_profiler: digit runs past a double read as null', () => {
    assertWellTyped(
      parseMemoryPressure(`The system has ${HUGE}51539607552 (3145728 pages with a page size of 16384).\n`),
    );
    assert.equal(
      parseMemoryPressure(`The system has ${HUGE} (1 pages with a page size of 16384).`).totalBytes,
      null,
    );
    assert.equal(parseMetalCeiling(`{'max_recommended_working_set_size': ${HUGE}}`).ceilingBytes, null);
    assert.deepEqual(parseAllWorkingSetLines(`recommendedMaxWorkingSetSize: ${HUGE} GiB`), []);
    assert.equal(sysctlInt(parseSysctl(`hw.memsize: ${HUGE}`), 'hw.memsize'), null);
    assert.equal(parseSwapUsage(`total = ${'9'.repeat(306)}.00T  used = 1.00M  free = 1.00M`), null);
    assertWellTyped(
      parseDisplays(`Graphics/Displays:\n    Apple M4 Pro:\n      Total Number of Cores: ${HUGE}\n`),
    );
  });

  it('panic parser: a Panicked task pid or page count past a double, and an Epoch Calendar past what a Date holds', () => {
    const p = parsePanicReport(
      `panic(cpu 8 caller 0xfffffe00513bbe28): "completeMemory() prepare count underflow" @IOGPUMemory.cpp:550\nPanicked task 0xfffffe1e4174a418: ${HUGE}367197 pages, 25 threads: pid ${HUGE}: Python\nEpoch Time:        sec       usec\n  Boot    : 0x${'f'.repeat(16)} 0x00000000\n  Calendar: 0x${'9'.repeat(300)} 0x000d1a2b\n`,
    );
    assertWellTyped(p);
    assert.equal(p.kind, 'completeMemory');
    assert.deepEqual(p.task, { pages: null, threads: 25 });
    assert.equal(p.process, null);
    // Before: new Date(Infinity).toISOString() threw out of the parser.
    assert.equal(p.panicTime, null);
    assert.equal(p.bootTime, null);
  });

  it('crash report: a pid past a double found by text is null', () => {
    const c = parseUserCrash(`{"bug_type":"309"}\n{"procName":"python3", "pid": ${HUGE}`);
    assertWellTyped(c);
    assert.equal(c?.pid, null);
  });

  it('linux PSI: an average like 1.2.3 (matched by [\\d.]+) is not read as NaN; the line is dropped', () => {
    const psi = parsePsi(
      'some avg10=1.2.3 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    );
    assertWellTyped(psi);
    assert.equal(psi.some, null);
    assert.deepEqual(psi.full, { avg10: 0, avg60: 0, avg300: 0, totalMicros: 0 });
  });

  it('linux meminfo, status and /proc/stat: values past a double are dropped, not Infinity', () => {
    const mem = parseMeminfo(`MemTotal:       ${HUGE} kB\nMemFree:         1205032 kB\n`);
    assert.deepEqual(mem, { MemFree: 1205032 * 1024 });
    assert.deepEqual(parseKeyValueKb(`VmRSS:\t${'9'.repeat(306)} kB\nThreads:\t12\n`), { Threads: 12 });
    assertWellTyped(parseSystemStat(`cpu  ${HUGE} 1 2\nbtime ${HUGE}\n`));
  });

  it('linux /proc/<pid>/stat: no pid before the command, or a field past a double, is not a row', () => {
    const fields = 'S 1 4242 4242 0 -1 4194560 1200 0 0 0 350 80 0 0 20 0 12 0 123456 4000000000 250000';
    // Before: Number('') is 0, so a line without a pid was read as pid 0.
    assert.equal(parseProcStat(`(python3) ${fields}`), null);
    assert.equal(parseProcStat(`4242 (python3) ${fields.replace('123456', HUGE)}`), null);
    assert.equal(parseProcStat(`4242 (python3) ${fields}`)?.startTimeTicks, 123456);
  });

  it('EXO previews: a memory delta of Infinity (JSON 1e999) is left out', () => {
    const [p] = parsePlacementPreviews(
      JSON.parse('{"previews":[{"model_id":"m","memory_delta_by_node":{"a":1e999,"b":1024}}]}'),
    );
    assert.deepEqual(p?.memoryDeltaByNode, { b: 1024 });
  });

  it('EXO node ids named __proto__ are kept as nodes, not lost to the prototype', () => {
    const memory = parseNodeMemory(JSON.parse('{"__proto__": {"ramTotal": {"inBytes": 1}}}'));
    assert.deepEqual(Object.entries(memory), [
      ['__proto__', { ramTotal: 1, ramAvailable: null, swapTotal: null, swapAvailable: null }],
    ]);
    assert.deepEqual(Object.keys(parseNodeIdentities(JSON.parse('{"__proto__": {"chipId": "M4"}}'))), [
      '__proto__',
    ]);
  });

  it('EXO log and runner failures: token counts and signals past a double are null', () => {
    const e = parseExoLogLine(
      `[ 2026-06-22 14:03:11.512 | INFO     | exo:x:1 ] KV cache added: ${HUGE} tokens`,
    );
    assert.equal(e?.data['tokens'], null);
    const [f] = detectFailures(
      [],
      parseRunners({ r: { RunnerFailed: { errorMessage: `killed signal=${HUGE}` } } }),
    );
    assert.equal(f?.kind === 'runner-failed' ? f.signal : 'x', null);
  });

  it('config: a BigInt where a number belongs is reported, not thrown from the error message', () => {
    const r = validateConfig({ intervalSeconds: [0n], retention: { rawDays: 10n } }, 'config.json');
    assert.equal(r.ok, false);
    assert.ok(
      !r.ok &&
        r.errors.some((e) => e.startsWith('config.json: "intervalSeconds" is a value JSON cannot show')),
    );
    assert.ok(!r.ok && r.errors.some((e) => e.startsWith('config.json: "retention.rawDays" is 10n')));
  });
});
