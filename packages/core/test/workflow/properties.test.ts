import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  UiWorkflowBuilder, analyzeWorkflow, injectParameters, isApiLink, toApiPrompt, type ApiPrompt, type GenerationParameters, type UiNode, type UiWorkflow,
} from '@comfy-vast/core';
import { loadCorpus } from './corpus.js';

const TYPES = [
  'CheckpointLoaderSimple', 'LoraLoader', 'CLIPTextEncode', 'KSampler', 'KSamplerAdvanced', 'EmptyLatentImage', 'VAEDecode', 'VAEEncode',
  'SaveImage', 'ControlNetLoader', 'ControlNetApplyAdvanced', 'LoadImage', 'LatentUpscale', 'UpscaleModelLoader', 'ImageUpscaleWithModel',
  'Reroute', 'PrimitiveNode', 'Note', 'SomeCustomNode',
] as const;
const MODEL_NAMES = ['a.safetensors', 'b.ckpt', 'sub/c.pth', 'win\\d.safetensors'];

const nodeSpec = fc.record({
  type: fc.constantFrom(...TYPES),
  mode: fc.constantFrom(0, 0, 0, 2, 4),
  model: fc.constantFrom(...MODEL_NAMES),
  widgets: fc.option(fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 9 }), { nil: undefined }),
});
const graphSpec = fc.record({
  nodes: fc.array(nodeSpec, { minLength: 1, maxLength: 24 }),
  edges: fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat(), fc.nat()), { maxLength: 60 }),
});

type GraphSpec = typeof graphSpec extends fc.Arbitrary<infer T> ? T : never;

/** A valid, acyclic UI workflow: links only from earlier to later nodes, between sockets of the same type. */
function buildGraph(spec: GraphSpec): UiWorkflow {
  const builder = new UiWorkflowBuilder();
  const ids = spec.nodes.map(({ type, mode, model, widgets }) => {
    const loader = type.endsWith('Loader') || type === 'CheckpointLoaderSimple' || type === 'SomeCustomNode';
    return builder.add(type, widgets ?? (loader ? [model, 1, 1] : undefined), { mode });
  });
  const draft = builder.build();
  const linked = new Set<string>();
  for (const [a, b, outSlot, inSlot] of spec.edges) {
    const from = a % ids.length;
    const to = b % ids.length;
    if (from >= to) continue;
    const source = draft.nodes[from]!;
    const target = draft.nodes[to]!;
    const outputs = source.outputs ?? [];
    const inputs = target.inputs ?? [];
    if (outputs.length === 0 || inputs.length === 0) continue;
    const o = outSlot % outputs.length;
    const i = inSlot % inputs.length;
    const fits = inputs[i]!.type === '*' || outputs[o]!.type === '*' || inputs[i]!.type === outputs[o]!.type;
    if (!fits || linked.has(`${to}/${i}`) || outputs[o]!.type === '*') continue;
    linked.add(`${to}/${i}`);
    builder.connect(ids[from]!, o, ids[to]!, i);
  }
  return builder.build();
}

type Link = [number, number, number, number, number, string];

/**
 * The nodes at positions [from, to) of a builder graph made into a legacy group node (instance id n + 1), saved
 * the way the frontend saves one: links from outside with a null origin index, the instance's inputs for every
 * inner input not linked inside and its outputs for every inner output not linked only inside, in inner order.
 */
function groupRun(ui: UiWorkflow, from: number, to: number): { grouped: UiWorkflow; innerId: Map<string, string> } {
  const instance = ui.nodes.length + 1;
  const members = ui.nodes.slice(from, to);
  const indexOf = new Map(members.map((n, i) => [Number(n.id), i]));
  const innerId = new Map(members.map((n, i) => [String(n.id), `${instance}:${i}`]));
  const links = (ui.links ?? []) as Link[];
  const inside = (id: number): boolean => indexOf.has(id);
  const groupLinks: unknown[][] = [];
  const external: unknown[][] = [];
  const inputs: NonNullable<UiNode['inputs']> = [];
  const outputs: NonNullable<UiNode['outputs']> = [];
  const inputSlot = new Map<string, number>();
  const outputSlot = new Map<string, number>();
  for (const [, origin, originSlot, target, targetSlot, type] of links) {
    if (!inside(target)) continue;
    groupLinks.push([inside(origin) ? indexOf.get(origin)! : null, originSlot, indexOf.get(target)!, targetSlot, origin, type]);
  }
  for (const node of members) {
    const id = Number(node.id);
    (node.inputs ?? []).forEach((input, slot) => {
      const link = links.find((l) => l[3] === id && l[4] === slot);
      if (link && inside(link[1])) return;
      inputSlot.set(`${id}/${slot}`, inputs.length);
      inputs.push({ name: input.name, type: input.type, link: link ? link[0] : null });
    });
    const linkedFrom = links.some((l) => l[1] === id && inside(l[3]));
    const count = node.type === 'PrimitiveNode' && !linkedFrom ? 0 : (node.outputs ?? []).length;
    for (let slot = 0; slot < count; slot++) {
      const from = links.filter((l) => l[1] === id && l[2] === slot);
      const outside = from.some((l) => !inside(l[3]));
      if (outside) external.push([indexOf.get(id)!, slot, node.outputs![slot]!.type]);
      if (from.length > 0 && !outside) continue;
      outputSlot.set(`${id}/${slot}`, outputs.length);
      outputs.push({ name: String(node.outputs![slot]!.name), type: node.outputs![slot]!.type, links: [] });
    }
  }
  const outerLinks = links.flatMap((l): Link[] => {
    const [id, origin, originSlot, target, targetSlot, type] = l;
    if (inside(target)) return inside(origin) ? [] : [[id, origin, originSlot, instance, inputSlot.get(`${target}/${targetSlot}`)!, type]];
    return inside(origin) ? [[id, instance, outputSlot.get(`${origin}/${originSlot}`)!, target, targetSlot, type]] : [l];
  });
  const innerNodes = members.map(({ id: _id, ...node }, index) => ({ ...node, index }));
  const group = { id: instance, type: 'workflow>Run', mode: 0, inputs, outputs };
  const grouped = {
    ...ui,
    nodes: [...ui.nodes.slice(0, from), group, ...ui.nodes.slice(to)],
    links: outerLinks,
    extra: { groupNodes: { Run: { nodes: innerNodes, links: groupLinks, external } } },
  } as UiWorkflow;
  return { grouped, innerId };
}

/** A prompt with the given node ids renamed, in its keys and in its links. */
function renamed(prompt: ApiPrompt, ids: ReadonlyMap<string, string>): ApiPrompt {
  const name = (id: string): string => ids.get(id) ?? id;
  return Object.fromEntries(
    Object.entries(prompt).map(([id, node]) => [
      name(id),
      { ...node, inputs: Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, isApiLink(v) ? [name(v[0]), v[1]] : v])) },
    ]),
  );
}

const danglingLinks = (prompt: ApiPrompt): string[] =>
  Object.values(prompt).flatMap((n) => Object.values(n.inputs).flatMap((v) => (isApiLink(v) && !prompt[v[0]] ? [v[0]] : [])));

const modelNames = (prompt: unknown): string[] => analyzeWorkflow(prompt).requiredModels.map((m) => `${m.folder}/${m.name}`).sort();

describe('properties', () => {
  it('conversion never throws on valid graphs and leaves no link to a node it did not send', () => {
    fc.assert(
      fc.property(graphSpec, (spec) => {
        const { prompt } = toApiPrompt(buildGraph(spec));
        expect(danglingLinks(prompt)).toEqual([]);
        for (const node of Object.values(prompt)) expect(['Reroute', 'PrimitiveNode', 'Note']).not.toContain(node.class_type);
      }),
      { numRuns: 300 },
    );
  });

  it('a run of nodes made a legacy group node converts as the same nodes ungrouped, with ids under the instance', () => {
    fc.assert(
      fc.property(graphSpec, fc.nat(), fc.nat(), (spec, a, b) => {
        const ui = buildGraph(spec);
        const from = a % ui.nodes.length;
        const to = from + 1 + (b % (ui.nodes.length - from));
        const { grouped, innerId } = groupRun(ui, from, to);
        const { prompt } = toApiPrompt(grouped);
        expect(danglingLinks(prompt)).toEqual([]);
        expect(prompt).toEqual(renamed(toApiPrompt(ui).prompt, innerId));
      }),
      { numRuns: 300 },
    );
  });

  it('older saves convert without throwing or dangling links: boolean seed controls, values cut short', () => {
    fc.assert(
      fc.property(graphSpec, fc.boolean(), fc.nat(), (spec, control, cut) => {
        const ui = buildGraph(spec);
        for (const node of ui.nodes) {
          if (!Array.isArray(node.widgets_values)) continue;
          if (node.type.startsWith('KSampler') && typeof node.widgets_values[1] === 'string') node.widgets_values[1] = control;
          node.widgets_values = node.widgets_values.slice(0, cut % (node.widgets_values.length + 1));
        }
        const { prompt } = toApiPrompt(ui);
        expect(danglingLinks(prompt)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it('a graph converts the same inside a subgraph, with its ids prefixed by the instance id', () => {
    const SUBGRAPH = '0f1e2d3c-4b5a-4968-8776-655443322110';
    fc.assert(
      fc.property(graphSpec, (spec) => {
        const inner = buildGraph(spec);
        const links = (inner.links ?? []).map((l) => {
          const [id, origin_id, origin_slot, target_id, target_slot, type] = l as unknown[];
          return { id, origin_id, origin_slot, target_id, target_slot, type };
        });
        const outer = {
          version: 1,
          nodes: [{ id: 7, type: SUBGRAPH, mode: 0, inputs: [], outputs: [] }],
          links: [],
          definitions: { subgraphs: [{ id: SUBGRAPH, nodes: inner.nodes, links, inputs: [], outputs: [] }] },
        };
        const prefixed = Object.fromEntries(
          Object.entries(toApiPrompt(inner).prompt).map(([id, node]) => [
            `7:${id}`,
            { ...node, inputs: Object.fromEntries(Object.entries(node.inputs).map(([k, v]) => [k, isApiLink(v) ? [`7:${v[0]}`, v[1]] : v])) },
          ]),
        );
        expect(toApiPrompt(outer).prompt).toEqual(prefixed);
      }),
      { numRuns: 200 },
    );
  });

  // Values saved on nodes without a definition exist only in the UI format, so those nodes become loaders here.
  it('analysis of a UI workflow and of its conversion agree on models', () => {
    for (const c of loadCorpus()) expect(modelNames(c.ui)).toEqual(modelNames(toApiPrompt(c.ui).prompt));
    fc.assert(
      fc.property(graphSpec, (spec) => {
        const ui = buildGraph({ ...spec, nodes: spec.nodes.map((n) => (n.type === 'SomeCustomNode' ? { ...n, type: 'CheckpointLoaderSimple' as const } : n)) });
        expect(modelNames(ui)).toEqual(modelNames(toApiPrompt(ui).prompt));
      }),
      { numRuns: 200 },
    );
  });

  const params: fc.Arbitrary<GenerationParameters> = fc.record(
    {
      prompt: fc.string(), negativePrompt: fc.string(), steps: fc.integer({ min: 1, max: 150 }), cfg: fc.double({ min: 0, max: 30, noNaN: true }),
      seed: fc.integer({ min: 0, max: 2 ** 40 }), sampler: fc.constantFrom('euler', 'dpmpp_2m'), scheduler: fc.constantFrom('normal', 'karras'),
      denoise: fc.double({ min: 0, max: 1, noNaN: true }), width: fc.integer({ min: 64, max: 2048 }), height: fc.integer({ min: 64, max: 2048 }),
      batchSize: fc.integer({ min: 1, max: 8 }),
      nodes: fc.dictionary(fc.constantFrom('3.steps', 'Positive.text', 'KSampler.cfg', '5.width', '9.filename_prefix', 'nope.x'), fc.integer()),
    },
    { requiredKeys: [] },
  );

  it('injection changes only its targets and never its input', () => {
    const prompts = loadCorpus().map((c) => c.api);
    fc.assert(
      fc.property(fc.constantFrom(...prompts), params, (original, p) => {
        const before = structuredClone(original);
        const { prompt, applied } = injectParameters(original, p);
        expect(original).toEqual(before);
        const targets = new Set(applied.map((a) => `${a.nodeId}/${a.input}`));
        expect(Object.keys(prompt)).toEqual(Object.keys(original));
        for (const [id, node] of Object.entries(original)) {
          expect(prompt[id]!.class_type).toBe(node.class_type);
          const names = new Set([...Object.keys(node.inputs), ...Object.keys(prompt[id]!.inputs)]);
          for (const name of names) {
            if (!targets.has(`${id}/${name}`)) expect(prompt[id]!.inputs[name]).toEqual(node.inputs[name]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
