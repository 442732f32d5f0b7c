import type { GraphChange, NodeDefinitionView, WidgetDefinition } from '../protocol/messages.js';
import type { ObjectInfo } from './core-adapter.js';
import { apiWidgetValue } from './graph-model.js';
import { child, items, parseJsonTree, spanOf, valueOf, type JsonNode } from './json-tree.js';
import { nodeDefinitions } from './node-definitions.js';
import { replaceValue, type TextEdit } from './value-edit.js';
import { readWorkflowDocument, type Located } from './workflow-doc.js';

export interface GraphEdits {
  /** At most one edit per stretch of text, ready for one WorkspaceEdit. */
  edits: TextEdit[];
  /** Why some changes were not made, for the user. */
  refused: string[];
}

/**
 * The text edits that make the graph editor's changes in the file: each replaces one value's characters (a widget
 * value, a coordinate, a mode), so the rest of the file, its layout and its key order stay as they were.
 */
export function graphEdits(text: string, changes: GraphChange[], objectInfo: ObjectInfo): GraphEdits {
  const root = parseJsonTree(text);
  const doc = readWorkflowDocument(text);
  const result: GraphEdits = { edits: [], refused: [] };
  if (!root || !doc) return { edits: [], refused: ['The file is not a workflow right now.'] };
  const definitionOf = (type: string) => nodeDefinitions([type], objectInfo)[type];
  const spans = new Set<string>();
  const add = (edit: TextEdit | undefined) => {
    const key = edit && `${edit.offset}:${edit.length}`;
    if (!edit || spans.has(key!)) return;
    spans.add(key!);
    result.edits.push(edit);
  };

  for (const change of changes) {
    if (doc.format === 'api') {
      // An API file keeps no layout: moving nodes there changes nothing in it.
      if (change.kind === 'widget') {
        const node = doc.nodes.find((n) => n.id === change.nodeId);
        const definition = node && definitionOf(node.type);
        const target = node && apiWidgetValue(node, definition, change.index);
        const problem = target ? widgetProblem(target, definition?.widgets[change.index], change.value) : `Node #${change.nodeId} has no such value in the file.`;
        if (problem) result.refused.push(problem);
        else add(replaceValue(target!, change.value));
      } else if (change.kind === 'mode') result.refused.push('An API-format file has no bypass or mute: export from the UI format to keep them.');
      continue;
    }
    const container = graphContainer(root, change.graph);
    if (!container) {
      result.refused.push(`Subgraph ${change.graph} is not in the file.`);
      continue;
    }
    if (change.kind === 'group') {
      const bounding = child(items(child(container, 'groups'))[change.index], 'bounding');
      for (const edit of numbers(bounding, change.value)) add(edit);
      continue;
    }
    const node = items(child(container, 'nodes')).find((n) => String(valueOf(child(n, 'id'))) === change.nodeId);
    if (!node) {
      result.refused.push(`Node #${change.nodeId} is not in the file.`);
      continue;
    }
    switch (change.kind) {
      case 'widget': {
        const value = items(child(node, 'widgets_values'))[change.index];
        const target = value && located(value);
        const problem = target ? widgetProblem(target, definitionOf(String(valueOf(child(node, 'type'))))?.widgets[change.index], change.value) : `Node #${change.nodeId} keeps no value number ${change.index + 1} in the file.`;
        if (problem) result.refused.push(problem);
        else add(replaceValue(target!, change.value));
        break;
      }
      case 'position':
        for (const edit of numbers(child(node, 'pos'), change.value)) add(edit);
        break;
      case 'mode': {
        const mode = child(node, 'mode');
        if (mode?.type === 'number') add(replaceValue(located(mode), change.value));
        else result.refused.push(`Node #${change.nodeId} has no mode in the file.`);
      }
    }
  }
  return result;
}

/** The root graph, or the subgraph definition with that id. */
function graphContainer(root: JsonNode, graph: string | undefined): JsonNode | undefined {
  if (graph === undefined) return root;
  return items(child(child(root, 'definitions'), 'subgraphs')).find((s) => valueOf(child(s, 'id')) === graph);
}

function located(node: JsonNode): Located {
  return { value: valueOf(node), span: spanOf(node), path: [] };
}

/** One edit per coordinate that changed, in an array (`[x, y]`) or litegraph's older object form (`{"0": x, "1": y}`). */
function numbers(node: JsonNode | undefined, values: readonly number[]): TextEdit[] {
  if (!node) return [];
  return values.flatMap((value, i) => {
    const place = node.type === 'array' ? items(node)[i] : child(node, String(i));
    // Whole hundredths: a drag's fractions of a pixel are noise in the file.
    return place?.type === 'number' ? (replaceValue(located(place), Math.round(value * 100) / 100) ?? []) : [];
  });
}

/** Why a widget value cannot be written, by the value's type in the file and the definition's limits and lists. */
export function widgetProblem(target: Located, widget: WidgetDefinition | undefined, value: string | number | boolean): string | undefined {
  const label = widget?.name ?? 'This value';
  if (typeof target.value !== typeof value) return `${label} takes a ${typeof target.value}.`;
  if (widget?.kind === 'upload') return 'The upload button holds no value.';
  if ((widget?.kind === 'combo' || widget?.kind === 'control') && widget.options && !widget.options.includes(String(value))) return `${label} must be one of the listed values.`;
  if (typeof value !== 'number') return undefined;
  if (!Number.isFinite(value)) return `${label} takes a number.`;
  if (widget?.integer && !Number.isInteger(value)) return `${label} takes a whole number.`;
  if (widget?.min !== undefined && value < widget.min) return `${label} must be at least ${widget.min}.`;
  if (widget?.max !== undefined && value > widget.max) return `${label} must be at most ${widget.max}.`;
  return undefined;
}
