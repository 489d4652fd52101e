/**
 * A small JSON Schema (draft-07) checker for the keywords the configuration's schema uses: type, properties,
 * additionalProperties, anyOf, enum, const, minimum, maximum, exclusiveMinimum, exclusiveMaximum, minLength,
 * maxLength, pattern, format "uri", items, minItems, maxItems, required. An unknown assertion keyword is an
 * error (so a schema that grows one is noticed here instead of silently passing).
 */
type Node = Record<string, unknown>;

const ANNOTATIONS = new Set([
  '$schema',
  '$id',
  'title',
  'description',
  'default',
  'examples',
  'writeOnly',
  'readOnly',
  'x-secret',
  'x-file-only',
  'x-restart-required',
]);

const typeOf = (v: unknown): string =>
  v === null
    ? 'null'
    : Array.isArray(v)
      ? 'array'
      : typeof v === 'number'
        ? Number.isInteger(v)
          ? 'integer'
          : 'number'
        : typeof v;

const matchesType = (v: unknown, t: string): boolean =>
  t === 'number' ? typeof v === 'number' && Number.isFinite(v) : typeOf(v) === t;

export function checkJsonSchema(schema: Node, value: unknown, at = ''): string[] {
  const where = at || '(top level)';
  const errors: string[] = [];
  for (const [k, rule] of Object.entries(schema)) {
    if (ANNOTATIONS.has(k)) continue;
    switch (k) {
      case 'type': {
        const types = Array.isArray(rule) ? (rule as string[]) : [rule as string];
        if (!types.some((t) => matchesType(value, t))) errors.push(`${where}: expected ${types.join('|')}`);
        break;
      }
      case 'enum':
        if (!(rule as unknown[]).some((e) => JSON.stringify(e) === JSON.stringify(value)))
          errors.push(`${where}: not one of ${JSON.stringify(rule)}`);
        break;
      case 'const':
        if (JSON.stringify(rule) !== JSON.stringify(value))
          errors.push(`${where}: not ${JSON.stringify(rule)}`);
        break;
      case 'anyOf': {
        const alts = (rule as Node[]).map((s) => checkJsonSchema(s, value, at));
        if (!alts.some((e) => e.length === 0))
          errors.push(`${where}: matches no alternative (${alts.flat().join('; ')})`);
        break;
      }
      case 'minimum':
        if (typeof value === 'number' && value < (rule as number)) errors.push(`${where}: below ${rule}`);
        break;
      case 'maximum':
        if (typeof value === 'number' && value > (rule as number)) errors.push(`${where}: above ${rule}`);
        break;
      case 'exclusiveMinimum':
        if (typeof value === 'number' && value <= (rule as number))
          errors.push(`${where}: not above ${rule}`);
        break;
      case 'exclusiveMaximum':
        if (typeof value === 'number' && value >= (rule as number))
          errors.push(`${where}: not below ${rule}`);
        break;
      case 'minLength':
        if (typeof value === 'string' && [...value].length < (rule as number))
          errors.push(`${where}: too short`);
        break;
      case 'maxLength':
        if (typeof value === 'string' && [...value].length > (rule as number))
          errors.push(`${where}: too long`);
        break;
      case 'pattern':
        if (typeof value === 'string' && !new RegExp(rule as string, 'u').test(value))
          errors.push(`${where}: does not match ${rule}`);
        break;
      case 'format':
        if (rule === 'uri' && typeof value === 'string' && !URL.canParse(value))
          errors.push(`${where}: not a URI`);
        break;
      case 'minItems':
        if (Array.isArray(value) && value.length < (rule as number)) errors.push(`${where}: too few items`);
        break;
      case 'maxItems':
        if (Array.isArray(value) && value.length > (rule as number)) errors.push(`${where}: too many items`);
        break;
      case 'items':
        if (Array.isArray(value))
          value.forEach((v, i) => {
            errors.push(...checkJsonSchema(rule as Node, v, `${at}[${i}]`));
          });
        break;
      case 'required':
        if (typeOf(value) === 'object')
          for (const r of rule as string[])
            if (!(r in (value as Node))) errors.push(`${where}: "${r}" is required`);
        break;
      case 'properties':
        if (typeOf(value) === 'object')
          for (const [p, sub] of Object.entries(rule as Node))
            if (Object.hasOwn(value as Node, p))
              errors.push(...checkJsonSchema(sub as Node, (value as Node)[p], at ? `${at}.${p}` : p));
        break;
      case 'additionalProperties':
        if (typeOf(value) === 'object') {
          const known = Object.keys((schema['properties'] as Node | undefined) ?? {});
          for (const p of Object.keys(value as Node)) {
            if (known.includes(p)) continue;
            if (rule === false) errors.push(`${where}: unknown key "${p}"`);
            else if (typeOf(rule) === 'object')
              errors.push(...checkJsonSchema(rule as Node, (value as Node)[p], at ? `${at}.${p}` : p));
          }
        }
        break;
      default:
        errors.push(`${where}: the checker does not know the keyword "${k}"`);
    }
  }
  return errors;
}
