import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildMenuTemplate, type MenuActions } from '../../../src/main/app/menu-template.js';
import { trayViewFromStatus } from '../../../src/main/app/tray-view.js';
import type { CeilingSource } from '../../../src/shared/sample.js';
import { makeSample } from '../../support/sample-factory.js';
import { makeStatusView } from '../../support/status-view-factory.js';

const GiB = 1024 ** 3;
const launch = { enabled: false, status: 'not-registered', problem: null } as const;
const noop = (): void => {};
const actions: MenuActions = {
  openDashboard: noop,
  openReport: noop,
  setGuardMode: noop,
  setGuardProfile: noop,
  acknowledge: noop,
  toggleLaunchAtLogin: noop,
  openAlert: noop,
  openNotificationSettings: noop,
  quit: noop,
};

/** The menu's GPU line for a status whose sample has this ceiling. */
function gpuLine(ceilingBytes: number | null, ceilingSource: CeilingSource | null | undefined): string {
  const sample = makeSample(0);
  sample.gpu.ceilingBytes = ceilingBytes;
  if (ceilingSource === undefined) delete sample.gpu.ceilingSource;
  else sample.gpu.ceilingSource = ceilingSource;
  const view = trayViewFromStatus(makeStatusView(0, { sample }), launch);
  assert.equal(view.gpuCeilingSource, ceilingSource ?? null);
  const label = buildMenuTemplate(view, actions)
    .map((i) => i.label ?? '')
    .find((l) => l.startsWith('GPU:'));
  return label ?? '';
}

describe('the tray menu says where the Metal ceiling came from', () => {
  it('estimated, read (with its source), unknown, or not recorded', () => {
    assert.equal(
      gpuLine(96 * GiB, 'estimate'),
      'GPU: 50.0 GiB of 96.0 GiB (52%) (ceiling estimated from RAM)',
    );
    assert.equal(gpuLine(96 * GiB, 'metal'), 'GPU: 50.0 GiB of 96.0 GiB (52%) (ceiling: metal)');
    assert.equal(gpuLine(null, null), 'GPU: 50.0 GiB of — (ceiling unknown)');
    assert.equal(gpuLine(96 * GiB, undefined), 'GPU: 50.0 GiB of 96.0 GiB (52%)');
  });
});
