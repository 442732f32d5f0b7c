import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { z } from 'zod';
import { compileSchemaCheck } from '../../src/workflow/schema-check.js';
import { apiPromptSchema } from '../../src/workflow/api-schema.js';
import { uiWorkflowSchema } from '../../src/workflow/ui-schema.js';
import { loadCorpus } from './corpus.js';

const isUiWorkflow = compileSchemaCheck(uiWorkflowSchema);
const isApiPrompt = compileSchemaCheck(apiPromptSchema);
const corpus = loadCorpus();

type Container = Record<string, unknown> | unknown[];

/** Every object and array inside a value, with itself first. */
function containers(value: unknown): Container[] {
  const found: Container[] = [];
  const pending = [value];
  while (pending.length > 0) {
    const next = pending.pop();
    if (typeof next !== 'object' || next === null) continue;
    found.push(next as Container);
    pending.push(...Object.values(next));
  }
  return found;
}

/** A copy of a workflow with one field replaced by another value (or removed), anywhere in it. */
const mutation = (value: fc.Arbitrary<unknown>) =>
  fc.record({
    workflow: fc.integer({ min: 0, max: corpus.length - 1 }),
    api: fc.boolean(),
    at: fc.nat(),
    key: fc.nat(),
    value: fc.option(value, { nil: undefined }),
  });
const jsonMutation = mutation(fc.jsonValue());
const anyMutation = mutation(fc.anything({ withNullPrototype: true, withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true }));

type Mutation = typeof jsonMutation extends fc.Arbitrary<infer T> ? T : never;

function mutate({ workflow, api, at, key, value }: Mutation): unknown {
  const source = corpus[workflow]!;
  const copy = structuredClone(api ? source.api : source.ui);
  const all = containers(copy);
  const target = all[at % all.length]!;
  // Arrays stay arrays as JSON makes them: an item replaced, removed or added.
  if (Array.isArray(target)) {
    if (target.length > 0 && key % 3 !== 0) target.splice(key % target.length, value === undefined ? 1 : 0, ...(value === undefined ? [] : [value]));
    else target.push(value);
    return copy;
  }
  const keys = Object.keys(target);
  const name = keys.length > 0 && key % 3 !== 0 ? keys[key % keys.length]! : `extra${key}`;
  if (value === undefined) delete target[name];
  else target[name] = value;
  return copy;
}

describe('compileSchemaCheck', () => {
  it('accepts every workflow of the corpus, as the schemas do', () => {
    for (const { name, ui, api } of corpus) {
      expect(uiWorkflowSchema.safeParse(ui).success, name).toBe(true);
      expect(isUiWorkflow(ui), name).toBe(true);
      expect(isApiPrompt(api), name).toBe(true);
    }
  });

  const verdicts = (m: Mutation) => {
    const json = mutate(m);
    const parsed = (m.api ? apiPromptSchema : uiWorkflowSchema).safeParse(json);
    return { json, parsed, check: (m.api ? isApiPrompt : isUiWorkflow)(json) };
  };

  it('agrees with the schema on JSON workflows with any one field changed', () => {
    fc.assert(
      fc.property(jsonMutation, (m) => {
        const { json, parsed, check } = verdicts(m);
        expect(check).toBe(parsed.success);
        if (parsed.success) expect(parsed.data).toStrictEqual(json);
      }),
      { numRuns: 400 },
    );
  });

  it('accepts only what the schema accepts and returns unchanged, whatever the value put in', () => {
    fc.assert(
      fc.property(anyMutation, (m) => {
        const { json, parsed, check } = verdicts(m);
        if (check) expect(parsed.success && parsed.data).toStrictEqual(json);
      }),
      { numRuns: 400 },
    );
  });

  it('answers no to what it does not know, so that the schema decides', () => {
    const transformed = compileSchemaCheck(z.looseObject({ a: z.string().transform((s) => s.length) }));
    const stripping = compileSchemaCheck(z.object({ a: z.string() }));
    const refined = compileSchemaCheck(z.array(z.number()).min(1));
    const email = compileSchemaCheck(z.string().email());
    expect([transformed({ a: 'x' }), stripping({ a: 'x' }), refined([1]), email('a@b.c')]).toEqual([false, false, false, false]);
  });

  it('follows zod on numbers and records: no NaN or infinity, records only as plain objects', () => {
    const schema = z.looseObject({ n: z.number(), r: z.record(z.string(), z.number()).optional() });
    const check = compileSchemaCheck(schema);
    const values = [{ n: 1 }, { n: Number.NaN }, { n: Infinity }, { n: 1, r: { a: 2 } }, { n: 1, r: new Date() }, { n: 1, r: [] }, { n: 1, r: { a: 'x' } }];
    expect(values.map(check)).toEqual(values.map((value) => schema.safeParse(value).success));
    expect(values.map(check)).toEqual([true, false, false, true, false, false, false]);
  });
});
