import { lstatSync } from 'node:fs';
import { loadOrCreateToken, type TokenNotice } from './api-token.js';

/** How often the token file is looked at (one lstat; it is read again only when something changed). */
export const TOKEN_WATCH_MS = 30_000;

/** What is compared between looks: a change in any of these makes the file be judged again. */
const fingerprint = (path: string): string => {
  try {
    const s = lstatSync(path);
    return `${s.dev}:${s.ino}:${s.mode}:${s.uid}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
  } catch (e) {
    return `missing:${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
};

export interface TokenWatchEvents {
  /** The token the API takes from now on (the file was edited, replaced, or had to be rewritten). */
  changed(token: string, why: string): void;
  /** What was wrong with the file and what was done (as at start: never the token). */
  notice(n: TokenNotice): void;
  /** The file could not be used or rewritten: the API keeps the token it had. */
  failed(error: string): void;
}

/**
 * The API token file, looked at again while the daemon runs. At start a file others could read was
 * replaced; a file made readable later (a restore, a sync tool, a chmod) kept serving a token others could
 * now read. Every TOKEN_WATCH_MS the file's identity, mode, owner, size and times are compared; on a change
 * it is judged as at start (`loadOrCreateToken`): a private file's token is taken (so editing the file
 * rotates the token without a restart), anything else is replaced by a new 0600 token. Clients that read the
 * file (the CLI) follow; remote clients need the new token.
 */
export class TokenFileWatch {
  private timer: NodeJS.Timeout | null = null;
  private seen: string;

  constructor(
    private readonly path: string,
    private token: string,
    private readonly on: TokenWatchEvents,
    private readonly everyMs = TOKEN_WATCH_MS,
  ) {
    this.seen = fingerprint(path);
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.check(), this.everyMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** One look (the timer's; tests call it). True when the token changed. */
  check(): boolean {
    const now = fingerprint(this.path);
    if (now === this.seen) return false;
    const load = loadOrCreateToken(this.path);
    // What the load wrote (a new token, a chmod) is the state to compare with next time.
    this.seen = fingerprint(this.path);
    for (const n of load.notices) this.on.notice(n);
    if (!load.ok) {
      this.on.failed(`${load.error}: the API keeps its current token`);
      return false;
    }
    if (load.token === this.token) return false;
    this.token = load.token;
    this.on.changed(
      load.token,
      load.written === 'refused'
        ? 'the file could not be trusted and was replaced'
        : load.written === null
          ? 'the file holds a new token'
          : now.startsWith('missing:')
            ? 'the file was removed and written again'
            : 'the file held no valid token (16 to 512 printable characters) and was written again',
    );
    return true;
  }
}
