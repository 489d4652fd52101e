/**
 * When to ask EXO's API next. Every `exo.pollSeconds` while EXO answers, while it has not been asked yet, and
 * while an EXO process runs on this machine (starting, or serving). While nothing answers and no EXO process
 * runs (not installed, not started, stopped), the wait doubles after each unanswered poll up to
 * `UNANSWERED_MAX_MS`, so a machine without EXO is not woken every second to be refused; an EXO process that
 * appears makes the next poll due at once. An EXO on another machine (`exo.url` elsewhere) is found within the
 * cap.
 */
export const UNANSWERED_MAX_MS = 5000;

export class ExoPollCadence {
  private lastPoll: number | null = null;
  private unanswered = 0;
  private exoSeen = false;

  /** Whether a poll is due at `now`; `exoRunning`: an EXO main or runner process is in this tick's table. */
  due(now: number, pollSeconds: number, exoRunning: boolean): boolean {
    const appeared = exoRunning && !this.exoSeen;
    this.exoSeen = exoRunning;
    if (appeared) this.unanswered = 0;
    if (this.lastPoll === null || appeared) return true;
    const wait = exoRunning ? pollSeconds * 1000 : this.interval(pollSeconds);
    return now - this.lastPoll >= wait;
  }

  /** The wait after the last poll while no EXO process runs, ms. */
  interval(pollSeconds: number): number {
    const base = pollSeconds * 1000;
    if (this.unanswered === 0) return base;
    return Math.max(base, Math.min(base * 2 ** this.unanswered, UNANSWERED_MAX_MS));
  }

  started(now: number): void {
    this.lastPoll = now;
  }

  /** The outcome of a poll started earlier. */
  answered(reachable: boolean): void {
    this.unanswered = reachable ? 0 : Math.min(this.unanswered + 1, 16);
  }
}
