import { type EventView, GUARD_PROFILES, type GuardProfile } from '../../shared/api-contracts.js';
import type { RenderTab, TabContext } from '../context.js';
import { errorText, h, table } from '../dom.js';
import { bytes, messageNodes, timeEl } from '../format.js';
import { pager } from '../pager.js';

const DAY_MS = 24 * 3_600_000;

export const renderGuard: RenderTab = async (panel, ctx) => {
  const since = Date.now() - DAY_MS;
  // Newest first, one bounded page at a time.
  const page = await ctx.client.events('guard.request', since);
  const decisionRow = (e: EventView): HTMLElement => {
    const d = (e.data ?? {}) as {
      decision?: string;
      status?: number;
      endpoint?: string;
      promptTokensEstimated?: number;
      kvBytesEstimated?: number;
      reason?: string;
    };
    return h(
      'tr',
      { 'data-event': String(e.id) },
      h('td', {}, timeEl(e.time)),
      h('td', {}, d.decision ?? '—'),
      h('td', {}, d.status === undefined ? '—' : String(d.status)),
      h('td', {}, d.endpoint ?? '—'),
      h('td', {}, d.promptTokensEstimated === undefined ? '—' : String(d.promptTokensEstimated)),
      h('td', {}, bytes(d.kvBytesEstimated)),
      h('td', {}, ...messageNodes(d.reason ?? '')),
    );
  };
  const list = table(
    { id: 'guard-decisions' },
    ['Time', 'Decision', 'Status', 'Endpoint', 'Prompt ≈', 'KV ≈', 'Reason'],
    page.items.map(decisionRow),
  );
  const s = ctx.status();
  const guard = s?.guard ?? null;
  panel.replaceChildren(
    h('h2', {}, 'Guard decisions (24 h)'),
    h(
      'p',
      { class: 'muted', id: 'guard-summary' },
      guard
        ? `Listening on ${guard.host}:${guard.port} → ${guard.upstream}; mode ${s?.guardMode ?? '—'}`
        : 'The guard is off: enable guard in the configuration to put it in front of EXO.',
    ),
    await guardProfileControl(ctx),
    guardModeControl(ctx),
    list.wrap,
    pager(
      list.table,
      page,
      (before) => ctx.client.events('guard.request', since, before),
      decisionRow,
      'Older decisions',
    ),
  );
};

const PROFILE_HELP: Record<GuardProfile, string> = {
  protect: 'Protect: serialise while EXO’s wired limit is active on an affected Mac (the default)',
  balanced: 'Balanced: serialise only when the risk level asks',
  observe: 'Observe: record and warn, never hold requests back',
};

/** The guard profile (protect / balanced / observe), when the daemon serves it. */
async function guardProfileControl(ctx: TabContext): Promise<HTMLElement> {
  const note = h('span', { class: 'muted', id: 'guard-profile-note', role: 'status' });
  let current: GuardProfile | null = null;
  try {
    current = await ctx.client.guardProfile();
  } catch (e) {
    note.textContent = `This daemon does not offer the guard profile here (${errorText(e)}); use exo-sentinel guard profile.`;
  }
  const select = h(
    'select',
    { id: 'guard-profile', 'aria-label': 'Guard profile' },
    ...GUARD_PROFILES.map((p) => {
      const o = h('option', { value: p }, PROFILE_HELP[p]) as HTMLOptionElement;
      o.selected = p === current;
      return o;
    }),
  ) as HTMLSelectElement;
  select.disabled = current === null;
  select.addEventListener('change', () => {
    const asked = select.value as GuardProfile;
    void ctx.client.setGuardProfile(asked).then(
      (now) => {
        select.value = now;
        note.textContent = `profile ${now} in effect`;
      },
      (e: unknown) => {
        note.textContent = `Not changed: ${errorText(e)}`;
        if (current) select.value = current;
      },
    );
  });
  return h('p', {}, h('label', { for: 'guard-profile' }, 'Profile: '), select, ' ', note);
}

const GUARD_OPTIONS: Array<[string, string]> = [
  ['auto', 'Automatic, by risk level'],
  ['open', 'Open'],
  ['serialise', 'Serialise requests'],
  ['refuse-new', 'Refuse new requests'],
  ['cancel-newest', 'Cancel the newest request'],
];

/** Pins the guard's mode by hand, or lets the risk level choose it (`auto`). */
function guardModeControl(ctx: TabContext): HTMLElement {
  const override = ctx.status()?.guardOverride ?? null;
  const select = h(
    'select',
    { id: 'guard-mode', 'aria-label': 'Guard mode' },
    ...GUARD_OPTIONS.map(([value, label]) => {
      const o = h('option', { value }, label) as HTMLOptionElement;
      o.selected = value === (override ?? 'auto');
      return o;
    }),
  ) as HTMLSelectElement;
  const note = h('span', { class: 'muted', id: 'guard-mode-note', role: 'status' });
  select.addEventListener('change', () => {
    const asked = select.value;
    void ctx.client
      .setGuardMode(asked)
      .then(async () => {
        await ctx.refresh();
        const n = document.getElementById('guard-mode-note');
        if (n) n.textContent = asked === 'auto' ? 'following the risk level' : 'pinned by hand';
      })
      .catch((e: unknown) => {
        note.textContent = errorText(e);
      });
  });
  return h('p', {}, h('label', { for: 'guard-mode' }, 'Mode: '), select, ' ', note);
}
