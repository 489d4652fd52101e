import type { ClusterRowView } from '../../shared/api-contracts.js';
import type { RenderTab } from '../context.js';
import { h, table, tr } from '../dom.js';
import { bytes, messageNodes, percent } from '../format.js';

/**
 * Where a row comes from. What a node found only through EXO's topology says of itself is its own claim: any
 * machine that joins the EXO cluster (or answers at that address) can say it is critical, or fine.
 */
function sourceText(r: ClusterRowView): string {
  if (r.source === 'self') return 'this host';
  if (r.source === 'configured') return `cluster.peers: ${r.url ?? '?'}`;
  return `unverified: found in EXO's topology at ${r.url ?? '?'}`;
}

export const renderCluster: RenderTab = async (panel, ctx) => {
  const c = await ctx.client.cluster();
  const rows = (c.rows ?? []).map((r) =>
    tr(
      { 'data-source': r.source },
      h('span', {}, r.host, h('br'), h('small', { class: 'muted' }, sourceText(r))),
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
