import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { repoRoot } from '../support/fixtures.js';

/** The README's screenshots, written only when asked (UPDATE_SCREENSHOTS=1), never in a normal run. */
export const SCREENSHOT_DIR = join(repoRoot, 'docs', 'screenshots');
export const updateScreenshots = process.env['UPDATE_SCREENSHOTS'] === '1';

/** The size every README screenshot is taken at. */
export const SCREENSHOT_VIEWPORT = { width: 1280, height: 800 } as const;

/** A README picture budget: the repository stays small. */
const MAX_BYTES = 200 * 1024;

/**
 * Writes docs/screenshots/<name>.png of the page's viewport when UPDATE_SCREENSHOTS=1 (returns its size),
 * else nothing (returns null). A picture over budget is an error: the test says so.
 */
export async function readmeScreenshot(page: Page, name: string): Promise<number | null> {
  if (!updateScreenshots) return null;
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, animations: 'disabled', caret: 'hide' });
  const size = statSync(path).size;
  if (size > MAX_BYTES) throw new Error(`${path} is ${size} bytes (budget ${MAX_BYTES})`);
  return size;
}
