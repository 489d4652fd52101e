import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseMeminfo } from '../../../src/main/core/probes/linux/meminfo-parser.js';
import {
  parseCmdline,
  parseKeyValueKb,
  parseProcStat,
  parseSystemStat,
} from '../../../src/main/core/probes/linux/proc-pid-parser.js';
import { parsePsi, psiToPressureLevel } from '../../../src/main/core/probes/linux/psi-parser.js';

describe('procfs parsers', () => {
  it('parses /proc/<pid>/stat with spaces and parentheses in the command name', () => {
    const text =
      '4242 (exo (runner) x) S 4000 4242 4242 0 -1 4194560 1200 0 0 0 150 25 0 0 20 0 31 0 987654 1234567890 20000 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0';
    assert.deepEqual(parseProcStat(text), {
      pid: 4242,
      comm: 'exo (runner) x',
      state: 'S',
      ppid: 4000,
      utimeTicks: 150,
      stimeTicks: 25,
      numThreads: 31,
      startTimeTicks: 987654,
      rssPages: 20000,
    });
    assert.equal(parseProcStat('garbage'), null);
    assert.equal(parseProcStat('1 (x) S 0'), null);
  });

  it("parses this process's real /proc files", () => {
    const stat = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
    assert.equal(stat?.pid, process.pid);
    assert.equal(stat?.ppid, process.ppid);
    const status = parseKeyValueKb(readFileSync('/proc/self/status', 'utf8'));
    assert.ok((status['VmRSS'] ?? 0) > 10 * 1024 * 1024, 'node uses more than 10 MiB');
    assert.ok((status['Threads'] ?? 0) >= 1);
    const argv = parseCmdline(readFileSync('/proc/self/cmdline', 'utf8'));
    assert.equal(argv[0], process.argv0);
    // The runner may pass the file relative or absolute (and Node 26 spells out every option before it).
    const file = process.argv[1]!.split('/').pop()!;
    assert.ok(
      argv.some((a) => a.endsWith(file)),
      `the test file ${file} is on the command line: ${argv.slice(-3).join(' ')}`,
    );
    const sys = parseSystemStat(readFileSync('/proc/stat', 'utf8'));
    assert.ok(sys.bootTimeSeconds !== null && sys.bootTimeSeconds * 1000 < Date.now());
  });

  it('parses meminfo into bytes', () => {
    const m = parseMeminfo(
      'MemTotal:       24684084 kB\nMemFree:        23000000 kB\nHugePages_Total:       0\n',
    );
    assert.equal(m['MemTotal'], 24684084 * 1024);
    assert.equal(m['HugePages_Total'], 0);
  });

  it('parses cmdline with and without the trailing NUL', () => {
    assert.deepEqual(parseCmdline('python3\0/x/bin/exo\0--multiprocessing-fork\0'), [
      'python3',
      '/x/bin/exo',
      '--multiprocessing-fork',
    ]);
    assert.deepEqual(parseCmdline('a b\0c'), ['a b', 'c']);
    assert.deepEqual(parseCmdline(''), []);
  });

  it('maps memory PSI onto the 1/2/4 levels', () => {
    const calm = parsePsi(
      'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n',
    );
    assert.equal(psiToPressureLevel(calm), 1);
    assert.deepEqual(calm.some, { avg10: 0, avg60: 0, avg300: 0, totalMicros: 0 });
    assert.equal(
      psiToPressureLevel(
        parsePsi(
          'some avg10=12.50 avg60=3.00 avg300=1.00 total=99\nfull avg10=2.00 avg60=0 avg300=0 total=1',
        ),
      ),
      2,
    );
    assert.equal(
      psiToPressureLevel(
        parsePsi(
          'some avg10=60.00 avg60=3.00 avg300=1.00 total=99\nfull avg10=15.00 avg60=0 avg300=0 total=1',
        ),
      ),
      4,
    );
    assert.equal(psiToPressureLevel(parsePsi('')), null);
  });
});
