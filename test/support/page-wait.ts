/**
 * Polls a reading of the page from the test's side until `ok` holds. Playwright's waitForFunction with a string
 * builds a function inside the page, which the dashboard's CSP (no 'unsafe-eval') refuses whenever the first
 * check is false; reading attributes and text from here evaluates nothing in the page.
 */
export async function waitForPage<T>(
  read: () => Promise<T>,
  ok: (value: T) => boolean,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
