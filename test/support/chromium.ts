import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where a Chromium may be: CHROMIUM_PATH, Debian's apt package, or Chrome on a Mac. */
export const CHROMIUM_CANDIDATES = [
  process.env['CHROMIUM_PATH'],
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/Applications/Google Chrome.app/Contents/MacOS/Google Chrome',
  '/Applications/Chromium.app/Contents/MacOS/Chromium',
].filter((p): p is string => !!p);

export const chromiumPath = CHROMIUM_CANDIDATES.find((p) => existsSync(p));

/** Why a browser suite is skipped, or false when a Chromium is there. */
export const noChromium: string | false = chromiumPath
  ? false
  : `no Chromium found (${CHROMIUM_CANDIDATES.join(', ')}); set CHROMIUM_PATH`;

/** Headless Chromium with nothing of its own on the network (no updates, sync or QUIC). */
export function launchChromium(): Promise<Browser> {
  if (!chromiumPath) throw new Error(noChromium as string);
  return chromium.launch({
    executablePath: chromiumPath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}
