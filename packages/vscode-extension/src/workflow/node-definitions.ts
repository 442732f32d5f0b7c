import type { LiteGraphData, NodeDefinitionView, WidgetDefinition } from '../protocol/messages.js';
import { describeInputs, outputTypes, type NodeInfo, type ObjectInfo } from './core-adapter.js';

/**
 * The node classes a workflow uses, as the graph editor draws them: ComfyUI's frontend makes one widget per
 * widget input (with a control after a seed and an upload button where the definition asks), a slot per other
 * input, and the outputs. Types the definitions do not know are left out: the editor draws them from the file.
 */
export function nodeDefinitions(types: Iterable<string>, objectInfo: ObjectInfo): Record<string, NodeDefinitionView> {
  const out: Record<string, NodeDefinitionView> = {};
  for (const type of new Set(types)) {
    const info = Object.hasOwn(objectInfo, type) ? objectInfo[type] : undefined;
    if (info) out[type] = definition(type, info);
  }
  return out;
}

/**
 * The input behind each position of a UI node's `widgets_values`, or null for positions that set no input
 * (the control value after a seed, an upload button's value).
 */
export function widgetInputNames(info: NodeInfo): (string | null)[] {
  return widgetsOf(info).map((w) => (w.kind === 'control' || w.kind === 'upload' ? null : w.name));
}

/** A node's widgets in `widgets_values` order, as the frontend makes them. */
function widgetsOf(info: NodeInfo): WidgetDefinition[] {
  const inputs = describeInputs(info);
  const widgets: WidgetDefinition[] = inputs.filter((d) => d.widget).flatMap((d): WidgetDefinition[] => {
    const widget = widgetOf(d.name, d.type, d.options, d.choices);
    return d.control ? [widget, { name: 'control_after_generate', kind: 'control', options: ['fixed', 'increment', 'decrement', 'randomize'] }] : [widget];
  });
  return inputs.some((d) => d.upload) ? [...widgets, { name: 'upload', kind: 'upload' }] : widgets;
}

function definition(type: string, info: NodeInfo): NodeDefinitionView {
  const inputs = describeInputs(info);
  const widgets = widgetsOf(info);
  const names = info.output_name ?? [];
  return {
    title: typeof info.display_name === 'string' && info.display_name ? info.display_name : type,
    inputs: inputs.filter((d) => !d.widget).map((d) => ({ name: d.name, type: d.type })),
    outputs: outputTypes(info).map((t, i) => ({ name: typeof names[i] === 'string' ? names[i] : t, type: t })),
    widgets,
  };
}

function widgetOf(name: string, type: string, options: Record<string, unknown>, choices: readonly unknown[] | undefined): WidgetDefinition {
  const number = (key: string) => (typeof options[key] === 'number' && Number.isFinite(options[key]) ? { [key]: options[key] } : {});
  if (type === 'INT' || type === 'FLOAT') return { name, kind: 'number', integer: type === 'INT', ...number('min'), ...number('max'), ...(Number(options['step']) > 0 ? number('step') : {}) };
  if (type === 'BOOLEAN') return { name, kind: 'toggle' };
  // A model list the definitions leave empty (the bundled ones name no files) takes any name.
  if (type === 'COMBO' && choices && choices.length > 0) return { name, kind: 'combo', options: choices.map(String) };
  return { name, kind: 'text' };
}

/** The node types of a graph and of its subgraph definitions. */
export function usedTypes(graph: LiteGraphData): string[] {
  const subgraphs = (graph['definitions'] as { subgraphs?: unknown } | undefined)?.subgraphs;
  const inner = Array.isArray(subgraphs) ? subgraphs.flatMap((s: { nodes?: unknown }) => (Array.isArray(s?.nodes) ? s.nodes : [])) : [];
  return [...graph.nodes, ...inner].flatMap((n: { type?: unknown }) => (typeof n?.type === 'string' ? [n.type] : []));
}
