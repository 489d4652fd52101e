import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { buildMenuTemplate, type MenuActions } from './menu-template.js';
import type { BannerState, StickyAlert } from './notification-controller.js';
import { gpuPercent, type TrayState, type TrayView, trayState } from './tray-view.js';

export type TrayLike = Pick<Tray, 'setImage' | 'setToolTip' | 'setTitle' | 'setContextMenu'>;
export type MenuLike = Pick<Menu, 'on'>;

/** A stable fingerprint of a menu template (labels, checks, visibility): rebuild only when it changes. */
const fingerprint = (t: MenuItemConstructorOptions[]): string =>
  JSON.stringify(t, (k, v: unknown) => (k === 'click' ? undefined : v));

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * Keeps the menu-bar item in step with the daemon: the icon by state (template when calm), the key figure in
 * the title (monospaced digits, so the item does not jitter) and tooltip, and the menu rebuilt when what it
 * shows changes — but never while it is open (`menu-will-show` … `menu-will-close`): replacing an open menu
 * closes it under the person (electron#4796, #12803); the change lands at the first update after it closes.
 * An alert a banner could not show stays in the title and as the menu's first item until it is opened.
 */
export class TrayController {
  private state: TrayState | null = null;
  private menuKey = '';
  private title = '';
  private tooltip = '';
  private last: TrayView | null = null;
  private alert: StickyAlert | null = null;
  /** Referenced so the menu (and its items' click handlers) outlives the tick that built it. */
  menu: MenuLike | null = null;
  menuOpen = false;
  menuBuilds = 0;
  /** Rebuilds held back because the menu was open. */
  menuDeferred = 0;

  constructor(
    private readonly tray: TrayLike,
    private readonly buildMenu: (template: MenuItemConstructorOptions[]) => Menu,
    private readonly image: (state: TrayState) => NativeImage | string,
    private readonly actions: Omit<MenuActions, 'openAlert'>,
    private readonly banners: () => BannerState = () => 'unknown',
    /** Runs as the menu opens (e.g. re-reading the login item's status for the next build). */
    private readonly onMenuOpen: () => void = () => {},
  ) {}

  update(v: TrayView): void {
    this.last = v;
    const s = trayState(v);
    if (s !== this.state) {
      this.state = s;
      this.tray.setImage(this.image(s));
    }
    const gpu = gpuPercent(v);
    const title = this.alert ? ` ⚠ ${clip(this.alert.title, 24)}` : gpu !== null ? ` ${gpu}%` : '';
    if (title !== this.title) {
      this.title = title;
      this.tray.setTitle(title, { fontType: 'monospacedDigit' });
    }
    const tooltip = `exo-sentinel: ${v.level.toUpperCase()}${gpu !== null ? ` — GPU ${gpu}% of the Metal ceiling` : ''}${v.hold ? ' — post-panic hold' : ''}${this.alert ? ` — alert: ${this.alert.title}` : ''}`;
    if (tooltip !== this.tooltip) {
      this.tooltip = tooltip;
      this.tray.setToolTip(tooltip);
    }
    const full: TrayView = {
      ...v,
      alert: this.alert ? { title: this.alert.title, body: this.alert.body, time: this.alert.time } : null,
      banners: this.banners(),
    };
    const template = buildMenuTemplate(full, { ...this.actions, openAlert: () => this.openAlert() });
    const key = fingerprint(template);
    if (key === this.menuKey) return;
    if (this.menuOpen) {
      this.menuDeferred++;
      return;
    }
    this.menuKey = key;
    this.menuBuilds++;
    const menu = this.buildMenu(template);
    menu.on('menu-will-show', () => {
      this.menuOpen = true;
      this.onMenuOpen();
    });
    menu.on('menu-will-close', () => {
      this.menuOpen = false;
    });
    this.menu = menu;
    this.tray.setContextMenu(menu);
  }

  /** The alert that would otherwise be lost (its banner failed or cannot be shown), kept until opened. */
  raise(alert: StickyAlert): void {
    this.alert = alert;
    if (this.last) this.update(this.last);
  }

  /** The current sticky alert, if any. */
  get pendingAlert(): StickyAlert | null {
    return this.alert;
  }

  /** Opens the alert's view; it has now been seen. */
  openAlert(): void {
    const a = this.alert;
    if (!a) return;
    this.alert = null;
    this.actions.openDashboard(a.view);
    a.onSeen?.();
    if (this.last) this.update(this.last);
  }
}
