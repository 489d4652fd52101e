import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { describePlan, planUninstall } from '../../../src/main/headless/uninstall.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);
const noAgent = { installed: false, path: '/nowhere/agent.plist' };

describe('uninstall and the boot-time daemon', () => {
  it('says how to remove a boot-time daemon it cannot remove itself (root owns it)', () => {
    const boot = join(dir.path, 'io.exo-sentinel.daemon.plist');
    writeFileSync(boot, '<plist/>');
    const plan = planUninstall(join(dir.path, 'data'), noAgent, false, 'linux', boot);
    assert.deepEqual(plan.hints, [
      `the boot-time daemon ${boot}: sudo exo-sentinel agent uninstall --at-boot`,
    ]);
    assert.match(describePlan(plan), /by hand:\n {2}the boot-time daemon .*agent uninstall --at-boot\n/);
    const none = planUninstall(join(dir.path, 'data'), noAgent, false, 'linux', join(dir.path, 'absent'));
    assert.deepEqual(none.hints, []);
  });
});
