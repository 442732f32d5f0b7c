import { IdIndex } from './id-index.js';
import type { NodeCatalog } from './object-info.js';
import { SUBGRAPH_INPUT, type Scope } from './scope.js';
import type { GroupNodeDefinition, UiInput, UiNode } from './ui-schema.js';

type InnerNode = UiNode & { inputs: UiInput[] };

/** How many outputs an inner node gives the group: none for a PrimitiveNode that feeds nothing inside. */
function outputCount(node: InnerNode, linkedFrom: boolean, catalog: NodeCatalog): number {
  if (node.type === 'PrimitiveNode' && !linkedFrom) return 0;
  return catalog.get(node.type)?.output?.length ?? node.outputs?.length ?? 0;
}

/**
 * The inner graph of a legacy group node (`extra.groupNodes`), as the frontend builds its definition: inner links
 * are index based, and links from outside the group (saved with a null origin) arrive through the instance's
 * inputs instead. Every inner input not linked inside becomes an instance input, every inner output not linked
 * inside (or listed in `external`) an instance output, in inner-node order, unless `config` hides it; the
 * instance's `widgets_values` are the inner nodes' values in order.
 */
export function groupScope(prefix: string, def: GroupNodeDefinition, parent: NonNullable<Scope['parent']>, catalog: NodeCatalog) {
  const inner = def.nodes.map((n, position): InnerNode => {
    const localId = String(n.index ?? position);
    const inputs = (n.inputs ?? []).map((i): UiInput => ({ ...i, link: null }));
    return { ...n, id: localId, inputs } as InnerNode;
  });
  const nodes = new IdIndex<UiNode>(inner.length);
  for (const n of inner) nodes.set(n.id, n);
  const scope: Scope = {
    prefix,
    saved: inner,
    nodes,
    links: new IdIndex(),
    children: new IdIndex(),
    parent,
    instanceInput: (slot) => slot,
    outputs: new Map(),
  };
  const linkedOut = new Set<string>();
  const linkedFrom = new Set<string>();
  (def.links ?? []).forEach((entry, k) => {
    const [o, os, t, ts] = entry;
    if (o === null || o === undefined) return;
    const target = scope.nodes.get(String(t));
    const input = target?.inputs?.[Number(ts)];
    if (!input) return;
    const id = `g${k}`;
    input.link = id;
    scope.links.set(id, [id, String(o), Number(os), String(t), Number(ts), input.type]);
    linkedOut.add(`${String(o)}/${Number(os)}`);
    linkedFrom.add(String(o));
  });
  const external = new Set((def.external ?? []).map(([n, s]) => `${String(n)}/${Number(s)}`));

  const instanceInputs = parent.instance.inputs ?? [];
  const plainInstanceInputs = instanceInputs.flatMap((input, index) => (input.widget ? [] : [index]));
  let exposed = 0;
  const offsets = new Map<string, number>();
  let valueOffset = 0;
  for (const node of inner) {
    const localId = String(node.id);
    const config = def.config?.[localId];
    offsets.set(localId, valueOffset);
    valueOffset += Array.isArray(node.widgets_values) ? node.widgets_values.length : 0;
    node.inputs.forEach((input, slot) => {
      if (input.link !== null) return;
      if (!input.widget && config?.input?.[input.name]?.visible === false) return;
      const index = input.widget
        ? instanceInputs.findIndex((i) => i.widget && (i.widget.name === input.widget!.name || i.widget.name.endsWith(` ${input.widget!.name}`)))
        : plainInstanceInputs[exposed++];
      if (index === undefined || index < 0) return;
      const id = `in${localId}/${slot}`;
      input.link = id;
      scope.links.set(id, [id, SUBGRAPH_INPUT, index, localId, slot, input.type]);
    });
    const outputs = outputCount(node, linkedFrom.has(localId), catalog);
    for (let slot = 0; slot < outputs; slot++) {
      const key = `${localId}/${slot}`;
      const visible = config?.output?.[String(slot)]?.visible ?? !(linkedOut.has(key) && !external.has(key));
      if (visible) scope.outputs.set(scope.outputs.size, { origin: localId, originSlot: slot, type: undefined });
    }
  }
  // Values saved on the instance replace the definition's only when the instance holds them all.
  const saved = parent.instance.widgets_values;
  if (Array.isArray(saved) && saved.length >= valueOffset) {
    for (const node of inner) {
      const offset = offsets.get(String(node.id))!;
      const count = Array.isArray(node.widgets_values) ? node.widgets_values.length : 0;
      node.widgets_values = saved.slice(offset, offset + count);
    }
  } else {
    offsets.clear();
  }
  return { scope, offsets };
}
