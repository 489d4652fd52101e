import { execFile } from 'node:child_process';
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { plainText } from '../util/format.js';
import type { Notification } from './notifier.js';

export { plainText };

/** `notifications.desktop`: auto = on in a desktop (GUI) session, off elsewhere; on; off. */
export type DesktopMode = 'auto' | 'on' | 'off';

/** A desktop notification program and the argument array it runs with (never a shell string). */
export interface DesktopCommand {
  file: string;
  args: string[];
  env?: Record<string, string>;
}

/** Which program shows banners here, or why none does. */
export type DesktopBackend =
  | { kind: 'osascript' | 'terminal-notifier' | 'notify-send'; file: string; env?: Record<string, string> }
  | { kind: 'none'; why: string };

export interface DesktopNotifierOptions {
  mode: DesktopMode;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
  now?: () => number;
  timeoutMs?: number;
  /** Searched after PATH (launchd starts agents with PATH=/usr/bin:/bin:/usr/sbin:/sbin; Homebrew is elsewhere). */
  extraDirs?: string[];
  /** macOS: whether this is a desktop (Aqua) session. Default: `launchctl managername` prints `Aqua`. */
  guiSession?: () => Promise<boolean>;
}

/** The same notification (topic, level, title) is not shown twice within this time. */
export const REPEAT_MS = 60_000;
const TITLE_MAX = 100;
const BODY_MAX = 300;
const HOMEBREW_DIRS = ['/opt/homebrew/bin', '/usr/local/bin'];

/**
 * The AppleScript is a constant: the title and body reach it only as `argv` items of its run handler, so no
 * text (quotes, `" & do shell script "…`) is ever parsed as AppleScript. The first argument is a fixed word, so
 * a title starting with `-` is never read as an osascript option (its option parsing stops at the first
 * non-option argument).
 */
export const OSASCRIPT_LINES = [
  'on run argv',
  'display notification (item 3 of argv) with title (item 2 of argv)',
  'end run',
] as const;

/** The command that shows one notification with the given backend. */
export function desktopCommand(
  backend: Exclude<DesktopBackend, { kind: 'none' }>,
  n: Pick<Notification, 'title' | 'body' | 'level' | 'topic'>,
): DesktopCommand {
  const title = plainText(n.title, TITLE_MAX) || 'exo-sentinel';
  const body = plainText(n.body, BODY_MAX) || ' ';
  const env = backend.env ? { env: backend.env } : {};
  switch (backend.kind) {
    case 'osascript':
      return {
        file: backend.file,
        args: [...OSASCRIPT_LINES.flatMap((l) => ['-e', l]), 'exo-sentinel', title, body],
        ...env,
      };
    case 'terminal-notifier':
      // Values are taken as `-key value` pairs; a value starting with `-` gets a leading space.
      return {
        file: backend.file,
        args: [
          '-title',
          title.startsWith('-') ? ` ${title}` : title,
          '-message',
          body.startsWith('-') ? ` ${body}` : body,
          '-group',
          `exo-sentinel.${plainText(n.topic, 40)}`,
        ],
        ...env,
      };
    case 'notify-send':
      return {
        file: backend.file,
        args: [
          '--app-name=exo-sentinel',
          `--urgency=${n.level === 'critical' ? 'critical' : 'normal'}`,
          '--',
          title,
          body,
        ],
        ...env,
      };
  }
}

/** The first executable called `name` in PATH, then in `extra`. */
export function findExecutable(
  name: string,
  env: NodeJS.ProcessEnv,
  extra: readonly string[] = [],
): string | null {
  const dirs = [...(env['PATH'] ?? '').split(delimiter), ...extra].filter((d) => isAbsolute(d));
  for (const d of dirs) {
    const file = join(d, name);
    try {
      if (!statSync(file).isFile()) continue;
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** The session bus address for notify-send: DBUS_SESSION_BUS_ADDRESS, else the socket `$XDG_RUNTIME_DIR/bus`. */
export function sessionBus(env: NodeJS.ProcessEnv): string | null {
  const address = env['DBUS_SESSION_BUS_ADDRESS'];
  if (address) return address;
  const runtime = env['XDG_RUNTIME_DIR'];
  if (runtime && isAbsolute(runtime) && existsSync(join(runtime, 'bus')))
    return `unix:path=${join(runtime, 'bus')}`;
  return null;
}

/** `launchctl managername` prints `Aqua` in a logged-in desktop session (`Background` or `StandardIO` elsewhere). */
export const aquaSession =
  (env: NodeJS.ProcessEnv = process.env) =>
  async (): Promise<boolean> => {
    const launchctl = findExecutable('launchctl', env, ['/bin']);
    if (!launchctl) return false;
    const r = await run({ file: launchctl, args: ['managername'] }, env, 3000);
    return r.ok && r.stdout.trim() === 'Aqua';
  };

/** Picks the program: terminal-notifier (when installed) or osascript on macOS, notify-send on Linux. */
export async function chooseBackend(o: DesktopNotifierOptions): Promise<DesktopBackend> {
  const platform = o.platform ?? process.platform;
  const env = o.env ?? process.env;
  if (o.mode === 'off') return { kind: 'none', why: 'notifications.desktop is off' };
  if (platform === 'darwin') {
    if (o.mode === 'auto' && !(await (o.guiSession ?? aquaSession(env))()))
      return { kind: 'none', why: 'not a desktop session (launchctl managername is not Aqua)' };
    const tn = findExecutable('terminal-notifier', env, o.extraDirs ?? HOMEBREW_DIRS);
    if (tn) return { kind: 'terminal-notifier', file: tn };
    const osa = findExecutable('osascript', env, ['/usr/bin']);
    return osa ? { kind: 'osascript', file: osa } : { kind: 'none', why: 'osascript not found' };
  }
  if (platform === 'linux') {
    const bus = sessionBus(env);
    if (!bus)
      return {
        kind: 'none',
        why: 'no session bus (neither DBUS_SESSION_BUS_ADDRESS nor $XDG_RUNTIME_DIR/bus)',
      };
    const ns = findExecutable('notify-send', env, o.extraDirs ?? []);
    if (!ns) return { kind: 'none', why: 'notify-send not found (install libnotify-bin)' };
    return env['DBUS_SESSION_BUS_ADDRESS']
      ? { kind: 'notify-send', file: ns }
      : { kind: 'notify-send', file: ns, env: { DBUS_SESSION_BUS_ADDRESS: bus } };
  }
  return { kind: 'none', why: `no desktop notifications on ${platform}` };
}

type RunResult = { ok: true; stdout: string } | { ok: false; error: string };

function run(c: DesktopCommand, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve) => {
    try {
      execFile(
        c.file,
        c.args,
        {
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: 64 * 1024,
          env: { ...env, ...c.env },
          windowsHide: true,
        },
        (error, stdout, stderr) => {
          if (!error) return resolve({ ok: true, stdout });
          const e = error as NodeJS.ErrnoException & { killed?: boolean; signal?: string };
          const name = c.file.split('/').pop();
          if (e.killed || e.signal === 'SIGKILL')
            return resolve({ ok: false, error: `${name}: no answer within ${timeoutMs} ms` });
          const said = plainText(String(stderr), 200);
          resolve({ ok: false, error: `${name}: ${said || plainText(e.message, 200)}` });
        },
      );
    } catch (e) {
      resolve({ ok: false, error: `${c.file}: ${(e as Error).message}` });
    }
  });
}

/**
 * Desktop banners for the headless daemon. The program is chosen once, at the first notification; the same
 * notification is not repeated within a minute; a program that fails, hangs or is missing is a result
 * (`ok: false` and why), never an exception.
 */
export class DesktopNotifier {
  private backend: Promise<DesktopBackend> | null = null;
  private readonly last = new Map<string, number>();
  private readonly now: () => number;

  constructor(private options: DesktopNotifierOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A changed `notifications.desktop` (live reload): the program is chosen again at the next notification. */
  setMode(mode: DesktopMode): void {
    if (mode === this.options.mode) return;
    this.options = { ...this.options, mode };
    this.backend = null;
  }

  /** The program in use (or why there is none). */
  get chosen(): Promise<DesktopBackend> {
    this.backend ??= chooseBackend(this.options).catch(
      (e: unknown): DesktopBackend => ({ kind: 'none', why: (e as Error).message }),
    );
    return this.backend;
  }

  async notify(n: Notification): Promise<{ ok: boolean; detail: string; shown: boolean }> {
    const backend = await this.chosen;
    if (backend.kind === 'none')
      // Asked for explicitly and impossible: a failure to report. In auto mode: simply not a desktop here.
      return { ok: this.options.mode !== 'on', detail: `no desktop banner: ${backend.why}`, shown: false };
    const key = `${n.topic}\u0000${n.level}\u0000${n.title}`;
    const now = this.now();
    const before = this.last.get(key);
    if (before !== undefined && now - before < REPEAT_MS)
      return { ok: true, detail: 'desktop banner not repeated within a minute', shown: false };
    this.last.set(key, now);
    if (this.last.size > 256) this.last.delete(this.last.keys().next().value as string);
    const r = await run(
      desktopCommand(backend, n),
      this.options.env ?? process.env,
      this.options.timeoutMs ?? 10_000,
    );
    return r.ok
      ? { ok: true, detail: `desktop banner via ${backend.kind}`, shown: true }
      : { ok: false, detail: `desktop banner failed: ${r.error}`, shown: false };
  }
}
