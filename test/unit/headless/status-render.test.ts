import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { emptySnapshot } from '../../../src/main/core/exo/exo-monitor.js';
import {
  type CliStatus,
  renderStatus,
  type StatusParts,
  statusObject,
  UNREADABLE_SHOWN,
} from '../../../src/main/headless/commands/status-render.js';
import { makeSample } from '../../support/sample-factory.js';

const T = Date.UTC(2026, 10, 29, 3, 0, 0);

function parts(over: Partial<StatusParts> = {}): StatusParts {
  const sample = makeSample(T);
  return {
    result: {
      sample,
      changes: [],
      leftOut: 0,
      deferred: 0,
      watched: [
        {
          entry: {
            pid: 1577,
            ppid: 500,
            argv: ['python', '-m', 'exo'],
            executable: '/usr/bin/python3',
            name: 'python3',
            startTime: T - 60_000,
          },
          role: 'exo-runner',
        },
      ],
      durationMs: 3,
    },
    notes: [
      {
        time: T,
        kind: 'probe.unavailable',
        severity: 'info',
        message: 'x',
        data: { field: 'gpu.utilization', reason: 'no Apple GPU' },
      },
      { time: T, kind: 'probe.failed', severity: 'warning', message: 'ioreg timed out' },
    ],
    identity: null,
    exo: emptySnapshot('http://127.0.0.1:52415'),
    now: { level: 'ok', reasons: [], score: 0 },
    daemonRisk: null,
    guardMode: null,
    guardOverride: null,
    hold: null,
    wakeHold: null,
    daemon: { running: false, pid: null, dataDir: '/data', lastSampleAt: null, config: null },
    panics: null,
    storage: {
      state: 'ok',
      message: null,
      path: '/data/timeline.db',
      buffered: 0,
      dropped: 0,
      since: null,
      notes: [],
    },
    ...over,
  };
}

function view(p: StatusParts, fromDaemon = false): CliStatus {
  const out = { ...statusObject(p), probes: null, level: p.now.level };
  return { out, level: { level: p.now.level, reasons: p.now.reasons }, fromDaemon, dbProblem: null };
}

describe('status: the JSON object and the text, section by section', () => {
  it('the JSON object carries the sample, each process with its command line, notes and problems', () => {
    const o = statusObject(parts());
    assert.equal(o.time, T);
    assert.deepEqual(o.processes[0]?.argv, ['python', '-m', 'exo']);
    assert.equal(o.processes[0]?.executable, '/usr/bin/python3');
    assert.deepEqual(o.unavailable, [{ field: 'gpu.utilization', reason: 'no Apple GPU' }]);
    assert.deepEqual(o.problems, ['ioreg timed out']);
    assert.deepEqual(o.risk, { now: { level: 'ok', reasons: [], score: 0 }, daemon: null });
  });

  it('prints the sections in order: level, sample, EXO, notes, panics, storage, daemon', () => {
    const text = renderStatus(
      view(
        parts({
          now: {
            level: 'high',
            reasons: [{ signal: 'wired', level: 'high', message: 'wired 120 GiB = 94% of RAM' }],
            score: 0,
          },
          hold: { since: T - 1000, reportId: 3, kind: 'completeMemory', reason: 'a panic' },
          panics: {
            total: 2,
            last72h: 1,
            byKind: {},
            byKind72h: {},
            latest: {
              id: 3,
              kind: 'completeMemory',
              panicTime: T - 5000,
              mtime: T,
              pid: 1577,
              processName: 'python3',
              attribution: null,
            },
            unreadable: [{ id: 4, name: 'x.panic', mtime: T, problem: 'not JSON' }],
          },
          storage: {
            state: 'failing',
            message: 'no space left on device at /data/timeline.db',
            path: '/data/timeline.db',
            buffered: 12,
            dropped: 0,
            since: T,
            notes: ['log: cannot write'],
          },
          daemon: {
            running: true,
            pid: 42,
            dataDir: '/data',
            lastSampleAt: T,
            config: {
              path: '/data/config.json',
              loadedAt: T,
              reloads: 1,
              restartRequired: ['api.listen'],
              error: { at: T, trigger: 'file', errors: ['"intervalSeconds" is not a number'] },
              last: null,
            },
          },
          guardMode: 'serialise',
          guardOverride: 'serialise',
        }),
        true,
      ),
    );
    const heads = text
      .split('\n')
      .filter((l) => /^[a-z]/.test(l))
      .map((l) => l.slice(0, 14).trim());
    assert.deepEqual(heads, [
      'level',
      'hold',
      'time',
      'memory',
      'swap',
      'gpu',
      'processes',
      'exo',
      'note',
      'problem',
      'panics',
      'unreadable',
      'storage',
      'storage note',
      'daemon',
      'config',
      'config',
    ]);
    assert.match(text, /^level {9}HIGH \(daemon\)\n {2}high {5}wired 120 GiB = 94% of RAM\n/);
    assert.match(text, /exo {11}not reachable: not checked yet/);
    assert.match(
      text,
      /panics {8}2 recorded, 1 in the last 72 h; latest completeMemory at .* \(exo-sentinel report 3\)/,
    );
    assert.match(
      text,
      /storage {7}no space left on device at \/data\/timeline\.db \(12 tick\(s\) held in memory\)/,
    );
    assert.match(
      text,
      /daemon {8}running \(pid 42\), guard mode serialise \(pinned\), last sample 2026-11-29T03:00:00\.000Z/,
    );
    assert.match(text, /config {8}\/data\/config\.json not applied: "intervalSeconds" is not a number/);
    assert.match(text, /config {8}restart the daemon to apply api\.listen/);
  });

  it('names a few unreadable reports and counts the rest (a stuffed directory cannot flood the status)', () => {
    const unreadable = Array.from({ length: 1000 }, (_, i) => ({
      id: i,
      name: `junk-${i}.panic`,
      mtime: T,
      problem: 'not JSON',
    }));
    const text = renderStatus(
      view(
        parts({
          panics: { total: 0, last72h: 0, byKind: {}, byKind72h: {}, latest: null, unreadable },
        }),
      ),
    );
    const lines = text.split('\n').filter((l) => l.startsWith('unreadable'));
    assert.equal(lines.length, UNREADABLE_SHOWN + 1);
    assert.match(lines[0]!, /^unreadable {4}junk-0\.panic \(2026-11-29T03:00:00\.000Z\): not JSON$/);
    assert.equal(
      lines.at(-1),
      `unreadable    and ${1000 - UNREADABLE_SHOWN} more (status --json lists them)`,
    );
  });

  it('says when no daemon runs and the level is this reading alone', () => {
    const text = renderStatus(view(parts()));
    assert.match(text, /^level {9}OK \(this reading, no history\)\n/);
    assert.match(text, /daemon {8}not running for \/data\n$/);
    assert.doesNotMatch(text, /^storage/m);
  });
});
