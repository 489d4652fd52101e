import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import { buildMenuTemplate, type MenuActions, PROFILE_CHOICES } from '../../../src/main/app/menu-template.js';
import { type TrayView, trayViewFromStatus } from '../../../src/main/app/tray-view.js';
import type { GuardProfile } from '../../../src/main/core/actions/guard-profile.js';
import { makeStatusView } from '../../support/status-view-factory.js';

const launch = { enabled: false, status: 'not-registered', problem: null } as const;
const view = (over: Partial<TrayView> = {}): TrayView => ({
  ...trayViewFromStatus(makeStatusView(), launch),
  ...over,
});

const actions = (chosen: GuardProfile[]): MenuActions => ({
  openDashboard: () => {},
  openReport: () => {},
  setGuardMode: () => {},
  setGuardProfile: (p) => chosen.push(p),
  acknowledge: () => {},
  toggleLaunchAtLogin: () => {},
  openAlert: () => {},
  openNotificationSettings: () => {},
  quit: () => {},
});

const profileMenu = (items: MenuItemConstructorOptions[]) =>
  items.find((i) => i.label === 'Guard profile')?.submenu as MenuItemConstructorOptions[] | undefined;

describe('the guard profile in the tray menu', () => {
  it('is a radio group protect / balanced / observe with the one in effect checked', () => {
    const chosen: GuardProfile[] = [];
    const items = buildMenuTemplate(view({ guardProfile: 'protect' }), actions(chosen));
    const menu = profileMenu(items)!;
    assert.deepEqual(
      menu.map((m) => [m.label, m.type, m.checked]),
      [
        ['Protect — one request at a time while EXO wires GPU memory', 'radio', true],
        ['Balanced — the risk level decides', 'radio', false],
        ['Observe — record only, never hold back', 'radio', false],
      ],
    );
    const labels = items.map((i) => i.label);
    assert.ok(labels.indexOf('Guard profile') === labels.indexOf('Guard') + 1, 'beside the guard switch');
    for (const m of menu) (m.click as () => void)();
    assert.deepEqual(chosen, ['protect', 'balanced', 'observe'], 'each item chooses its profile');
    const balanced = profileMenu(buildMenuTemplate(view({ guardProfile: 'balanced' }), actions([])))!;
    assert.deepEqual(
      balanced.filter((m) => m.checked).map((m) => m.label),
      [PROFILE_CHOICES[1]![1]],
    );
  });

  it('comes from the status the daemon serves (typed: always one of the three); absent: no group, never a guess', () => {
    for (const p of ['protect', 'balanced', 'observe'] as const)
      assert.equal(trayViewFromStatus(makeStatusView(0, { guardProfile: p }), launch).guardProfile, p);
    const { guardProfile: _none, ...withoutProfile } = view();
    assert.equal(profileMenu(buildMenuTemplate(withoutProfile, actions([]))), undefined);
  });
});
