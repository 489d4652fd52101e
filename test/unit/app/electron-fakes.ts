// Fakes of the Electron objects the shell uses, typed against electron.d.ts and behaving as Electron documents
// them (not as would be convenient): notifications are garbage-collected with their handlers unless referenced,
// unsigned apps get `failed` for every banner, menus say `menu-will-show`/`menu-will-close`, and login items
// report macOS 13+ states (`requires-approval` with `openAtLogin: false`).
import type {
  App,
  LoginItemSettings,
  Menu,
  MenuItemConstructorOptions,
  NativeImage,
  NotificationConstructorOptions,
  PowerSaveBlocker,
  Settings,
  TitleOptions,
} from 'electron';
import type { NotificationLike } from '../../../src/main/app/notification-controller.js';
import type { TrayLike } from '../../../src/main/app/tray-controller.js';

export { collectGarbage } from '../../support/collect-garbage.js';

type Listener = (...args: unknown[]) => void;

class Emitter {
  protected readonly listeners = new Map<string, Listener[]>();
  on(event: string, fn: Listener): this {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), fn]);
    return this;
  }
  emit(event: string, ...args: unknown[]): void {
    for (const fn of this.listeners.get(event) ?? []) fn(...args);
  }
}

export class FakeMenu extends Emitter {
  constructor(readonly template: MenuItemConstructorOptions[]) {
    super();
  }
  label(prefix: string): MenuItemConstructorOptions | undefined {
    return this.template.find((i) => i.label?.startsWith(prefix));
  }
  click(prefix: string): void {
    const item = this.label(prefix);
    if (!item?.click) throw new Error(`no clickable item "${prefix}…"`);
    (item.click as () => void)();
  }
}
export const fakeMenu = (template: MenuItemConstructorOptions[]): Menu =>
  new FakeMenu(template) as unknown as Menu;
const asMenu = (m: unknown): FakeMenu => m as FakeMenu;

/** The menu-bar item. `open()`/`close()` do what clicking it does: the menu says will-show, then will-close. */
export class FakeTray implements TrayLike {
  images: string[] = [];
  titles: Array<[string, TitleOptions | undefined]> = [];
  tooltips: string[] = [];
  menus: FakeMenu[] = [];
  setImage(image: NativeImage | string): void {
    this.images.push(String(image));
  }
  setTitle(title: string, options?: TitleOptions): void {
    this.titles.push([title, options]);
  }
  setToolTip(tip: string): void {
    this.tooltips.push(tip);
  }
  setContextMenu(menu: Menu | null): void {
    if (menu) this.menus.push(asMenu(menu));
  }
  get menu(): FakeMenu {
    const m = this.menus.at(-1);
    if (!m) throw new Error('no menu set');
    return m;
  }
  get title(): string | undefined {
    return this.titles.at(-1)?.[0];
  }
  open(): FakeMenu {
    const m = this.menu;
    m.emit('menu-will-show', {});
    return m;
  }
  close(m: FakeMenu): void {
    m.emit('menu-will-close', {});
  }
}

/**
 * Notification Center. It holds each notification only weakly, as Electron's main process does: a
 * notification nothing else references is collected with its handlers and its click goes nowhere. An
 * unsigned app (Electron ≥ 42 uses UNUserNotificationCenter) gets `failed` for every banner.
 */
export class FakeNotificationCenter {
  private readonly posted: Array<WeakRef<FakeNotification>> = [];
  created: NotificationConstructorOptions[] = [];
  constructor(readonly signed: boolean) {}

  create = (options: NotificationConstructorOptions): NotificationLike => {
    this.created.push(options);
    const n = new FakeNotification(options, this);
    return n as unknown as NotificationLike;
  };

  /** Called by show(): an unsigned app's banner fails at once, a signed one is displayed. */
  post(n: FakeNotification): void {
    this.posted.push(new WeakRef(n));
    queueMicrotask(() =>
      this.signed
        ? n.emit('show', {})
        : n.emit('failed', {}, 'Notifications are not allowed for this application'),
    );
  }

  /** The person clicks the banner titled `title`: true when a live notification object received it. */
  click(title: string): boolean {
    const n = this.posted.map((r) => r.deref()).find((x) => x?.options.title === title);
    if (!n) return false;
    n.emit('click', {});
    return true;
  }
  alive(): number {
    return this.posted.filter((r) => r.deref() !== undefined).length;
  }
}

export class FakeNotification extends Emitter {
  constructor(
    readonly options: NotificationConstructorOptions,
    private readonly center: FakeNotificationCenter,
  ) {
    super();
  }
  show(): void {
    this.center.post(this);
  }
}

/**
 * Login Items on macOS 13+ (SMAppService.mainApp): registering puts the item in `requires-approval` until the
 * person allows it in System Settings, and Electron then reports `openAtLogin: false`; allowed, it is
 * `enabled` with `openAtLogin: true`; unregistering makes it `not-registered`.
 */
export class FakeLoginItems implements Pick<App, 'getLoginItemSettings' | 'setLoginItemSettings'> {
  status: 'not-registered' | 'enabled' | 'requires-approval' | 'not-found' = 'not-registered';
  reads = 0;
  sets: Settings[] = [];
  getLoginItemSettings(): LoginItemSettings {
    this.reads++;
    return {
      openAtLogin: this.status === 'enabled',
      status: this.status,
      executableWillLaunchAtLogin: this.status === 'enabled',
      launchItems: [],
      openAsHidden: false,
      restoreState: false,
      wasOpenedAsHidden: false,
      wasOpenedAtLogin: false,
    } as unknown as LoginItemSettings;
  }
  setLoginItemSettings(settings: Settings): void {
    this.sets.push(settings);
    this.status = settings.openAtLogin ? 'requires-approval' : 'not-registered';
  }
  /** The person allows the item in System Settings › Login Items. */
  approve(): void {
    if (this.status === 'requires-approval') this.status = 'enabled';
  }
}

export class FakePowerSaveBlocker implements Pick<PowerSaveBlocker, 'start' | 'stop' | 'isStarted'> {
  private next = 0;
  readonly active = new Map<number, string>();
  start(type: 'prevent-app-suspension' | 'prevent-display-sleep'): number {
    this.active.set(++this.next, type);
    return this.next;
  }
  stop(id: number): boolean {
    return this.active.delete(id);
  }
  isStarted(id: number): boolean {
    return this.active.has(id);
  }
}
