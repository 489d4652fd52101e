/**
 * One input per kind of configuration value, each able to read itself back as a value (or an error, or
 * "unset": back to the default). Secrets never put their value in the page: only whether one is set.
 */
import { h } from '../dom.js';
import { type FieldSpec, shownValue } from './settings-schema.js';

export type ReadBack = { value: unknown } | { error: string } | 'unset';

export interface Control {
  el: HTMLElement;
  read(): ReadBack;
  /** The value the field started from; a secret's is a symbol (its value is never in the page). */
  initial: unknown;
  /** After a save: clear what was typed (secrets). */
  reset(): void;
}

/** The ids and the description a control points at. */
export interface ControlIds {
  id: string;
  helpId: string;
}

const noReset = (): void => {};

function fileOnlyControl({ id, helpId }: ControlIds, current: unknown): Control {
  const el = h('output', { id, class: 'readonly', 'aria-describedby': helpId }, shownValue(current));
  return { el, read: () => ({ value: current }), initial: current, reset: noReset };
}

function secretControl({ id, helpId }: ControlIds, current: unknown): Control {
  const unchanged = Symbol('unchanged');
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
  return {
    el: h('div', { class: 'secret' }, state, input, clearLabel),
    read: () =>
      clear.checked ? { value: null } : input.value ? { value: input.value } : { value: unchanged },
    initial: unchanged,
    reset: () => {
      isSet = clear.checked ? false : input.value ? true : isSet;
      state.textContent = isSet ? 'set' : 'not set';
      clearLabel.hidden = !isSet;
      input.value = '';
      clear.checked = false;
      input.placeholder = isSet ? 'type a new one to replace it' : 'type one to set it';
    },
  };
}

function booleanControl({ id, helpId }: ControlIds, current: unknown): Control {
  const input = h('input', { id, type: 'checkbox', 'aria-describedby': helpId }) as HTMLInputElement;
  input.checked = current === true;
  return { el: input, read: () => ({ value: input.checked }), initial: current, reset: noReset };
}

function enumControl(s: FieldSpec, { id, helpId }: ControlIds, current: unknown): Control {
  const options = [...(s.nullable ? [null] : []), ...(s.base.enum ?? [])];
  const select = h(
    'select',
    { id, 'aria-describedby': helpId },
    ...options.map((o) => h('option', { value: JSON.stringify(o) }, shownValue(o))),
  ) as HTMLSelectElement;
  select.value = JSON.stringify(current ?? null);
  return {
    el: select,
    read: () => ({ value: JSON.parse(select.value) as unknown }),
    initial: current,
    reset: noReset,
  };
}

function numberControl(s: FieldSpec, { id, helpId }: ControlIds, current: unknown): Control {
  const attrs: Record<string, string> = {
    id,
    type: 'number',
    step: s.kind === 'integer' ? '1' : 'any',
    'aria-describedby': helpId,
  };
  if (s.base.minimum !== undefined && s.base.minimum > -Number.MAX_SAFE_INTEGER)
    attrs['min'] = String(s.base.minimum);
  if (s.base.maximum !== undefined && s.base.maximum < Number.MAX_SAFE_INTEGER)
    attrs['max'] = String(s.base.maximum);
  if (s.nullable) attrs['placeholder'] = 'none';
  const input = h('input', attrs) as HTMLInputElement;
  input.value = typeof current === 'number' ? String(current) : '';
  const read = (): ReadBack => {
    const t = input.value.trim();
    if (t === '') return s.nullable ? { value: null } : 'unset';
    const n = Number(t);
    return Number.isFinite(n) ? { value: n } : { error: 'not a number' };
  };
  return { el: input, read, initial: current, reset: noReset };
}

function stringControl(s: FieldSpec, { id, helpId }: ControlIds, current: unknown): Control {
  const input = h('input', {
    id,
    type: 'text',
    spellcheck: 'false',
    'aria-describedby': helpId,
    ...(s.nullable ? { placeholder: 'none' } : {}),
  }) as HTMLInputElement;
  input.value = typeof current === 'string' ? current : '';
  return {
    el: input,
    read: () => (input.value === '' ? (s.nullable ? { value: null } : 'unset') : { value: input.value }),
    initial: current,
    reset: noReset,
  };
}

function linesControl(s: FieldSpec, { id, helpId }: ControlIds, current: unknown): Control {
  const area = h('textarea', {
    id,
    rows: '3',
    spellcheck: 'false',
    'aria-describedby': helpId,
    ...(s.nullable ? { placeholder: 'none' } : {}),
  }) as HTMLTextAreaElement;
  area.value = Array.isArray(current) ? current.join('\n') : '';
  const read = (): ReadBack => {
    const lines = area.value
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l.length > 0);
    return { value: lines.length === 0 && s.nullable ? null : lines };
  };
  return { el: area, read, initial: current, reset: noReset };
}

function jsonControl({ id, helpId }: ControlIds, current: unknown): Control {
  const area = h('textarea', {
    id,
    rows: '3',
    spellcheck: 'false',
    'aria-describedby': helpId,
  }) as HTMLTextAreaElement;
  area.value = JSON.stringify(current ?? null, null, 2);
  const read = (): ReadBack => {
    try {
      return { value: JSON.parse(area.value) as unknown };
    } catch {
      return { error: 'not JSON' };
    }
  };
  return { el: area, read, initial: current, reset: noReset };
}

/** The input for a field: file-only keys are shown, never edited; secrets are masked. */
export function controlFor(s: FieldSpec, ids: ControlIds, current: unknown): Control {
  if (s.fileOnly) return fileOnlyControl(ids, current);
  if (s.secret) return secretControl(ids, current);
  switch (s.kind) {
    case 'boolean':
      return booleanControl(ids, current);
    case 'enum':
      return enumControl(s, ids, current);
    case 'number':
    case 'integer':
      return numberControl(s, ids, current);
    case 'string':
      return stringControl(s, ids, current);
    case 'lines':
      return linesControl(s, ids, current);
    default:
      return jsonControl(ids, current);
  }
}
