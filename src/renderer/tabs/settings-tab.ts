/**
 * The Settings tab: a form generated from the configuration's JSON Schema (GET /api/v1/config/schema), one
 * field per key grouped by section, with the key's help text, its default, and marks for what waits for a
 * restart or only the file may set. Secrets are never shown: only whether one is set. Save sends only the
 * keys changed (PATCH /api/v1/config) and shows the daemon's answer beside each field.
 */
import type { ConfigPatch, ConfigSaveResult, JsonSchemaNode } from '../../shared/api-contracts.js';
import type { RenderTab, TabContext } from '../context.js';
import { errorText, h } from '../dom.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** What a secret looks like in the raw JSON view: nothing of the token itself. */
const SECRET_SHOWN = '(set: hidden)';

function valueAt(o: unknown, dotted: string): unknown {
  let cur = o;
  for (const k of dotted.split('.')) {
    if (!isObj(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

function withValue(o: Obj, dotted: string, v: unknown): Obj {
  const [head, ...rest] = dotted.split('.');
  const key = head!;
  if (rest.length === 0) return { ...o, [key]: v };
  return { ...o, [key]: withValue(isObj(o[key]) ? o[key] : {}, rest.join('.'), v) };
}

/** The kinds of input a schema node maps to. */
type Kind = 'boolean' | 'enum' | 'number' | 'integer' | 'string' | 'lines' | 'json';

interface FieldSpec {
  key: string;
  node: JsonSchemaNode;
  /** The node without its `null` alternative. */
  base: JsonSchemaNode;
  nullable: boolean;
  kind: Kind;
  secret: boolean;
  fileOnly: boolean;
  restart: boolean;
}

const typeOf = (n: JsonSchemaNode): string | undefined => (Array.isArray(n.type) ? n.type[0] : n.type);

function spec(key: string, node: JsonSchemaNode): FieldSpec {
  const alts = node.anyOf ?? [];
  const nonNull = alts.filter((a) => typeOf(a) !== 'null');
  const nullable = alts.length > nonNull.length;
  const base: JsonSchemaNode = nonNull.length === 1 ? { ...node, ...nonNull[0] } : node;
  const t = typeOf(base);
  const kind: Kind = base.enum
    ? 'enum'
    : t === 'boolean'
      ? 'boolean'
      : t === 'integer'
        ? 'integer'
        : t === 'number'
          ? 'number'
          : t === 'string'
            ? 'string'
            : t === 'array' && typeOf(base.items ?? {}) === 'string'
              ? 'lines'
              : 'json';
  return {
    key,
    node,
    base,
    nullable,
    kind,
    secret: node['x-secret'] === true || node.writeOnly === true,
    fileOnly: node['x-file-only'] === true,
    restart: node['x-restart-required'] === true,
  };
}

/** Leaves of the schema under `node` (objects with properties are walked, not fields). */
function leaves(node: JsonSchemaNode, at: string): FieldSpec[] {
  const out: FieldSpec[] = [];
  for (const [k, child] of Object.entries(node.properties ?? {})) {
    if (k === '$schema') continue;
    const key = at ? `${at}.${k}` : k;
    if (child.properties && typeOf(child) === 'object') out.push(...leaves(child, key));
    else out.push(spec(key, child));
  }
  return out;
}

const shownValue = (v: unknown): string =>
  v === null || v === undefined ? 'none' : Array.isArray(v) ? v.join(', ') || 'none' : String(v);

function limits(b: JsonSchemaNode): string | null {
  const lo = b.minimum ?? (b.exclusiveMinimum !== undefined ? `> ${b.exclusiveMinimum}` : undefined);
  const hi = b.maximum !== undefined && b.maximum < Number.MAX_SAFE_INTEGER ? b.maximum : undefined;
  if (lo === undefined && hi === undefined) return null;
  if (typeof lo === 'string') return hi === undefined ? lo : `${lo}, ≤ ${hi}`;
  return lo !== undefined && hi !== undefined ? `${lo} to ${hi}` : lo !== undefined ? `≥ ${lo}` : `≤ ${hi}`;
}

/** One field on screen: reads its input back as a value, says whether it changed, shows an answer. */
interface Field {
  spec: FieldSpec;
  row: HTMLElement;
  /** The change this field asks for, or null when there is none (or it is invalid: `error`). */
  change(): { set: unknown } | { unset: true } | { error: string } | null;
  /** After a save: the value sent is the new starting point. */
  commit(): void;
  answer(text: string, kind: 'ok' | 'error' | 'pending' | null): void;
}

const inputId = (key: string): string => `cfg-${key.replaceAll('.', '-')}`;

function buildField(s: FieldSpec, current: unknown): Field {
  const id = inputId(s.key);
  const answerEl = h('div', { class: 'answer', id: `${id}-answer`, 'aria-live': 'polite' });
  const helpId = `${id}-help`;
  const label = s.key.includes('.') ? s.key.slice(s.key.indexOf('.') + 1) : s.key;
  const marks: HTMLElement[] = [];
  if (s.restart)
    marks.push(
      h('span', { class: 'mark restart', title: 'a running daemon takes this at its next start' }, 'restart'),
    );
  if (s.secret) marks.push(h('span', { class: 'mark secret' }, 'secret'));
  if (s.fileOnly) marks.push(h('span', { class: 'mark file-only' }, 'file only'));

  const helpParts: string[] = [];
  if (s.node.description) helpParts.push(s.node.description);
  if (!s.secret && !s.fileOnly) helpParts.push(`Default: ${shownValue(s.node.default)}.`);
  const lim = limits(s.base);
  if (lim && !s.fileOnly) helpParts.push(`Range: ${lim}.`);
  if (s.nullable && !s.secret && !s.fileOnly && s.kind !== 'boolean' && s.kind !== 'enum')
    helpParts.push('Empty means none.');
  if (s.fileOnly)
    helpParts.push(
      'It names a program to run, so only editing the configuration file sets it; the daemon refuses it from here.',
    );
  const help = h('div', { class: 'help', id: helpId }, helpParts.join(' '));

  let control: HTMLElement;
  let read: () => { value: unknown } | { error: string } | 'unset';
  let initial: unknown = current;
  let reset: () => void = () => {};

  if (s.fileOnly) {
    control = h('output', { id, class: 'readonly', 'aria-describedby': helpId }, shownValue(current));
    read = () => ({ value: initial });
  } else if (s.secret) {
    let isSet = typeof current === 'string' && current.length > 0;
    const state = h('span', { class: 'secret-state', id: `${id}-state` }, isSet ? 'set' : 'not set');
    const input = h('input', {
      id,
      type: 'password',
      autocomplete: 'new-password',
      placeholder: isSet ? 'type a new one to replace it' : 'type one to set it',
      'aria-describedby': helpId,
    }) as HTMLInputElement;
    const clear = h('input', { type: 'checkbox', id: `${id}-clear` }) as HTMLInputElement;
    const clearLabel = h('label', { class: 'inline', for: `${id}-clear` }, clear, ' remove');
    clearLabel.hidden = !isSet;
    control = h('div', { class: 'secret' }, state, input, clearLabel);
    read = () =>
      clear.checked ? { value: null } : input.value ? { value: input.value } : { value: initial };
    reset = () => {
      isSet = clear.checked ? false : input.value ? true : isSet;
      state.textContent = isSet ? 'set' : 'not set';
      clearLabel.hidden = !isSet;
      input.value = '';
      clear.checked = false;
      input.placeholder = isSet ? 'type a new one to replace it' : 'type one to set it';
    };
    initial = Symbol('unchanged');
  } else if (s.kind === 'boolean') {
    const input = h('input', { id, type: 'checkbox', 'aria-describedby': helpId }) as HTMLInputElement;
    input.checked = current === true;
    control = input;
    read = () => ({ value: input.checked });
  } else if (s.kind === 'enum') {
    const options = [...(s.nullable ? [null] : []), ...(s.base.enum ?? [])];
    const select = h(
      'select',
      { id, 'aria-describedby': helpId },
      ...options.map((o) => h('option', { value: JSON.stringify(o) }, shownValue(o))),
    ) as HTMLSelectElement;
    select.value = JSON.stringify(current ?? null);
    control = select;
    read = () => ({ value: JSON.parse(select.value) as unknown });
  } else if (s.kind === 'number' || s.kind === 'integer') {
    const attrs: Record<string, string> = {
      id,
      type: 'number',
      step: s.kind === 'integer' ? '1' : 'any',
      'aria-describedby': helpId,
    };
    if (s.base.minimum !== undefined) attrs['min'] = String(s.base.minimum);
    if (s.base.maximum !== undefined && s.base.maximum < Number.MAX_SAFE_INTEGER)
      attrs['max'] = String(s.base.maximum);
    if (s.nullable) attrs['placeholder'] = 'none';
    const input = h('input', attrs) as HTMLInputElement;
    input.value = typeof current === 'number' ? String(current) : '';
    control = input;
    read = () => {
      const t = input.value.trim();
      if (t === '') return s.nullable ? { value: null } : 'unset';
      const n = Number(t);
      return Number.isFinite(n) ? { value: n } : { error: 'not a number' };
    };
  } else if (s.kind === 'string') {
    const input = h('input', {
      id,
      type: 'text',
      spellcheck: 'false',
      'aria-describedby': helpId,
      ...(s.nullable ? { placeholder: 'none' } : {}),
    }) as HTMLInputElement;
    input.value = typeof current === 'string' ? current : '';
    control = input;
    read = () => (input.value === '' ? (s.nullable ? { value: null } : 'unset') : { value: input.value });
  } else if (s.kind === 'lines') {
    const area = h('textarea', {
      id,
      rows: '3',
      spellcheck: 'false',
      'aria-describedby': helpId,
      ...(s.nullable ? { placeholder: 'none' } : {}),
    }) as HTMLTextAreaElement;
    area.value = Array.isArray(current) ? current.join('\n') : '';
    control = area;
    read = () => {
      const lines = area.value
        .split('\n')
        .map((l) => l.trim())
        .filter((l) => l.length > 0);
      return { value: lines.length === 0 && s.nullable ? null : lines };
    };
  } else {
    const area = h('textarea', {
      id,
      rows: '3',
      spellcheck: 'false',
      'aria-describedby': helpId,
    }) as HTMLTextAreaElement;
    area.value = JSON.stringify(current ?? null, null, 2);
    control = area;
    read = () => {
      try {
        return { value: JSON.parse(area.value) as unknown };
      } catch {
        return { error: 'not JSON' };
      }
    };
  }

  const labelEl = h('label', { for: id }, label);
  const row = h(
    'div',
    {
      class: `field kind-${s.kind}`,
      'data-key': s.key,
      ...(s.restart ? { 'data-restart': 'true' } : {}),
      ...(s.secret ? { 'data-secret': 'true' } : {}),
      ...(s.fileOnly ? { 'data-file-only': 'true' } : {}),
    },
    h('div', { class: 'field-head' }, labelEl, ...marks),
    control,
    help,
    answerEl,
  );
  let sent: unknown;
  const field: Field = {
    spec: s,
    row,
    change() {
      if (s.fileOnly) return null;
      const r = read();
      if (r === 'unset') {
        sent = s.node.default;
        return same(initial, s.node.default) && !isObj(initial) ? null : { unset: true };
      }
      if ('error' in r) return r;
      if (s.secret && typeof initial === 'symbol' && r.value === initial) return null;
      if (!s.secret && same(r.value, initial)) return null;
      sent = r.value;
      return { set: r.value };
    },
    commit() {
      if (!s.secret) initial = sent;
      reset();
    },
    answer(text, kind) {
      answerEl.textContent = text;
      answerEl.className = `answer${kind ? ` ${kind}` : ''}`;
      if (kind === 'error') control.setAttribute('aria-invalid', 'true');
      else control.removeAttribute('aria-invalid');
    },
  };
  return field;
}

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

const covers = (list: string[], key: string): boolean =>
  list.some((k) => k === key || key.startsWith(`${k}.`) || k.startsWith(`${key}.`));

/** Shows a save's answer beside each field it concerns; the rest in the form's own line. */
function showAnswer(fields: Field[], changed: Field[], r: ConfigSaveResult, out: HTMLElement): void {
  const keys = fields.map((f) => f.spec.key);
  for (const f of fields) f.answer('', null);
  if (!r.ok) {
    const loose: string[] = [];
    for (const e of r.errors) {
      const k = keyNamed(e, keys);
      const f = k ? fields.find((x) => x.spec.key === k) : undefined;
      if (f) f.answer(e, 'error');
      else loose.push(e);
    }
    out.replaceChildren(
      h('p', { class: 'error', id: 'config-refused' }, 'Not saved: the daemon refused it.'),
      loose.length
        ? h('ul', { class: 'error', id: 'config-errors' }, ...loose.map((e) => h('li', {}, e)))
        : null,
    );
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
function rawView(ctx: TabContext, config: Obj, secrets: string[]): HTMLElement {
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
  const sections = new Map<string, Field[]>();
  for (const f of fields) {
    const name = sectionOf(f.spec.key);
    sections.set(name, [...(sections.get(name) ?? []), f]);
  }
  const form = h('form', { id: 'settings-form', novalidate: '' });
  for (const [name, list] of sections) {
    const top = schema.properties?.[name];
    form.append(
      h(
        'fieldset',
        { class: 'section', 'data-section': name },
        h('legend', {}, name),
        top?.description && name !== 'general' ? h('p', { class: 'help' }, top.description) : null,
        ...list.map((f) => f.row),
      ),
    );
  }
  const out = h('div', { role: 'status', id: 'config-answer' });
  const save = h('button', { type: 'submit', class: 'action', id: 'save-config' }, 'Save changes');
  form.append(h('div', { class: 'form-actions' }, save, out));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    // The last answer goes at once: what shows next is this save's.
    out.replaceChildren(h('p', { class: 'muted', id: 'config-saving' }, 'Saving…'));
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
  const secrets = specs.filter((s) => s.secret).map((s) => s.key);
  panel.replaceChildren(
    ...head,
    h(
      'p',
      { class: 'muted' },
      'Each key with its default; “restart” marks what a running daemon takes at its next start. Secrets are never shown. Save sends only what you changed.',
    ),
    form,
    rawView(ctx, view.config, secrets),
  );
};
