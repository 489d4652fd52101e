import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributePanic, nameMatches } from '../../../src/main/core/panics/panic-attribution.js';
import { parseJetsamEvent, parseUserCrash } from '../../../src/main/core/panics/user-crash-parser.js';
import type { StoredProcess } from '../../../src/main/core/store/timeline-store.js';

/**
 * No public capture of an EXO `.ips` crash or a JetsamEvent is in the fixtures; these are built from the
 * documented layout (header line with bug_type, then the body object) with the fields the parser reads.
 */
const ips = (header: Record<string, unknown>, body: Record<string, unknown>): string =>
  `${JSON.stringify(header)}\n${JSON.stringify(body, null, 2)}`;

const crash = (extra: Record<string, unknown>): string =>
  ips(
    {
      app_name: 'exo',
      timestamp: '2026-04-23 09:58:12.00 +0000',
      bug_type: '309',
      os_version: 'macOS 26.4.1 (25E253)',
      name: 'exo',
    },
    {
      pid: 1601,
      procName: 'exo',
      procPath: '/Applications/EXO.app/Contents/Resources/exo/exo',
      parentPid: 1577,
      captureTime: '2026-04-23 09:58:12.4410 +0000',
      exception: { type: 'EXC_CRASH', signal: 'SIGABRT' },
      ...extra,
    },
  );

describe('user-space crash reports (bug_type 309)', () => {
  it('classifies the causes that come before panics', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [
        {
          asi: { 'libmlx.dylib': ['[METAL] Command buffer execution failed: Caused GPU Timeout Error'] },
          threads: [{ frames: [{ symbol: 'mlx::core::metal::check_error(MTL::CommandBuffer*)' }] }],
        },
        'metalCheckError',
      ],
      [
        {
          asi: {
            'libmlx.dylib': ['Insufficient Memory (00000008:kIOGPUCommandBufferCallbackErrorOutOfMemory)'],
          },
        },
        'commandBufferOutOfMemory',
      ],
      [
        { asi: { Metal: ['GPU Hang Error (00000003:kIOGPUCommandBufferCallbackErrorHang)'] } },
        'gpuHangTimeout',
      ],
      [
        { exception: { type: 'EXC_BAD_ACCESS', signal: 'SIGSEGV', subtype: 'KERN_INVALID_ADDRESS at 0x0' } },
        'pageFault',
      ],
      [{ termination: { namespace: 'JETSAM', indicator: 'per-process-limit' } }, 'jetsamKill'],
      [{}, 'other'],
    ];
    for (const [extra, cause] of cases) {
      const c = parseUserCrash(crash(extra));
      assert.equal(c?.cause, cause, JSON.stringify(extra));
      assert.equal(c?.pid, 1601);
      assert.equal(c?.processName, 'exo');
      assert.equal(c?.parentPid, 1577);
      assert.equal(c?.crashTime, '2026-04-23T09:58:12.441Z');
    }
    assert.equal(parseUserCrash('{"bug_type":"210"}\n{}'), null, 'a panic is not a user crash');
  });

  it('reads a JetsamEvent: largest process and what was killed', () => {
    const j = parseJetsamEvent(
      ips(
        { bug_type: '298', timestamp: '2026-05-25 08:12:00.00 +0000', os_version: 'macOS 26.4.1 (25E253)' },
        {
          date: '2026-05-25 08:11:58.12 +0000',
          largestProcess: 'python3',
          memoryStatus: { pageSize: 16384, memoryPages: { free: 712, active: 100, wired: 9000000 } },
          processes: [
            { pid: 31609, name: 'python3', rpages: 6000000 },
            { pid: 700, name: 'Safari', rpages: 40000, reason: 'vm-pageshortage' },
          ],
        },
      ),
    );
    assert.deepEqual(j, {
      bugType: '298',
      time: '2026-05-25T08:11:58.120Z',
      largestProcess: 'python3',
      pageSize: 16384,
      freePages: 712,
      killed: [{ pid: 700, name: 'Safari', reason: 'vm-pageshortage', residentPages: 40000 }],
    });
  });
});

const proc = (over: Partial<StoredProcess>): StoredProcess => ({
  pid: 1601,
  startTime: 1_000_000,
  role: 'exo-runner',
  ppid: 1577,
  argv: ['/Applications/EXO.app/Contents/Resources/exo/exo', '--multiprocessing-fork'],
  executable: '/Applications/EXO.app/Contents/Resources/exo/exo',
  firstSeen: 1_000_000,
  lastSeen: 5_000_000,
  exitedAt: null,
  ...over,
});

describe('panic attribution through the pid map', () => {
  it('names the runner exactly when it was seen within a minute of the panic', () => {
    const a = attributePanic(1601, 'exo', { time: 5_001_000, exact: true }, [proc({})], true);
    assert.equal(a.verdict, 'exo-runner');
    assert.equal(a.confidence, 'exact');
    assert.match(a.explanation, /pid 1601 \(exo\) was exo-runner, last seen 1 s before the panic/);
  });

  it('picks the process that held the pid at the panic, not an earlier one with the same pid', () => {
    const older = proc({
      role: 'mlx-server',
      startTime: 10,
      firstSeen: 10,
      lastSeen: 900_000,
      exitedAt: 900_000,
      argv: ['python3'],
      executable: '/usr/bin/python3',
    });
    const a = attributePanic(1601, 'exo', { time: 5_000_500, exact: true }, [older, proc({})], true);
    assert.equal(a.verdict, 'exo-runner');
    // A process that started after the panic (the next boot reused the pid) is not it.
    const later = proc({ role: 'mlx-server', firstSeen: 6_000_000, lastSeen: 7_000_000 });
    assert.equal(
      attributePanic(1601, 'exo', { time: 5_000_500, exact: true }, [later, proc({})], true).verdict,
      'exo-runner',
    );
  });

  it('says probable when only the file time is known or the name disagrees', () => {
    const fileTime = attributePanic(1601, 'exo', { time: 5_040_000, exact: false }, [proc({})], true);
    assert.equal(fileTime.confidence, 'probable');
    assert.match(fileTime.explanation, /the report gives no panic time/);
    const wrongName = attributePanic(1601, 'Python', { time: 5_001_000, exact: true }, [proc({})], true);
    assert.equal(wrongName.confidence, 'probable');
    assert.match(wrongName.explanation, /name does not match exo/);
  });

  it('says other when the daemon was watching and never saw the pid, unknown when it was not running', () => {
    assert.deepEqual(
      [
        attributePanic(42, 'Passwords', { time: 5_000_000, exact: true }, [], true).verdict,
        attributePanic(42, 'exo', { time: 5_000_000, exact: true }, [], false).verdict,
      ],
      ['other', 'unknown'],
    );
    // Seen, but exited long before the panic: not the panicked process.
    const gone = proc({ lastSeen: 1_000_000, exitedAt: 1_000_000 });
    assert.equal(
      attributePanic(1601, 'exo', { time: 5_000_000, exact: true }, [gone], true).verdict,
      'other',
    );
  });

  it('matches truncated p_comm names', () => {
    assert.ok(nameMatches('python3.13', { executable: '/opt/homebrew/bin/python3.13', argv: [] }));
    assert.ok(
      nameMatches('Python', {
        executable:
          '/Library/Frameworks/Python.framework/Versions/3.12/Resources/Python.app/Contents/MacOS/Python',
        argv: [],
      }),
    );
    assert.ok(
      nameMatches('com.adguard.mac.', {
        executable: '/Applications/AdGuard.app/Contents/MacOS/com.adguard.mac.adguard',
        argv: [],
      }),
    );
    assert.ok(!nameMatches('node', { executable: '/usr/bin/python3', argv: ['python3'] }));
  });
});
