/** Dotted keys (`guard.queue.max`) over plain JSON objects: read, set and remove without mutating. */
export type Obj = Record<string, unknown>;

export const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The value at `dotted` (undefined when a step is missing or not an object). */
export function valueAt(input: unknown, dotted: string): unknown {
  let cur = input;
  for (const k of dotted.split('.')) {
    if (!isObj(cur) || !Object.hasOwn(cur, k)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** A copy of `input` with `dotted` set to `value` (parents created as needed). */
export function withValue(input: Obj, dotted: string, value: unknown): Obj {
  const [head, ...rest] = dotted.split('.');
  const key = head!;
  if (rest.length === 0) return { ...input, [key]: value };
  const child = isObj(input[key]) ? input[key] : {};
  return { ...input, [key]: withValue(child, rest.join('.'), value) };
}

/** A copy of `input` without `dotted`; a parent left empty goes too. */
export function withoutKey(input: Obj, dotted: string): Obj {
  const [head, ...rest] = dotted.split('.');
  const key = head!;
  if (!Object.hasOwn(input, key)) return input;
  const { [key]: child, ...others } = input;
  if (rest.length === 0) return others;
  if (!isObj(child)) return input;
  const inner = withoutKey(child, rest.join('.'));
  return Object.keys(inner).length ? { ...others, [key]: inner } : others;
}
