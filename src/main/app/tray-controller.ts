import type { Menu, MenuItemConstructorOptions, NativeImage, Tray } from 'electron';
import { buildMenuTemplate, type MenuActions } from './menu-template.js';
import { gpuPercent, type TrayState, type TrayView, trayState } from './tray-view.js';

export type TrayLike = Pick<Tray, 'setImage' | 'setToolTip' | 'setTitle' | 'setContextMenu'>;

/** A stable fingerprint of a menu template (labels, checks, visibility): rebuild only when it changes. */
const fingerprint = (t: MenuItemConstructorOptions[]): string =>
  JSON.stringify(t, (k, v: unknown) => (k === 'click' ? undefined : v));

/**
 * Keeps the menu-bar item in step with the daemon: the icon by state (template when calm), the key figure
 * in the title and tooltip, and the menu rebuilt when what it shows changes.
 */
export class TrayController {
  private state: TrayState | null = null;
  private menuKey = '';
  private title = '';
  menuBuilds = 0;

  constructor(
    private readonly tray: TrayLike,
    private readonly buildMenu: (template: MenuItemConstructorOptions[]) => Menu,
    private readonly image: (state: TrayState) => NativeImage | string,
    private readonly actions: MenuActions,
  ) {}

  update(v: TrayView): void {
    const s = trayState(v);
    if (s !== this.state) {
      this.state = s;
      this.tray.setImage(this.image(s));
    }
    const gpu = gpuPercent(v);
    const title = gpu !== null ? ` ${gpu}%` : '';
    if (title !== this.title) {
      this.title = title;
      this.tray.setTitle(title);
    }
    this.tray.setToolTip(
      `exo-sentinel: ${v.level.toUpperCase()}${gpu !== null ? ` — GPU ${gpu}% of the Metal ceiling` : ''}${v.hold ? ' — post-panic hold' : ''}`,
    );
    const template = buildMenuTemplate(v, this.actions);
    const key = fingerprint(template);
    if (key !== this.menuKey) {
      this.menuKey = key;
      this.menuBuilds++;
      this.tray.setContextMenu(this.buildMenu(template));
    }
  }

  /** A notification could not be shown (unsigned builds): say it in the title instead. */
  flag(text: string): void {
    this.title = ` ${text}`;
    this.tray.setTitle(this.title);
  }
}
