import type { RenderTab } from '../context.js';
import { h } from '../dom.js';
import { messageNodes } from '../format.js';

export const renderAdvisory: RenderTab = async (panel, ctx) => {
  const a = await ctx.client.advisory();
  const p = a.platform;
  panel.replaceChildren(
    h('h2', {}, 'Platform advisory'),
    h('p', {}, `${p.verdict}: `, ...messageNodes(p.summary)),
    ...(p.builds ?? []).map((b) =>
      h('p', { class: 'muted' }, `macOS ${b.macos} (${b.build}): ${(b.sources ?? []).join(' ')}`),
    ),
    h('h2', {}, 'Loaded models with public panic reports'),
    a.models.length
      ? h(
          'ul',
          {},
          ...a.models.map((m) =>
            h('li', {}, `${m.model} — ${m.kind} on ${m.hardware} (${m.workload}) ${m.source}`),
          ),
        )
      : h('p', { class: 'muted' }, 'None.'),
  );
};
