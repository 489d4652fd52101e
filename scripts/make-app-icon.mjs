#!/usr/bin/env node
// Draws the app icon: build/icon.png (1024 px) and build/icon.icns (PNG entries 16–1024 px), the tray's gauge
// on a rounded dark square, the shape macOS gives app icons. Login Items and notifications show it instead of
// Electron's atom. The .icns is written here because electron-builder would download a converter for a PNG.
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
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** Shapes in a 0..1 space, 2× supersampled. `paint(x, y)` → [r,g,b,a] or null (later layers win). */
function render(size, paint) {
  const out = Buffer.alloc(size * size * 4);
  const s = 2;
  for (let y = 0; y < size; y++)
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < s; sy++)
        for (let sx = 0; sx < s; sx++) {
          const c = paint((x + (sx + 0.5) / s) / size, (y + (sy + 0.5) / s) / size);
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

// Apple's grid: the body is 824/1024 of the canvas with a ~185 px corner radius, centred.
const inset = 100 / 1024;
const radius = 185 / 1024;
function roundedSquare(x, y) {
  const lo = inset, hi = 1 - inset;
  if (x < lo || x > hi || y < lo || y > hi) return false;
  const cx = Math.min(Math.max(x, lo + radius), hi - radius);
  const cy = Math.min(Math.max(y, lo + radius), hi - radius);
  return Math.hypot(x - cx, y - cy) <= radius;
}
const d = (x, y) => Math.hypot(x - 0.5, y - 0.5);
const ring = (x, y) => d(x, y) <= 0.3 && d(x, y) >= 0.25;
// The needle from the centre towards the upper left (the calm tray icon's needle), with a hub.
function needle(x, y) {
  const t = (x - 0.5) * -0.7071 + (y - 0.5) * -0.7071; // along the needle
  const n = Math.abs((x - 0.5) * 0.7071 - (y - 0.5) * 0.7071); // across it
  return (t >= 0 && t <= 0.22 && n <= 0.022) || d(x, y) <= 0.045;
}
// An amber arc along the ring's upper right: the range the watchdog warns in.
function warnArc(x, y) {
  const angle = Math.atan2(0.5 - y, x - 0.5); // 0 = right, π/2 = up
  return d(x, y) <= 0.3 && d(x, y) >= 0.25 && angle > -0.35 && angle < 0.9;
}
const paint = (x, y) => {
  if (!roundedSquare(x, y)) return null;
  if (warnArc(x, y)) return [255, 159, 10, 1];
  if (ring(x, y) || needle(x, y)) return [242, 242, 247, 1];
  // A dark body, lighter towards the top.
  const shade = Math.round(44 - 20 * y);
  return [shade, shade + 2, shade + 8, 1];
};

/** An .icns of PNG entries: 'icns', total length, then per entry its type, length (with the header) and PNG. */
function icns(entries) {
  const parts = entries.map(([type, data]) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'latin1');
    head.writeUInt32BE(data.length + 8, 4);
    return Buffer.concat([head, data]);
  });
  const head = Buffer.alloc(8);
  head.write('icns', 0, 'latin1');
  head.writeUInt32BE(8 + parts.reduce((n, p) => n + p.length, 0), 4);
  return Buffer.concat([head, ...parts]);
}

mkdirSync('build', { recursive: true });
const sizes = new Map([16, 32, 64, 128, 256, 512, 1024].map((n) => [n, png(n, render(n, paint))]));
writeFileSync('build/icon.png', sizes.get(1024));
// Apple's PNG-capable types: icp4/icp5 16/32, ic07–ic10 128–1024, ic11–ic14 the @2x of 16–256.
const TYPES = [
  ['icp4', 16],
  ['icp5', 32],
  ['ic11', 32],
  ['ic12', 64],
  ['ic07', 128],
  ['ic13', 256],
  ['ic08', 256],
  ['ic14', 512],
  ['ic09', 512],
  ['ic10', 1024],
];
writeFileSync('build/icon.icns', icns(TYPES.map(([type, n]) => [type, sizes.get(n)])));
