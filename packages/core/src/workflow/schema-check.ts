import type { z } from 'zod';

/** Says whether a value is one the schema it was compiled from accepts as it is. */
export type SchemaCheck = (value: unknown) => boolean;

/** The parts of zod's schema definitions read here (zod 4's `_zod.def`). */
interface Def {
  type: string;
  checks?: readonly { _zod: { def: { check: string; minimum?: number } } }[];
  innerType?: Schema;
  options?: readonly Schema[];
  element?: Schema;
  shape?: Record<string, Schema>;
  catchall?: Schema;
  items?: readonly Schema[];
  rest?: Schema | null;
  keyType?: Schema;
  valueType?: Schema;
}
interface Schema {
  _zod: { def: Def };
}

const never: SchemaCheck = () => false;
const any: SchemaCheck = () => true;

/**
 * Objects as JSON.parse and literals make them. Stricter than zod, which takes any non-array object (a Map, a
 * Date, an object without prototype) for an object schema and copies only its own keys into a plain object.
 */
const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype;

function compileString(def: Def): SchemaCheck {
  const checks = def.checks ?? [];
  if (checks.length === 0) return (value) => typeof value === 'string';
  const only = checks[0]!._zod.def;
  if (checks.length > 1 || only.check !== 'min_length' || only.minimum === undefined) return never;
  const minimum = only.minimum;
  return (value) => typeof value === 'string' && value.length >= minimum;
}

function compileObject(def: Def): SchemaCheck {
  // Only loose objects: a stripping or strict object's output differs from its input, or rejects extra keys.
  if (def.catchall?._zod.def.type !== 'unknown') return never;
  const fields = Object.entries(def.shape ?? {})
    .filter(([key]) => key !== '__proto__')
    .map(([key, schema]) => ({ key, check: compile(schema) }))
    .filter((field) => field.check !== any);
  return (value) => {
    if (!isPlainObject(value)) return false;
    for (const field of fields) if (!field.check(value[field.key])) return false;
    return true;
  };
}

function compileArray(def: Def): SchemaCheck {
  if (def.checks?.length) return never;
  const element = compile(def.element!);
  if (element === any) return (value) => Array.isArray(value);
  return (value) => {
    if (!Array.isArray(value)) return false;
    for (let i = 0; i < value.length; i++) if (!element(value[i])) return false;
    return true;
  };
}

function compileTuple(def: Def): SchemaCheck {
  if (def.checks?.length) return never;
  const items = (def.items ?? []).map(compile);
  const rest = def.rest ? compile(def.rest) : undefined;
  return (value) => {
    // Every item required (stricter than zod for trailing optional items, which these schemas do not have).
    if (!Array.isArray(value) || value.length < items.length || (!rest && value.length > items.length)) return false;
    for (let i = 0; i < items.length; i++) if (!items[i]!(value[i])) return false;
    if (rest && rest !== any) for (let i = items.length; i < value.length; i++) if (!rest(value[i])) return false;
    return true;
  };
}

function compileRecord(def: Def): SchemaCheck {
  const key = def.keyType!._zod.def;
  if (key.type !== 'string' || key.checks?.length) return never;
  const values = compile(def.valueType!);
  return (value) => {
    if (!isPlainObject(value)) return false;
    if (values === any) return true;
    for (const k in value) if (Object.prototype.hasOwnProperty.call(value, k) && !values(value[k])) return false;
    return true;
  };
}

function compileUnion(def: Def): SchemaCheck {
  const options = (def.options ?? []).map(compile);
  if (options.includes(any)) return any;
  return (value) => {
    for (const option of options) if (option(value)) return true;
    return false;
  };
}

function compile(schema: Schema): SchemaCheck {
  const def = schema._zod.def;
  switch (def.type) {
    case 'unknown':
    case 'any':
      return any;
    case 'string':
      return compileString(def);
    case 'number':
      // zod's number refuses NaN and the infinities.
      return def.checks?.length ? never : (value) => typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return (value) => typeof value === 'boolean';
    case 'optional': {
      const inner = compile(def.innerType!);
      return inner === any ? any : (value) => value === undefined || inner(value);
    }
    case 'nullable': {
      const inner = compile(def.innerType!);
      return inner === any ? any : (value) => value === null || inner(value);
    }
    case 'union':
      return compileUnion(def);
    case 'object':
      return compileObject(def);
    case 'array':
      return compileArray(def);
    case 'tuple':
      return compileTuple(def);
    case 'record':
      return compileRecord(def);
    default:
      return never;
  }
}

/**
 * A yes/no check compiled from a zod schema, for validating a large workflow without zod's copy of every object
 * in it (at 10,000 nodes those copies were most of the parse, in the garbage collector). The schema stays the
 * source of truth: the check knows only types whose output equals their input (loose objects, arrays, tuples,
 * records, unions and primitives without transforms or defaults) and answers no for anything else it meets, so a
 * yes means the schema would accept the value unchanged, and a no sends the caller to the schema for its verdict
 * and error messages.
 */
export function compileSchemaCheck(schema: z.ZodType): SchemaCheck {
  return compile(schema as unknown as Schema);
}
