import fc from 'fast-check';
import type { z } from 'zod';

/** Addresses that answer at once (nothing listens there), so attaching one never waits on the network. */
const LOOPBACK_URLS = ['http://127.0.0.1:9', 'http://localhost:9/comfy', 'https://127.0.0.1:9/', 'ftp://127.0.0.1/', 'not a url'];

interface Bag {
  minLength?: number | null;
  maxLength?: number | null;
  minValue?: number | null;
  maxValue?: number | null;
  isInt?: boolean;
  format?: string | null;
}

/**
 * Values shaped by a zod schema: mostly what it accepts, often just outside its bounds, so the fuzzer reaches
 * both the handlers and the validation of every field. Depth-bounded: recursive schemas end in JSON values.
 */
export function arbitraryOf(schema: z.ZodType, depth = 0): fc.Arbitrary<unknown> {
  const def = schema._zod.def as unknown as Record<string, any> & { type: string };
  const bag = schema as unknown as Bag;
  if (depth > 6) return fc.jsonValue({ maxDepth: 1 });
  switch (def.type) {
    case 'string': {
      if (bag.format === 'url') return fc.constantFrom(...LOOPBACK_URLS);
      const min = bag.minLength ?? 0;
      const max = bag.maxLength ?? 40;
      // Lengths just past this schema's bound and past the bounds a library schema further in may have.
      const tooLong = fc.constantFrom(max + 1, 65, 101, 201, 257, 5_000, 10_001).map((n) => 'x'.repeat(Math.min(n, 20_000)));
      return fc.oneof(
        { weight: 4, arbitrary: fc.string({ minLength: Math.min(min, 40), maxLength: Math.min(max, 40) }) },
        { weight: 1, arbitrary: tooLong },
      );
    }
    case 'number': {
      const min = Math.max(bag.minValue ?? -1e6, -1e9);
      const max = Math.min(bag.maxValue ?? 1e6, 1e9);
      return fc.oneof(
        { weight: 4, arbitrary: bag.isInt ? fc.integer({ min: Math.ceil(min), max: Math.floor(max) }) : fc.double({ min, max, noNaN: true }) },
        { weight: 1, arbitrary: fc.constantFrom(min - 1, max + 1, 0.5, -1, 2 ** 53, 1e308) },
      );
    }
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'literal':
      return fc.constantFrom(...(def.values as unknown[]));
    case 'enum':
      return fc.constantFrom(...Object.values(def.entries as Record<string, unknown>));
    case 'optional':
      return fc.option(arbitraryOf(def.innerType, depth), { nil: undefined, freq: 2 });
    case 'nullable':
      return fc.option(arbitraryOf(def.innerType, depth), { nil: null });
    case 'default':
    case 'catch':
    case 'readonly':
    case 'nonoptional':
      return arbitraryOf(def.innerType, depth);
    case 'pipe':
      return def.in._zod.def.type === 'transform' ? arbitraryOf(def.out, depth) : arbitraryOf(def.in, depth);
    case 'union':
      return fc.oneof(...(def.options as z.ZodType[]).map((option) => arbitraryOf(option, depth)));
    case 'array':
      return fc.array(arbitraryOf(def.element, depth + 1), { maxLength: 5 });
    case 'record':
      return fc.dictionary(fc.string({ maxLength: 8 }), arbitraryOf(def.valueType, depth + 1), { maxKeys: 6 });
    case 'object': {
      const shape = def.shape as Record<string, z.ZodType>;
      const fields = Object.fromEntries(Object.entries(shape).map(([key, field]) => [key, arbitraryOf(field, depth + 1)]));
      return fc.record(fields).map(dropUndefined);
    }
    default:
      return fc.jsonValue({ maxDepth: 3 });
  }
}

function dropUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined));
}
