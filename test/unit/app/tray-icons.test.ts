import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { TRAY_ICONS, type TrayState } from '../../../src/main/app/tray-view.js';

const assets = join(import.meta.dirname, '..', '..', '..', 'assets');
const STATES: TrayState[] = ['ok', 'elevated', 'high', 'critical', 'exo-down', 'hold'];

function load(file: string): PNG {
  return PNG.sync.read(readFileSync(join(assets, file)));
}

/** Opaque-ish pixels of an image, as [r, g, b, a]. */
function inked(png: PNG): Array<[number, number, number, number]> {
  const out: Array<[number, number, number, number]> = [];
  for (let i = 0; i < png.data.length; i += 4) {
    const a = png.data[i + 3] as number;
    if (a > 0) out.push([png.data[i] as number, png.data[i + 1] as number, png.data[i + 2] as number, a]);
  }
  return out;
}

describe('tray icons', () => {
  it('every state has a 16 px icon and a 32 px @2x twin with something drawn', () => {
    assert.deepEqual(Object.keys(TRAY_ICONS).sort(), [...STATES].sort());
    for (const state of STATES) {
      const file = TRAY_ICONS[state];
      const one = load(file);
      const two = load(file.replace(/\.png$/, '@2x.png'));
      assert.equal(one.width, 16, `${file} width`);
      assert.equal(one.height, 16, `${file} height`);
      assert.equal(two.width, 32, `${file} @2x width`);
      assert.equal(two.height, 32, `${file} @2x height`);
      // Drawn but not filled: a glyph covers some of the square, never all of it.
      for (const img of [one, two]) {
        const share = inked(img).length / (img.width * img.height);
        assert.ok(share > 0.1 && share < 0.9, `${file}: ${Math.round(share * 100)}% of pixels drawn`);
      }
    }
  });

  it('the calm icon is a macOS template image: named *Template, black with alpha only', () => {
    assert.match(TRAY_ICONS.ok, /Template\.png$/);
    for (const file of [TRAY_ICONS.ok, TRAY_ICONS.ok.replace('.png', '@2x.png')]) {
      for (const [r, g, b] of inked(load(file))) assert.deepEqual([r, g, b], [0, 0, 0], file);
    }
  });

  it('the other states are drawn in colour, each differently, so the state shows without reading', () => {
    const dominant = new Set<string>();
    for (const state of STATES.filter((s) => s !== 'ok')) {
      const px = inked(load(TRAY_ICONS[state])).filter(([, , , a]) => a > 200);
      // Not black: a non-template image keeps its colours in the bar (grey is the "EXO down" colour).
      const coloured = px.filter(([r, g, b]) => Math.max(r, g, b) > 60);
      assert.ok(coloured.length > px.length / 2, `${state} is drawn in colour, not black`);
      const [r, g, b] = coloured.reduce((acc, p) => [acc[0] + p[0], acc[1] + p[1], acc[2] + p[2]], [0, 0, 0]);
      dominant.add([r, g, b].map((c) => Math.round(c / coloured.length / 32)).join(','));
    }
    assert.equal(dominant.size, STATES.length - 1, `distinct colours: ${[...dominant].join(' | ')}`);
  });

  it('the app icon: a 1024 px PNG and an .icns whose PNG entries have the sizes their types promise', () => {
    const build = join(import.meta.dirname, '..', '..', '..', 'build');
    const source = PNG.sync.read(readFileSync(join(build, 'icon.png')));
    assert.deepEqual([source.width, source.height], [1024, 1024]);
    // Transparent corners (macOS draws no square behind an app icon), an opaque body.
    assert.equal(source.data[3], 0);
    assert.equal(source.data[(512 * 1024 + 512) * 4 + 3], 255);
    const icns = readFileSync(join(build, 'icon.icns'));
    assert.equal(icns.subarray(0, 4).toString('latin1'), 'icns');
    assert.equal(icns.readUInt32BE(4), icns.length);
    const SIZE: Record<string, number> = {
      icp4: 16,
      icp5: 32,
      ic11: 32,
      ic12: 64,
      ic07: 128,
      ic13: 256,
      ic08: 256,
      ic14: 512,
      ic09: 512,
      ic10: 1024,
    };
    const seen: string[] = [];
    for (let at = 8; at < icns.length; ) {
      const type = icns.subarray(at, at + 4).toString('latin1');
      const length = icns.readUInt32BE(at + 4);
      const png = PNG.sync.read(icns.subarray(at + 8, at + length));
      assert.deepEqual([png.width, png.height], [SIZE[type], SIZE[type]], type);
      seen.push(type);
      at += length;
    }
    assert.deepEqual(seen.sort(), Object.keys(SIZE).sort());
  });
});
