import type { RenderTab } from '../context.js';
import { h, table, tr } from '../dom.js';
import { bytes, messageNodes, percent } from '../format.js';

export const renderCluster: RenderTab = async (panel, ctx) => {
  const c = await ctx.client.cluster();
  const rows = (c.rows ?? []).map((r) =>
    tr(
      {},
      r.host,
      r.reachable ? (r.level ?? '—') : `unreachable: ${r.error ?? 'no answer'}`,
      percent(r.memory?.freePercent),
      r.gpu?.ceilingBytes == null
        ? `${bytes(r.gpu?.inUseBytes)} (no ceiling known)`
        : `${bytes(r.gpu.inUseBytes)} / ${bytes(r.gpu.ceilingBytes)}`,
      r.panics72h === null ? '—' : String(r.panics72h),
      h('span', {}, ...(r.reasons ?? []).flatMap((x, i) => [i ? '; ' : '', ...messageNodes(x.message)])),
    ),
  );
  panel.replaceChildren(
    h('h2', {}, 'Cluster'),
    table(
      { id: 'cluster' },
      ['Host', 'Level', 'Free', 'GPU in use', 'Panics 72 h', 'Reasons'],
      rows,
      'No nodes known.',
    ).wrap,
  );
};
