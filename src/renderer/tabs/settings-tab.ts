import type { RenderTab } from '../context.js';
import { h } from '../dom.js';

export const renderSettings: RenderTab = async (panel, ctx) => {
  const c = await ctx.client.config();
  const area = h('textarea', {
    id: 'config',
    spellcheck: 'false',
    'aria-label': 'Configuration (JSON)',
  }) as HTMLTextAreaElement;
  area.value = JSON.stringify(c.config, null, 2);
  const out = h('div', { role: 'status' });
  const save = h('button', { type: 'button', class: 'action', id: 'save-config' }, 'Save');
  save.addEventListener('click', async () => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(area.value);
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, `Not JSON: ${(e as Error).message}`));
      return;
    }
    const r = await ctx.client.saveConfig(parsed);
    out.replaceChildren(
      r.ok
        ? h('p', { id: 'config-saved' }, 'Saved. It takes effect when the daemon restarts.')
        : h('ul', { class: 'error', id: 'config-errors' }, ...r.errors.map((e) => h('li', {}, e))),
    );
  });
  panel.replaceChildren(
    h('h2', {}, 'Settings'),
    h('p', { class: 'muted' }, c.path),
    h(
      'p',
      { class: 'muted' },
      'Tokens are shown masked; leave a mask as it is to keep that token. Programs to run (actions.notify.command, gpu.mlxPython) are set only by editing the file.',
    ),
    area,
    save,
    out,
  );
};
