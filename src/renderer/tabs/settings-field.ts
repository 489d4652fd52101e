/**
 * One field of the Settings form: its label and marks (restart, secret, file only), its help text (the key's
 * description, default and range), its input, and the answer line a save writes beside it.
 */
import { h } from '../dom.js';
import { controlFor } from './settings-controls.js';
import { type FieldSpec, isObj, limits, same, shownValue } from './settings-schema.js';

/** One field on screen: reads its input back as a value, says whether it changed, shows an answer. */
export interface Field {
  spec: FieldSpec;
  row: HTMLElement;
  /** The change this field asks for, or null when there is none (or it is invalid: `error`). */
  change(): { set: unknown } | { unset: true } | { error: string } | null;
  /** After a save: the value sent is the new starting point. */
  commit(): void;
  answer(text: string, kind: 'ok' | 'error' | 'pending' | null): void;
}

const inputId = (key: string): string => `cfg-${key.replaceAll('.', '-')}`;

function marksFor(s: FieldSpec): HTMLElement[] {
  const marks: HTMLElement[] = [];
  if (s.restart)
    marks.push(
      h('span', { class: 'mark restart', title: 'a running daemon takes this at its next start' }, 'restart'),
    );
  if (s.secret) marks.push(h('span', { class: 'mark secret' }, 'secret'));
  if (s.fileOnly) marks.push(h('span', { class: 'mark file-only' }, 'file only'));
  return marks;
}

/** The help line: the description, the default and range (not for secrets or file-only keys). */
function helpText(s: FieldSpec): string {
  const parts: string[] = [];
  if (s.node.description) parts.push(s.node.description);
  if (!s.secret && !s.fileOnly) parts.push(`Default: ${shownValue(s.node.default)}.`);
  const lim = limits(s.base);
  if (lim && !s.fileOnly) parts.push(`Range: ${lim}.`);
  if (s.nullable && !s.secret && !s.fileOnly && s.kind !== 'boolean' && s.kind !== 'enum')
    parts.push('Empty means none.');
  if (s.fileOnly)
    parts.push(
      'It names a program to run, so only editing the configuration file sets it; the daemon refuses it from here.',
    );
  return parts.join(' ');
}

export function buildField(s: FieldSpec, current: unknown): Field {
  const id = inputId(s.key);
  const helpId = `${id}-help`;
  const answerEl = h('div', { class: 'answer', id: `${id}-answer`, 'aria-live': 'polite' });
  const label = s.key.includes('.') ? s.key.slice(s.key.indexOf('.') + 1) : s.key;
  const control = controlFor(s, { id, helpId }, current);
  const row = h(
    'div',
    {
      class: `field kind-${s.kind}`,
      'data-key': s.key,
      ...(s.restart ? { 'data-restart': 'true' } : {}),
      ...(s.secret ? { 'data-secret': 'true' } : {}),
      ...(s.fileOnly ? { 'data-file-only': 'true' } : {}),
    },
    h('div', { class: 'field-head' }, h('label', { for: id }, label), ...marksFor(s)),
    control.el,
    h('div', { class: 'help', id: helpId }, helpText(s)),
    answerEl,
  );
  let initial = control.initial;
  let sent: unknown;
  return {
    spec: s,
    row,
    change() {
      if (s.fileOnly) return null;
      const r = control.read();
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
      control.reset();
    },
    answer(text, kind) {
      answerEl.textContent = text;
      answerEl.className = `answer${kind ? ` ${kind}` : ''}`;
      if (kind === 'error') control.el.setAttribute('aria-invalid', 'true');
      else control.el.removeAttribute('aria-invalid');
    },
  };
}
