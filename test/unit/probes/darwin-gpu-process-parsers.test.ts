import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFootprint } from '../../../src/main/core/probes/darwin/footprint-parser.js';
import { parseIoregAccelerators } from '../../../src/main/core/probes/darwin/ioreg-accelerator-parser.js';
import { parseElapsed, parseLstart, parsePs } from '../../../src/main/core/probes/darwin/ps-parser.js';
import { parseTop, topFootprints } from '../../../src/main/core/probes/darwin/top-parser.js';
import { fixture } from '../../support/fixtures.js';

const K = 1024;
const MB = 1024 * 1024;

describe('ioreg IOAccelerator parser', () => {
  it('reads the M4 Pro node under load (macOS 26), ignoring the "(driver)" key and the legend', () => {
    const [n, ...rest] = parseIoregAccelerators(
      fixture('macos/ioreg/ioreg-r-c-IOAccelerator-d1.m4pro.macos26.sonar.txt'),
    );
    assert.equal(rest.length, 0);
    assert.ok(n);
    assert.equal(n.className, 'AGXAcceleratorG16X');
    assert.equal(n.inUseSystemMemory, 10977263616);
    assert.equal(n.allocSystemMemory, 66160230400);
    assert.equal(n.performanceStatistics['In use system memory (driver)'], '0');
    assert.equal(n.deviceUtilization, 100);
    assert.equal(n.rendererUtilization, 7);
    assert.equal(n.tilerUtilization, 6);
    assert.equal(n.recoveryCount, 0);
    assert.equal(n.model, 'Apple M4 Pro');
    assert.equal(n.nameMatched, 'gpu,t6040');
    assert.equal(n.gpuCoreCount, 16);
    assert.equal(n.sourceVersion, '340.26.2');
    assert.equal(n.lastSubmissionPid, 50286);
  });

  it('reads the macOS 12 key set (no "(driver)", no lastRecoveryTime), cut off mid-node', () => {
    const [n] = parseIoregAccelerators(
      fixture('macos/ioreg/ioreg-r-d1-w0-c-IOAccelerator.m1pro.macos12.6.stats-issue1094.EXCERPT.txt'),
    );
    assert.ok(n);
    assert.equal(n.className, 'AGXAcceleratorG13X');
    assert.equal(n.inUseSystemMemory, 340983808);
    assert.equal(n.allocSystemMemory, 1214005248);
    assert.equal(n.deviceUtilization, 2);
    assert.equal(n.nameMatched, 'gpu,t6000');
    assert.equal(n.sourceVersion, '190.22');
    assert.equal(n.lastSubmissionPid, 390);
    assert.equal(n.performanceStatistics['lastRecoveryTime'], undefined);
  });

  it('keeps integers above 2^53 out of the numbers and survives truncation and garbage', () => {
    const [n] = parseIoregAccelerators(
      '+-o AGXAcceleratorG16X  <class AGXAcceleratorG16X, id 1>\n  "PerformanceStatistics" = {"In use system memory"=18446744072001552384,"Alloc system memory"=5',
    );
    assert.equal(n?.inUseSystemMemory, null);
    assert.equal(n?.allocSystemMemory, 5);
    assert.deepEqual(parseIoregAccelerators('garbage'), []);
    assert.deepEqual(parseIoregAccelerators(''), []);
  });
});

describe('ps parser', () => {
  it('reads headerless pid=,%cpu=,%mem=,rss=,etime=,args= with spaces in args (M4 Pro)', () => {
    const rows = parsePs(fixture('macos/ps/ps-axo-pid=,%cpu=,%mem=,rss=,etime=,args=.m4pro.sonar.txt'), [
      'pid',
      'pcpu',
      'pmem',
      'rss',
      'etime',
      'args',
    ]);
    assert.equal(rows.length, 15);
    const py = rows.find((r) => r.pid === 50286);
    assert.equal(py?.cpuPercent, 14.5);
    assert.equal(py?.memPercent, 3.9);
    assert.equal(py?.rssBytes, 1973904 * K);
    assert.equal(py?.elapsedSeconds, 3600 + 32 * 60 + 34);
    assert.equal(py?.args, '/Users/me/code/monorepo/alpha/.venv/bin/python3');
    const am = rows.find((r) => r.pid === 43160);
    assert.equal(
      am?.args,
      '/System/Applications/Utilities/Activity Monitor.app/Contents/MacOS/Activity Monitor',
    );
    assert.equal(rows[0]?.elapsedSeconds, 9);
  });

  it('reads a header row: PID PPID TIME RSS (800 processes)', () => {
    const rows = parsePs(fixture('macos/ps/ps-Ao-pid,ppid,time,rss.useful-system-monitor.txt'));
    assert.equal(rows.length, 801);
    assert.deepEqual(rows[0], { pid: 1, ppid: 0, cpuTimeSeconds: 54 * 60 + 43.9, rssBytes: 8912 * K });
  });

  it('reads lstart in C and de_DE locales and full-path comm with spaces', () => {
    const c = parsePs(fixture('macos/ps/ps-Ao-pid,lstart,user,state,comm.useful-system-monitor.txt'));
    assert.equal(c[0]?.pid, 1);
    assert.equal(c[0]?.startTime, new Date(2026, 7, 1, 17, 46, 44).getTime());
    assert.equal(c[0]?.user, 'root');
    assert.equal(c[0]?.state, 'Ss');
    assert.equal(c[0]?.comm, '/sbin/launchd');
    const audio = c.find((r) => r.pid === 692);
    assert.equal(audio?.comm, 'Core Audio Driver (MSTeamsAudioDevice.driver)');
    const de = parsePs(
      fixture('macos/ps/ps-Ao-pid,lstart,user,state,comm.de_DE-locale.useful-system-monitor.txt'),
    );
    assert.equal(de.length, 5);
    assert.equal(de[0]?.startTime, new Date(2026, 7, 12, 19, 39, 58).getTime());
    assert.equal(de[1]?.startTime, new Date(2026, 7, 13, 7, 3, 57).getTime());
    assert.equal(de[4]?.comm?.endsWith('/FSEvents.framework/Versions/A/Support/fseventsd'), true);
  });

  it('reads ELAPSED with a day prefix (M5 Pro)', () => {
    const rows = parsePs(fixture('macos/ps/ps-pid,ppid,etime,rss,comm.m5pro.wtfssd.txt'));
    assert.equal(rows.length, 1294);
    assert.deepEqual(rows[0], {
      pid: 1,
      ppid: 0,
      elapsedSeconds: 2 * 86400 + 17 * 3600 + 60 + 52,
      rssBytes: 28176 * K,
      comm: '/sbin/launchd',
    });
    const tm = rows.find((r) => r.pid === 92760);
    assert.equal(
      tm?.comm,
      '/Applications/Token Monitor.app/Contents/Frameworks/Token Monitor Helper (Renderer).app/Contents/MacOS/Token Monitor Helper (Renderer)',
    );
  });

  it('reads the headerless pid,ppid,pgid,pcpu,time,vsz,rss,etime,command capture', () => {
    const rows = parsePs(
      fixture(
        'macos/ps/ps-ax-o-pid,ppid,pgid,pcpu,time,vsz,rss,etime,command.apple-silicon.socketry-issue3.txt',
      ),
      ['pid', 'ppid', 'pgid', 'pcpu', 'time', 'vsz', 'rss', 'etime', 'args'],
    );
    assert.equal(rows.length, 2);
    assert.deepEqual(rows[0], {
      pid: 3644,
      ppid: 3608,
      pgid: 3644,
      cpuPercent: 0,
      cpuTimeSeconds: 0.37,
      vszBytes: 411105984 * K,
      rssBytes: 9120 * K,
      elapsedSeconds: 43 * 60 + 49,
      args: 'ruby bin/falcon serve -n 1',
    });
  });

  it('skips what does not fit and parses time helpers', () => {
    assert.deepEqual(parsePs('garbage line here', ['pid', 'args']), []);
    assert.deepEqual(parsePs(''), []);
    assert.equal(parseElapsed('01-00:34:18'), 86400 + 34 * 60 + 18);
    assert.equal(parseElapsed('x'), null);
    assert.equal(parseLstart(['not', 'a', 'date']), null);
  });
});

describe('top parser', () => {
  it('reads MEM with change markers and 16-char commands with spaces (stats#499)', () => {
    const [b] = parseTop(
      fixture('macos/top/top-l1-o-mem-n8-stats-pid,command,mem.stats-issue499.EXCERPT.txt'),
    );
    assert.ok(b);
    assert.equal(b.rows.length, 7);
    assert.deepEqual(b.physMem, {
      used: 28 * 1024 * MB,
      wired: 4209 * MB,
      compressor: null,
      unused: 3940 * MB,
    });
    assert.equal(b.rows[1]?.command, 'Microsoft Outloo');
    assert.equal(b.rows[1]?.memBytes, 759 * MB);
    assert.equal(b.rows[0]?.memBytes, 1442 * MB);
  });

  it('reads the macOS 10.14 format', () => {
    const fp = topFootprints(
      fixture('macos/top/top-l1-o-mem-n5-stats-pid,command,mem.macos10.14.stats-issue262.txt'),
    );
    assert.equal(fp.size, 5);
    assert.equal(fp.get(38091), 1946 * MB);
    assert.equal(fp.get(0), 517 * MB);
  });

  it('reads two -l 2 blocks and the modern PhysMem header with the compressor', () => {
    const blocks = parseTop(fixture('macos/top/top-l2-o-power-stats-pid,power.useful-system-monitor.txt'));
    assert.equal(blocks.length, 2);
    assert.deepEqual(blocks[0]?.physMem, {
      used: 15 * 1024 * MB,
      wired: 4346 * MB,
      compressor: 5972 * MB,
      unused: 106 * MB,
    });
    assert.equal(blocks[1]?.physMem?.wired, 4166 * MB);
    assert.equal(blocks[1]?.rows[0]?.pid, 616);
    assert.equal(blocks[1]?.rows[0]?.values['POWER'], '36.7');
    assert.equal(blocks[1]?.rows.length, 40);
  });
});

describe('footprint parser', () => {
  it('reads the header and category table (ruby, cut off)', () => {
    const f = parseFootprint(
      fixture('macos/footprint/footprint-p.ruby.apple-silicon.socketry-issue3.EXCERPT.txt'),
    );
    assert.equal(f.name, 'ruby');
    assert.equal(f.pid, 3644);
    assert.equal(f.footprintBytes, 42 * MB);
    assert.equal(f.physFootprintBytes, 42 * MB);
    assert.equal(f.pageSize, 16384);
    assert.equal(f.categories.length, 11);
    assert.deepEqual(f.categories[0], {
      category: 'MALLOC_LARGE',
      dirty: 16 * MB,
      clean: 0,
      reclaimable: 0,
      regions: 2,
    });
    assert.equal(f.categories[1]?.category, 'untagged ("VM_ALLOCATE")');
    assert.equal(f.graphicsBytes, 0);
  });

  it('sums the (graphics) categories (wgpu app, blank process name)', () => {
    const f = parseFootprint(
      fixture('macos/footprint/footprint.wgpu-app.graphics-categories.wgpu-issue9354.EXCERPT.txt'),
    );
    assert.equal(f.name, null);
    assert.equal(f.pid, 12761);
    assert.equal(f.footprintBytes, 60 * MB);
    const io = f.categories.find((c) => c.category === 'IOAccelerator (graphics)');
    assert.deepEqual(io, {
      category: 'IOAccelerator (graphics)',
      dirty: 2624 * 1024,
      clean: 0,
      reclaimable: 25 * MB,
      regions: 305,
    });
    assert.equal(f.graphicsBytes, 4464 * 1024 + 2624 * 1024);
  });

  it('reads the paraphrased MLX summary: 109 GB IOAccelerator, phys_footprint 110 GB', () => {
    const f = parseFootprint(
      fixture('macos/footprint/footprint.mlx-summary.m5max.mlx-issue3896.EXCERPT.txt'),
    );
    assert.equal(f.physFootprintBytes, 110 * 1024 * MB);
    assert.equal(f.graphicsBytes, 109 * 1024 * MB);
    assert.equal(f.pid, null);
  });
});
