/**
 * The Settings tab: a form generated from the configuration's JSON Schema (GET /api/v1/config/schema), one
 * field per key grouped by section, with the key's help text, its default, and marks for what waits for a
 * restart or only the file may set. Secrets are never shown: only whether one is set. Save sends only the
 * keys changed (PATCH /api/v1/config) and shows the daemon's answer beside each field.
 */
import type { ConfigPatch, ConfigSaveResult, JsonSchemaNode } from '../../shared/api-contracts.js';
import type { RenderTab, TabContext } from '../context.js';
import { errorText, h } from '../dom.js';
import { buildField, type Field } from './settings-field.js';
import { rawView } from './settings-raw.js';
import { covers, leaves, valueAt } from './settings-schema.js';

/** The section a key belongs to: its first part, or General for top-level values. */
const sectionOf = (key: string): string => (key.includes('.') ? key.slice(0, key.indexOf('.')) : 'general');

/** The dotted key a daemon's message names (`config: "guard.queue.max" is …`), if it is one of ours. */
function keyNamed(message: string, keys: string[]): string | null {
  for (const m of message.matchAll(/"([A-Za-z$][A-Za-z0-9.$]*)"/g)) {
    let k = m[1]!;
    while (k) {
      if (keys.includes(k)) return k;
      const dot = k.lastIndexOf('.');
      if (dot < 0) break;
      k = k.slice(0, dot);
    }
    const child = keys.find((x) => x.startsWith(`${m[1]}.`));
    if (child) return child;
  }
  return null;
}

/** Shows a save's answer beside each field it concerns; the rest in the form's own line. */
function showAnswer(fields: Field[], changed: Field[], r: ConfigSaveResult, out: HTMLElement): void {
  const keys = fields.map((f) => f.spec.key);
  for (const f of fields) f.answer('', null);
  if (!r.ok) {
    const loose: string[] = [];
    // A message naming a section (`"risk" … needs the token`) goes beside the field changed in it.
    const changedKeys = changed.map((f) => f.spec.key);
    for (const e of r.errors) {
      const k = keyNamed(e, changedKeys) ?? keyNamed(e, keys);
      const f = k ? fields.find((x) => x.spec.key === k) : undefined;
      if (f) f.answer(e, 'error');
      else loose.push(e);
    }
    // replaceChildren writes a null as the text "null": only the parts there are.
    const refused = h('p', { class: 'error', id: 'config-refused' }, 'Not saved: the daemon refused it.');
    if (loose.length)
      out.replaceChildren(
        refused,
        h('ul', { class: 'error', id: 'config-errors' }, ...loose.map((e) => h('li', {}, e))),
      );
    else out.replaceChildren(refused);
    return;
  }
  for (const f of changed) {
    const k = f.spec.key;
    f.commit();
    if (covers(r.restartRequired, k)) f.answer('Saved; takes effect when the daemon restarts.', 'pending');
    else if (covers(r.applied, k)) f.answer('Saved and applied.', 'ok');
    else f.answer('Saved; the daemon runs with it already (a flag may override it).', 'ok');
  }
  out.replaceChildren(
    h(
      'p',
      { id: 'config-saved' },
      `Saved ${changed.length} ${changed.length === 1 ? 'key' : 'keys'}: ${changed.map((f) => f.spec.key).join(', ')}.`,
    ),
  );
}

/** What the form's fields ask to change, or the fields that are not valid. */
function collectPatch(fields: Field[]): { patch: ConfigPatch; changed: Field[]; invalid: boolean } {
  const patch: ConfigPatch = { set: {}, unset: [] };
  const changed: Field[] = [];
  let invalid = false;
  for (const f of fields) {
    f.answer('', null);
    const c = f.change();
    if (!c) continue;
    if ('error' in c) {
      f.answer(c.error, 'error');
      invalid = true;
    } else {
      changed.push(f);
      if ('unset' in c) patch.unset!.push(f.spec.key);
      else patch.set![f.spec.key] = c.set;
    }
  }
  return { patch, changed, invalid };
}

/** The fields grouped by section, each section with its description from the schema. */
function sectionsOf(fields: Field[], schema: JsonSchemaNode): HTMLElement[] {
  const sections = new Map<string, Field[]>();
  for (const f of fields) {
    const name = sectionOf(f.spec.key);
    sections.set(name, [...(sections.get(name) ?? []), f]);
  }
  return [...sections].map(([name, list]) => {
    const top = schema.properties?.[name];
    return h(
      'fieldset',
      { class: 'section', 'data-section': name },
      h('legend', {}, name),
      top?.description && name !== 'general' ? h('p', { class: 'help' }, top.description) : null,
      ...list.map((f) => f.row),
    );
  });
}

/** The form: its sections, a Save button and the answer line; a submit sends only the changed keys. */
function settingsForm(ctx: TabContext, fields: Field[], schema: JsonSchemaNode): HTMLElement {
  const form = h('form', { id: 'settings-form', novalidate: '' }, ...sectionsOf(fields, schema));
  const out = h('div', { role: 'status', id: 'config-answer' });
  const save = h('button', { type: 'submit', class: 'action', id: 'save-config' }, 'Save changes');
  form.append(h('div', { class: 'form-actions' }, save, out));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // The last answer goes at once: what shows next is this save's.
    out.replaceChildren(h('p', { class: 'muted', id: 'config-saving' }, 'Saving…'));
    const { patch, changed, invalid } = collectPatch(fields);
    if (invalid) {
      out.replaceChildren(h('p', { class: 'error' }, 'Not saved: a field is not valid.'));
      return;
    }
    if (!changed.length) {
      out.replaceChildren(h('p', { id: 'config-unchanged' }, 'Nothing changed.'));
      return;
    }
    save.setAttribute('disabled', '');
    try {
      showAnswer(fields, changed, await ctx.client.patchConfig(patch), out);
    } catch (err) {
      out.replaceChildren(h('p', { class: 'error' }, `Not saved: ${errorText(err)}`));
    } finally {
      save.removeAttribute('disabled');
    }
  });
  return form;
}

export const renderSettings: RenderTab = async (panel, ctx) => {
  const [view, schema] = await Promise.all([
    ctx.client.config(),
    ctx.client.configSchema().catch((e: unknown) => new Error(errorText(e))),
  ]);
  const head = [h('h2', {}, 'Settings'), h('p', { class: 'muted', id: 'config-path' }, view.path)];
  if (schema instanceof Error) {
    panel.replaceChildren(
      ...head,
      h(
        'p',
        { class: 'why' },
        `This daemon does not describe its settings (${schema.message}); raw JSON only.`,
      ),
      rawView(ctx, view.config, ['guard.token', 'cluster.token']),
    );
    return;
  }
  const specs = leaves(schema, '');
  const fields = specs.map((s) => buildField(s, valueAt(view.config, s.key)));
  const secrets = specs.filter((s) => s.secret).map((s) => s.key);
  panel.replaceChildren(
    ...head,
    h(
      'p',
      { class: 'muted' },
      'Each key with its default; “restart” marks what a running daemon takes at its next start. Secrets are never shown. Save sends only what you changed.',
    ),
    settingsForm(ctx, fields, schema),
    rawView(ctx, view.config, secrets),
  );
};
