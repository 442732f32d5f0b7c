import type { Span } from './json-tree.js';
import { comboChoices, widgetInputNames, type NodeInfo, type ObjectInfo } from './core-adapter.js';
import type { Located, WorkflowDocument, WorkflowNode } from './workflow-doc.js';

export interface Problem {
  span: Span;
  message: string;
  severity: 'error' | 'warning';
  code: 'broken-link' | 'unknown-node-type' | 'missing-model' | 'value-not-in-list' | 'invalid-shape';
}

export interface MissingModel {
  name: string;
  folder?: string;
}

/** What the selected server knows; each check runs only when its part is present. */
export interface ServerKnowledge {
  serverName?: string;
  nodeTypes?: ObjectInfo;
  missingModels?: MissingModel[];
}

/** Frontend-only nodes: they never reach the server, so no server lists them. */
const VIRTUAL_TYPES = new Set(['Reroute', 'PrimitiveNode', 'Note', 'MarkdownNote']);
const SUBGRAPH_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Every semantic problem of a workflow, each pinned to the characters it is about. */
export function findProblems(doc: WorkflowDocument, server: ServerKnowledge = {}): Problem[] {
  const missing = new Map((server.missingModels ?? []).map((m) => [m.name, m]));
  return [
    ...brokenLinks(doc),
    ...(server.nodeTypes ? unknownTypes(doc, server.nodeTypes, server.serverName) : []),
    ...missingModels(doc, missing),
    ...(server.nodeTypes ? valuesNotInList(doc, server.nodeTypes, missing) : []),
  ];
}

function brokenLinks(doc: WorkflowDocument): Problem[] {
  const ids = new Set(doc.nodes.map((n) => n.id));
  const problems: Problem[] = [];
  for (const link of doc.links) {
    for (const [end, id] of [['comes from', link.from], ['goes to', link.to]] as const) {
      if (!ids.has(id)) {
        problems.push({ span: link.span, severity: 'error', code: 'broken-link', message: `Link ${link.id} ${end} node ${id}, which is not in the workflow.` });
      }
    }
  }
  if (doc.format === 'ui') {
    const linkIds = new Set(doc.links.map((l) => l.id));
    for (const node of doc.nodes) {
      for (const input of node.inputs) {
        if (input.linkId !== undefined && !linkIds.has(String(input.linkId))) {
          problems.push({
            span: input.span,
            severity: 'error',
            code: 'broken-link',
            message: `Input "${input.name}" of node ${node.id} uses link ${input.linkId}, which is not in "links".`,
          });
        }
      }
    }
  }
  return problems;
}

function unknownTypes(doc: WorkflowDocument, types: ObjectInfo, serverName = 'the selected server'): Problem[] {
  return doc.nodes
    .filter((n) => !(n.type in types) && !VIRTUAL_TYPES.has(n.type) && !SUBGRAPH_ID.test(n.type))
    .map((n) => ({
      span: n.typeSpan,
      severity: 'error' as const,
      code: 'unknown-node-type' as const,
      message: `Node type "${n.type}" is not installed on ${serverName}: install its custom node pack there or replace the node.`,
    }));
}

/** The literal values of a node, each with the input it sets when that is known. */
function literals(doc: WorkflowDocument, node: WorkflowNode, info: NodeInfo | undefined): { input?: string; value: Located }[] {
  if (doc.format === 'api') return node.inputs.flatMap((i) => (i.literal ? [{ input: i.name, value: i.literal }] : []));
  const names = info ? widgetInputNames(info) : [];
  return node.widgets.map((value, index) => ({ ...(names[index] ? { input: names[index] } : {}), value }));
}

function missingModels(doc: WorkflowDocument, missing: Map<string, MissingModel>): Problem[] {
  if (missing.size === 0) return [];
  return doc.nodes.flatMap((node) =>
    literals(doc, node, undefined)
      .filter(({ value }) => typeof value.value === 'string' && missing.has(value.value))
      .map(({ value }) => {
        const model = missing.get(value.value as string)!;
        return {
          span: value.span,
          severity: 'error' as const,
          code: 'missing-model' as const,
          message: `Model "${model.name}" is missing on the server${model.folder ? ` (models/${model.folder})` : ''}: download it before generating.`,
        };
      }),
  );
}

function valuesNotInList(doc: WorkflowDocument, types: ObjectInfo, missing: Map<string, MissingModel>): Problem[] {
  return doc.nodes
    .filter((node) => node.mode === 'active')
    .flatMap((node) => {
      const info = types[node.type];
      return literals(doc, node, info).flatMap(({ input, value }) => {
        const options = input ? comboChoices(info, input) : undefined;
        if (!options || typeof value.value !== 'string' || options.includes(value.value) || missing.has(value.value)) return [];
        const shown = options.slice(0, 5).join(', ') + (options.length > 5 ? ', …' : '');
        return [
          {
            span: value.span,
            severity: 'error' as const,
            code: 'value-not-in-list' as const,
            message: `"${value.value}" is not a value of ${input} on this server${options.length ? `; available: ${shown}` : ' (the list is empty)'}.`,
          },
        ];
      });
    });
}
