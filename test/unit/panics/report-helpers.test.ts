import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import {
  plistShortVersion,
  pyprojectVersion,
  readExoVersion,
} from '../../../src/main/core/exo/exo-version.js';
import { redactArgv } from '../../../src/main/core/report/redact.js';
import { bucketise, sparkline } from '../../../src/main/core/report/text-chart.js';
import { tempDir } from '../../support/temp-dir.js';

const dir = tempDir();
after(dir.cleanup);

describe('crash report helpers', () => {
  it('redacts secrets from command lines', () => {
    assert.deepEqual(
      redactArgv(['exo', '--api-key', 'abc123', '--hf-token=hf_ABCDEFGHIJKL', '--model', 'x']),
      ['exo', '--api-key', '[redacted]', '--hf-token=[redacted]', '--model', 'x'],
    );
    assert.deepEqual(redactArgv(['curl', 'https://user:pw@host/x', 'sk-abcdefghijkl']), [
      'curl',
      'https://[redacted]@host/x',
      'sk-[redacted]',
    ]);
  });

  it('draws a sparkline of percentages and buckets points by time', () => {
    assert.equal(sparkline([0, 50, 100, null, 120]), '▁▅█ █');
    assert.deepEqual(
      bucketise(
        [
          { time: 0, value: 10 },
          { time: 5, value: 30 },
          { time: 25, value: 90 },
        ],
        0,
        30,
        3,
      ),
      [20, null, 90],
    );
  });

  it('reads the EXO version from the app bundle or the source checkout, else unknown', () => {
    const plist = '<dict>\n<key>CFBundleShortVersionString</key>\n<string>1.0.71</string>\n</dict>';
    assert.equal(plistShortVersion(plist), '1.0.71');
    writeFileSync(`${dir.path}/Info.plist`, plist);
    assert.deepEqual(readExoVersion({ appPlist: `${dir.path}/Info.plist` }), {
      version: '1.0.71',
      source: 'app-bundle',
      detail: `${dir.path}/Info.plist`,
    });
    const repo = `${dir.path}/exo`;
    mkdirSync(`${repo}/.venv/bin`, { recursive: true });
    mkdirSync(`${repo}/.git/refs/heads`, { recursive: true });
    writeFileSync(
      `${repo}/pyproject.toml`,
      '[build-system]\nrequires = []\n\n[project]\nname = "exo"\nversion = "1.0.72"\n\n[tool.x]\nversion = "9"\n',
    );
    writeFileSync(`${repo}/.git/HEAD`, 'ref: refs/heads/main\n');
    writeFileSync(`${repo}/.git/refs/heads/main`, 'b5375f8aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n');
    assert.equal(pyprojectVersion('[project]\nversion = "2.0"\n'), '2.0');
    assert.deepEqual(
      readExoVersion({
        appPlist: `${dir.path}/none.plist`,
        exoArgv: [`${repo}/.venv/bin/python3`, `${repo}/.venv/bin/exo`],
      }),
      {
        version: '1.0.72 (b5375f8)',
        source: 'source-checkout',
        detail: repo,
      },
    );
    assert.deepEqual(readExoVersion({ appPlist: `${dir.path}/none.plist` }), {
      version: 'unknown',
      source: 'unknown',
      detail: null,
    });
  });
});
