#!/usr/bin/env node
// Draws the menu-bar icons into assets/ (16 px and @2x 32 px PNGs): the calm icon is a template image
// (black + alpha, macOS tints it for light and dark bars); the others are coloured so the state shows.
import { mkdirSync, writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const CRC = new Int32Array(256).map((_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});
const crc32 = (buf) => {
  let c = -1;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
};
function chunk(type, data) {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}
function png(size, rgba) {
  const raw = Buffer.alloc(size * (size * 4 + 1));
  for (let y = 0; y < size; y++) rgba.copy(raw, y * (size * 4 + 1) + 1, y * size * 4, (y + 1) * size * 4);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** Renders shapes given in a 16×16 coordinate space, 4× supersampled. `paint(x, y)` → [r,g,b,a] or null. */
function render(size, paint) {
  const out = Buffer.alloc(size * size * 4);
  const s = 4;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < s; sy++)
        for (let sx = 0; sx < s; sx++) {
          const px = ((x + (sx + 0.5) / s) * 16) / size;
          const py = ((y + (sy + 0.5) / s) * 16) / size;
          const c = paint(px, py);
          if (c) {
            r += c[0] * c[3];
            g += c[1] * c[3];
            b += c[2] * c[3];
            a += c[3];
          }
        }
      const i = (y * size + x) * 4;
      out[i + 3] = Math.round((a / (s * s)) * 255);
      if (a > 0) {
        out[i] = Math.round(r / a);
        out[i + 1] = Math.round(g / a);
        out[i + 2] = Math.round(b / a);
      }
    }
  return out;
}

const dist = (x, y) => Math.hypot(x - 8, y - 8);
const ring = (x, y) => dist(x, y) <= 7 && dist(x, y) >= 5.5;
const disc = (x, y) => dist(x, y) <= 7;
const BLACK = [0, 0, 0, 1];
const WHITE = [255, 255, 255, 1];
const icons = {
  // A gauge: ring with a needle at rest.
  trayTemplate: (x, y) => (ring(x, y) || (Math.abs(x - y) < 0.9 && x > 4.5 && x < 8.6) ? BLACK : null),
  'tray-elevated': (x, y) => (disc(x, y) ? [224, 164, 58, 1] : null),
  'tray-high': (x, y) => (disc(x, y) ? (Math.abs(x - 8) < 1 && y > 4 && y < 12 ? WHITE : [255, 122, 69, 1]) : null),
  'tray-critical': (x, y) => (disc(x, y) ? (Math.abs(x - 8) < 1.1 && ((y > 3.5 && y < 9.5) || (y > 10.8 && y < 12.6)) ? WHITE : [217, 43, 43, 1]) : null),
  'tray-exo-down': (x, y) => (ring(x, y) || (Math.abs(x + y - 16) < 1 && disc(x, y)) ? [128, 128, 128, 1] : null),
  'tray-hold': (x, y) => (ring(x, y) || ((Math.abs(x - 6.3) < 0.9 || Math.abs(x - 9.7) < 0.9) && y > 5 && y < 11) ? [217, 43, 43, 1] : null),
};

mkdirSync('assets', { recursive: true });
for (const [name, paint] of Object.entries(icons)) {
  writeFileSync(`assets/${name}.png`, png(16, render(16, paint)));
  writeFileSync(`assets/${name}@2x.png`, png(32, render(32, paint)));
}
