/**
 * A small JSON Schema validator: the subset our artifacts use (draft-04 keywords as Genesys data action
 * contracts use them, plus draft-06 `const` and `contains`). Unknown keywords are ignored, like a real
 * validator would ignore annotations; `$ref` is not supported and fails loudly.
 */
export type JsonSchema = boolean | { [keyword: string]: unknown };

export interface SchemaError {
  path: string;
  message: string;
}

export function validateSchema(schema: JsonSchema, value: unknown, path = '$'): SchemaError[] {
  if (schema === true) return [];
  if (schema === false) return [{ path, message: 'no value is allowed here' }];
  const s = schema;
  const errors: SchemaError[] = [];
  const err = (message: string, at = path) => errors.push({ path: at, message });

  if ('$ref' in s) throw new Error(`$ref is not supported by this validator (at ${path})`);

  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? (s.type as string[]) : [s.type as string];
    if (!types.some((t) => hasType(value, t))) {
      err(`expected ${types.join(' or ')}, got ${typeName(value)}`);
      return errors; // the other keywords would only add noise
    }
  }
  if ('const' in s && !deepEqual(s.const, value)) err(`must equal ${JSON.stringify(s.const)}`);
  if (Array.isArray(s.enum) && !s.enum.some((e) => deepEqual(e, value))) {
    err(`must be one of ${JSON.stringify(s.enum)}, got ${JSON.stringify(value)}`);
  }

  if (typeof value === 'string') {
    if (typeof s.minLength === 'number' && [...value].length < s.minLength) err(`shorter than ${s.minLength}`);
    if (typeof s.maxLength === 'number' && [...value].length > s.maxLength) err(`longer than ${s.maxLength}`);
    if (typeof s.pattern === 'string' && !new RegExp(s.pattern, 'u').test(value)) {
      err(`${JSON.stringify(value)} does not match /${s.pattern}/`);
    }
  }
  if (typeof value === 'number') {
    if (typeof s.minimum === 'number' && value < s.minimum) err(`below the minimum ${s.minimum}`);
    if (typeof s.maximum === 'number' && value > s.maximum) err(`above the maximum ${s.maximum}`);
  }
  if (Array.isArray(value)) {
    if (typeof s.minItems === 'number' && value.length < s.minItems) err(`fewer than ${s.minItems} items`);
    if (s.items !== undefined && !Array.isArray(s.items)) {
      value.forEach((v, i) => errors.push(...validateSchema(s.items as JsonSchema, v, `${path}[${i}]`)));
    }
    if (s.contains !== undefined && !value.some((v) => validateSchema(s.contains as JsonSchema, v).length === 0)) {
      err(`no item matches ${JSON.stringify(s.contains)}`);
    }
  }
  if (isObject(value)) {
    const props = (isObject(s.properties) ? s.properties : {}) as Record<string, JsonSchema>;
    if (Array.isArray(s.required)) {
      for (const k of s.required as string[]) if (!(k in value)) err(`missing required property "${k}"`);
    }
    for (const [k, v] of Object.entries(value)) {
      const at = `${path}.${k}`;
      if (k in props) errors.push(...validateSchema(props[k] as JsonSchema, v, at));
      else if (s.additionalProperties !== undefined) {
        errors.push(...validateSchema(s.additionalProperties as JsonSchema, v, at).map((e) =>
          s.additionalProperties === false ? { path: at, message: 'additional property not allowed' } : e,
        ));
      }
    }
  }
  if (Array.isArray(s.allOf)) for (const sub of s.allOf) errors.push(...validateSchema(sub as JsonSchema, value, path));
  if (Array.isArray(s.anyOf) && !s.anyOf.some((sub) => validateSchema(sub as JsonSchema, value, path).length === 0)) {
    err('matches none of anyOf');
  }
  return errors;
}

function hasType(v: unknown, t: string): boolean {
  switch (t) {
    case 'object':
      return isObject(v);
    case 'array':
      return Array.isArray(v);
    case 'string':
      return typeof v === 'string';
    case 'boolean':
      return typeof v === 'boolean';
    case 'null':
      return v === null;
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    default:
      throw new Error(`unknown JSON Schema type "${t}"`);
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && Number.isInteger(v)) return 'integer';
  return typeof v;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}
