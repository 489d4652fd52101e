import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { RiskStateWriter, readRiskState } from '../../../src/main/core/risk/risk-state-store.js';
import { openDatabase } from '../../../src/main/core/store/database.js';
import { TimelineStore } from '../../../src/main/core/store/timeline-store.js';
import type { RiskState } from '../../../src/shared/risk.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

const state = (level: RiskState['level'], evaluatedAt: number): RiskState => ({
  level,
  since: 1000,
  reasons: [],
  evaluatedAt,
  score: 0,
  hold: null,
});

describe('risk state written with the tick', () => {
  it('is written when it changes, not when only its evaluation time moves', () => {
    const db = openDatabase(`${dir.path}/a.db`);
    const store = new TimelineStore(db);
    let writes = 0;
    const counting = {
      setMeta: (k: string, v: string) => {
        writes++;
        store.setMeta(k, v);
      },
    };
    const w = new RiskStateWriter(counting);
    for (let t = 1; t <= 60; t++) w.write(state('ok', t * 1000));
    assert.equal(writes, 1, 'one write for a minute of unchanged ticks');
    assert.equal(readRiskState(store)?.evaluatedAt, 1000, 'the time of the last change');
    w.write(state('elevated', 61_000));
    assert.equal(writes, 2);
    assert.equal(readRiskState(store)?.level, 'elevated');
    db.close();
  });

  it('a rolled-back tick transaction is written again by the next tick', () => {
    const db = openDatabase(`${dir.path}/b.db`);
    const store = new TimelineStore(db);
    const w = new RiskStateWriter(store);
    w.write(state('ok', 1000));
    assert.throws(() =>
      db.transaction(() => {
        w.write(state('high', 2000));
        throw new Error('disk full');
      })(),
    );
    assert.equal(readRiskState(store)?.level, 'ok', 'rolled back');
    w.write(state('high', 2500));
    assert.equal(readRiskState(store)?.level, 'ok', 'not told: the writer takes it as written');
    w.lost();
    w.write(state('high', 3000));
    assert.equal(readRiskState(store)?.level, 'high');
    db.close();
  });

  it('an unreadable stored state reads as none', () => {
    const db = openDatabase(`${dir.path}/c.db`);
    const store = new TimelineStore(db);
    store.setMeta('risk-state', '{not json');
    assert.equal(readRiskState(store), null);
    db.close();
  });
});
