import { NodeCatalog, outputTypes } from './object-info.js';
import type { UiInput, UiNode, UiOutput, UiWorkflow } from './ui-schema.js';
import { ComfyVastError } from '../errors/index.js';
import { copyJson } from './json-copy.js';

export interface BuilderNodeOptions {
  title?: string;
  mode?: number;
  pos?: [number, number];
  properties?: Record<string, unknown>;
}

/**
 * Writes UI-format (v0.4) workflows in code, the way the editor saves them: sockets for the link-type inputs
 * and outputs of each node's definition, a converted-widget socket when a widget input gets a link.
 */
export class UiWorkflowBuilder {
  private readonly nodes: UiNode[] = [];
  private readonly links: [number, number, number, number, number, string][] = [];
  private readonly catalog: NodeCatalog;

  constructor(catalog: NodeCatalog = new NodeCatalog()) {
    this.catalog = catalog;
  }

  /** Adds a node of a known type (or a frontend-only one) and returns its id. */
  add(type: string, widgetsValues?: unknown[], options: BuilderNodeOptions = {}): number {
    const id = this.nodes.length + 1;
    const info = this.catalog.get(type);
    const inputs: UiInput[] = (this.catalog.inputs(type) ?? []).filter((d) => !d.widget).map((d) => ({ name: d.name, type: d.type, link: null }));
    const outputs: UiOutput[] = info
      ? outputTypes(info).map((t, slot) => ({ name: String(info.output_name?.[slot] ?? t), type: t, links: [] }))
      : [];
    if (type === 'Reroute') {
      inputs.push({ name: '', type: '*', link: null });
      outputs.push({ name: '', type: '*', links: [] });
    }
    if (type === 'PrimitiveNode') outputs.push({ name: 'connect to widget input', type: '*', links: [] });
    this.nodes.push({
      id,
      type,
      pos: options.pos ?? [id * 320, 100],
      size: [300, 120],
      flags: {},
      order: id - 1,
      mode: options.mode ?? 0,
      ...(options.title ? { title: options.title } : {}),
      inputs,
      outputs,
      properties: { 'Node name for S&R': type, ...options.properties },
      ...(widgetsValues ? { widgets_values: widgetsValues } : {}),
    });
    return id;
  }

  /** Links `from`'s output slot to `to`'s input (by name, or by index for Reroute and PrimitiveNode targets). */
  connect(from: number, fromSlot: number, to: number, input: string | number): this {
    const source = this.node(from);
    const target = this.node(to);
    const output = source.outputs?.[fromSlot];
    if (!output) throw new ComfyVastError('WORKFLOW_INVALID', `Node ${from} has no output ${fromSlot}`, { details: { nodeId: String(from), field: `outputs.${fromSlot}` } });
    const inputs = (target.inputs ??= []);
    let slot = typeof input === 'number' ? input : inputs.findIndex((i) => i.name === input);
    if (slot < 0) {
      const definition = this.catalog.inputs(target.type)?.find((d) => d.name === input);
      if (!definition) throw new ComfyVastError('WORKFLOW_INVALID', `Node ${to} (${target.type}) has no input "${input}"`, { details: { nodeId: String(to), field: String(input) } });
      inputs.push({ name: definition.name, type: definition.type, link: null, widget: { name: definition.name } });
      slot = inputs.length - 1;
    }
    const linkId = this.links.length + 1;
    const type = String(output.type ?? '*');
    inputs[slot]!.link = linkId;
    (output.links ??= []).push(linkId);
    this.links.push([linkId, from, fromSlot, to, slot, type]);
    return this;
  }

  build(extra: Partial<UiWorkflow> = {}): UiWorkflow {
    return {
      last_node_id: this.nodes.length,
      last_link_id: this.links.length,
      nodes: copyJson(this.nodes),
      links: copyJson(this.links),
      groups: [],
      config: {},
      extra: { ds: { scale: 1, offset: [0, 0] } },
      version: 0.4,
      ...extra,
    };
  }

  private node(id: number): UiNode {
    const node = this.nodes[id - 1];
    if (!node) throw new ComfyVastError('WORKFLOW_INVALID', `No node ${id}`, { details: { nodeId: String(id) } });
    return node;
  }
}
