/**
 * The Settings tab's raw JSON view: the configuration in use with secrets hidden; a save sends only the keys
 * edited (PATCH /api/v1/config), then the tab is drawn again from what the daemon runs with.
 */
import type { ConfigPatch } from '../../shared/api-contracts.js';
import type { TabContext } from '../context.js';
import { errorText, h } from '../dom.js';
import { covers, isObj, type Obj, same, valueAt, withValue } from './settings-schema.js';

/** What a secret looks like in the raw JSON view: nothing of the token itself. */
const SECRET_SHOWN = '(set: hidden)';

/** Every dotted leaf of a configuration whose value differs from `before` (arrays compared whole). */
function diffLeaves(before: unknown, after: unknown, at = ''): string[] {
  if (isObj(before) && isObj(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
    return keys.flatMap((k) => diffLeaves(before[k], after[k], at ? `${at}.${k}` : k));
  }
  return same(before, after) ? [] : [at];
}

/**
 * What a raw JSON save said, kept across the redraw that follows it (the form shows the new values): the
 * raw view opens again with it.
 */
let rawNotice: string | null = null;

/**
 * The raw JSON view: the configuration in use with secrets hidden; a save sends only what was edited, then
 * the whole tab is drawn again from what the daemon now runs with.
 */
export function rawView(ctx: TabContext, config: Obj, secrets: string[]): HTMLElement {
  let shown = config;
  for (const k of secrets)
    if (typeof valueAt(shown, k) === 'string') shown = withValue(shown, k, SECRET_SHOWN);
  const area = h('textarea', {
    id: 'config',
    rows: '18',
    spellcheck: 'false',
    'aria-label': 'Configuration (JSON)',
  }) as HTMLTextAreaElement;
  area.value = JSON.stringify(shown, null, 2);
  const out = h(
    'div',
    { role: 'status', id: 'raw-answer' },
    rawNotice ? h('p', { id: 'raw-saved' }, rawNotice) : null,
  );
  const opened = rawNotice !== null;
  rawNotice = null;
  const save = h('button', { type: 'button', class: 'action', id: 'save-raw' }, 'Save raw JSON');
  save.addEventListener('click', async () => {
    out.replaceChildren(h('p', { class: 'muted' }, 'Saving…'));
    let parsed: unknown;
    try {
      parsed = JSON.parse(area.value);
    } catch (e) {
      out.replaceChildren(h('p', { class: 'error' }, `Not JSON: ${errorText(e)}`));
      return;
    }
    if (!isObj(parsed)) {
      out.replaceChildren(h('p', { class: 'error' }, 'The configuration is a JSON object.'));
      return;
    }
    const patch: ConfigPatch = { set: {}, unset: [] };
    for (const k of diffLeaves(shown, parsed)) {
      const v = valueAt(parsed, k);
      if (v === undefined) patch.unset!.push(k);
      else patch.set![k] = v;
    }
    if (!Object.keys(patch.set!).length && !patch.unset!.length) {
      out.replaceChildren(h('p', {}, 'Nothing changed.'));
      return;
    }
    const r = await ctx.client.patchConfig(patch);
    if (!r.ok) {
      out.replaceChildren(h('ul', { class: 'error' }, ...r.errors.map((e) => h('li', {}, e))));
      return;
    }
    const keys = [...Object.keys(patch.set!), ...patch.unset!];
    // The daemon lists every key waiting for a restart; these are the ones of this save.
    const waiting = keys.filter((k) => covers(r.restartRequired, k));
    rawNotice = `Saved ${keys.length} ${keys.length === 1 ? 'key' : 'keys'}: ${keys.join(', ')}.${
      waiting.length ? ` Takes effect when the daemon restarts: ${waiting.join(', ')}.` : ''
    }`;
    out.replaceChildren(h('p', { class: 'muted' }, 'Saved; reading it back…'));
    await ctx.refresh();
  });
  return h(
    'details',
    { id: 'raw-config', ...(opened ? { open: '' } : {}) },
    h('summary', {}, 'Raw JSON'),
    h(
      'p',
      { class: 'muted' },
      'The configuration in use, secrets hidden. Save sends only the keys you edit; a key you delete returns to its default.',
    ),
    area,
    save,
    out,
  );
}
