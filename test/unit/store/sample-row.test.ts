import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { openDatabase } from '../../../src/main/core/store/database.js';
import {
  type ColumnMap,
  insertSql,
  PROCESS_ROW,
  rowValues,
  SAMPLE_ROW,
} from '../../../src/main/core/store/sample-row.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import type { Sample } from '../../../src/shared/sample.js';

const GiB = 1024 ** 3;

/** A sample with every field set, none null and each figure distinct (so a swapped column shows). */
function fullSample(time: number, reachable: boolean): Sample {
  return {
    time,
    memory: {
      total: 128 * GiB,
      usable: 127 * GiB,
      free: 20 * GiB + 1,
      active: 30 * GiB + 2,
      inactive: 10 * GiB + 3,
      speculative: 1 * GiB + 4,
      wired: 40 * GiB + 5,
      compressed: 2 * GiB + 6,
      swapUsed: 512 * 1024 ** 2,
      swapTotal: 2 * GiB + 7,
      pressureLevel: 4,
      freePercent: 17.5,
    },
    gpu: {
      inUseBytes: 50 * GiB + 8,
      allocBytes: 60 * GiB + 9,
      ceilingBytes: 96 * GiB,
      utilization: 81.25,
      sampledAt: time - 500,
      recoveryCount: 3,
      ceilingSource: 'wired-limit-sysctl',
    },
    processes: [
      {
        pid: 1577,
        ppid: null,
        role: 'exo-runner',
        startTime: time - 60_000,
        rss: 3 * GiB + 10,
        physFootprint: 41 * GiB + 11,
        cpuPercent: 97.5,
        threads: 42,
      },
      {
        pid: 1601,
        ppid: null,
        role: 'exo-main',
        startTime: time - 120_000,
        rss: 1 * GiB + 12,
        physFootprint: 2 * GiB + 13,
        cpuPercent: 4.5,
        threads: 17,
      },
    ],
    exo: { reachable, inFlight: 2 },
    riskLevel: 2,
  };
}

/** Every leaf of an object, as dotted paths with their values (arrays by index). */
function leaves(v: unknown, path = ''): Array<[string, unknown]> {
  if (v !== null && typeof v === 'object')
    return Object.entries(v).flatMap(([k, x]) => leaves(x, path ? `${path}.${k}` : k));
  return [[path, v]];
}

function columnsOf(store: TimelineStore, table: string): string[] {
  return (store.db.prepare(`PRAGMA table_info(${table})`).all() as Array<{ name: string }>).map(
    (c) => c.name,
  );
}

describe('sample ↔ row, by column name', () => {
  it('a full sample keeps every field through a write and a read (both reachable states)', () => {
    const store = new TimelineStore(openDatabase(':memory:'));
    const a = fullSample(1_000_000, true);
    const b = fullSample(1_001_000, false);
    assert.deepEqual(
      leaves(a).filter(([p, x]) => (x === null || x === undefined) && !p.endsWith('.ppid')),
      [],
      'the fixture sets every field (the parent pid is not stored per tick)',
    );
    store.writeTick(a);
    store.writeTick(b);
    const back = store.samples(0, 2_000_000, true);
    assert.deepEqual(back, [a, b]);
    assert.deepEqual(store.latestSample(), b);
    assert.deepEqual(
      leaves(back[0]).map(([p]) => p),
      leaves(a).map(([p]) => p),
      'the same fields, in the same order (the JSON the API and the CLI print)',
    );
  });

  it('every mapped column is written from the sample (none left null by a full sample)', () => {
    const s = fullSample(5_000, true);
    const values = rowValues(SAMPLE_ROW, s);
    const unwritten = SAMPLE_ROW.filter((_c, i) => values[i] === null).map((c) => c.column);
    assert.deepEqual(unwritten, []);
    const p = rowValues(PROCESS_ROW, { ...s.processes[0]!, ts: s.time });
    assert.deepEqual(
      PROCESS_ROW.filter((_c, i) => p[i] === null).map((c) => c.column),
      [],
    );
  });

  it('the maps name exactly the columns the migrations create: a column in one and not the other fails', () => {
    const store = new TimelineStore(openDatabase(':memory:'));
    assert.deepEqual(
      SAMPLE_ROW.map((c) => c.column).sort(),
      columnsOf(store, 'samples').sort(),
      'samples: add the column in a migration and its {column, read, write} in SAMPLE_ROW together',
    );
    assert.deepEqual(PROCESS_ROW.map((c) => c.column).sort(), columnsOf(store, 'process_samples').sort());
    assert.equal(new Set(SAMPLE_ROW.map((c) => c.column)).size, SAMPLE_ROW.length, 'no column mapped twice');
  });

  it('a column added to the map without a migration cannot even be written', () => {
    const db = openDatabase(':memory:');
    const extra: ColumnMap<Sample> = {
      column: 'gpu_bogus',
      write: () => 1,
      read: () => undefined,
    };
    assert.throws(() => db.prepare(insertSql('samples', [...SAMPLE_ROW, extra], 'ts')), /gpu_bogus/);
  });
});
