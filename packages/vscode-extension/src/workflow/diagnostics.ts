import type { Span } from './json-tree.js';
import { numberLimits, type NodeInfo, type ObjectInfo } from './core-adapter.js';
import { widgetInputNames } from './node-definitions.js';
import type { Located, WorkflowDocument, WorkflowNode } from './workflow-doc.js';

export interface Problem {
  span: Span;
  message: string;
  severity: 'error' | 'warning';
  code: 'broken-link' | 'unknown-node-type' | 'missing-model' | 'value-not-in-list' | 'missing-input' | 'invalid-shape' | 'value-out-of-range' | 'value-off-step';
  /** The node it is about, when there is one. */
  nodeId?: string;
}

export interface MissingModel {
  name: string;
  folder?: string;
}

/** A warning of core's analysis that names a node and an input (for example `value_not_in_list`). */
export interface NodeWarning {
  code: string;
  message: string;
  nodeId?: string;
  field?: string;
}

/** What an analysis (the selected server's, else core's offline one) found; each check runs on what is given. */
export interface AnalysisFindings {
  serverName?: string;
  /** Node types the server does not have. */
  missingNodeTypes?: string[];
  missingModels?: MissingModel[];
  warnings?: NodeWarning[];
  /** Definitions used to find which `widgets_values` entry an input is saved in. */
  objectInfo: ObjectInfo;
}

const SUBGRAPH_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Analysis warnings shown as diagnostics: the ones about one value the user can fix in place. */
const LOCATED_WARNINGS: Record<string, Problem['code']> = { value_not_in_list: 'value-not-in-list', required_input_missing: 'missing-input' };

/** Every semantic problem of a workflow, each pinned to the characters it is about. */
export function findProblems(doc: WorkflowDocument, findings: AnalysisFindings): Problem[] {
  const missing = new Map((findings.missingModels ?? []).map((m) => [m.name, m]));
  return [
    ...brokenLinks(doc),
    ...unknownTypes(doc, new Set(findings.missingNodeTypes ?? []), findings.serverName),
    ...missingModels(doc, missing),
    ...locatedWarnings(doc, findings),
    ...outOfRange(doc, findings.objectInfo),
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
            nodeId: node.id,
            message: `Input "${input.name}" of node ${node.id} uses link ${input.linkId}, which is not in "links".`,
          });
        }
      }
    }
  }
  return problems;
}

function unknownTypes(doc: WorkflowDocument, missing: Set<string>, serverName = 'the selected server'): Problem[] {
  return doc.nodes
    .filter((n) => missing.has(n.type) && !SUBGRAPH_ID.test(n.type))
    .map((n) => ({
      span: n.typeSpan,
      severity: 'error' as const,
      code: 'unknown-node-type' as const,
      nodeId: n.id,
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
          nodeId: node.id,
          message: `Model "${model.name}" is missing on the server${model.folder ? ` (models/${model.folder})` : ''}: download it before generating.`,
        };
      }),
  );
}

/** Where the value of `input` is written on a node: an API literal, or the UI widget that saves it. */
function inputValue(doc: WorkflowDocument, node: WorkflowNode, input: string, objectInfo: ObjectInfo): Located | undefined {
  return literals(doc, node, objectInfo[node.type]).find((l) => l.input === input)?.value;
}

function locatedWarnings(doc: WorkflowDocument, findings: AnalysisFindings): Problem[] {
  return (findings.warnings ?? []).flatMap((w) => {
    const code = LOCATED_WARNINGS[w.code];
    const node = code && doc.nodes.find((n) => n.id === w.nodeId);
    if (!code || !node) return [];
    const value = w.field ? inputValue(doc, node, w.field, findings.objectInfo) : undefined;
    return [{ span: value?.span ?? node.typeSpan, severity: 'error' as const, code, message: w.message, nodeId: node.id }];
  });
}

/**
 * Numbers outside their definition's min and max, which the server refuses; integers off their step (an image
 * size not a multiple of 8), which ComfyUI's widget would round.
 */
function outOfRange(doc: WorkflowDocument, objectInfo: ObjectInfo): Problem[] {
  // Muted and bypassed nodes never reach the server.
  return doc.nodes.filter((n) => n.mode === 'active').flatMap((node) => {
    const info = objectInfo[node.type];
    return literals(doc, node, info).flatMap(({ input, value }): Problem[] => {
      const limits = input ? numberLimits(info, input) : undefined;
      const v = value.value;
      if (!limits || typeof v !== 'number') return [];
      const at = { span: value.span, nodeId: node.id };
      if (limits.min !== undefined && v < limits.min) return [{ ...at, severity: 'error', code: 'value-out-of-range', message: `"${input}" is ${v}, below its minimum ${limits.min}.` }];
      if (limits.max !== undefined && v > limits.max) return [{ ...at, severity: 'error', code: 'value-out-of-range', message: `"${input}" is ${v}, above its maximum ${limits.max}.` }];
      if (limits.integer && limits.step && limits.step > 1 && (v - (limits.min ?? 0)) % limits.step !== 0) {
        return [{ ...at, severity: 'warning', code: 'value-off-step', message: `"${input}" is ${v}, not a step of ${limits.step} (ComfyUI rounds it).` }];
      }
      return [];
    });
  });
}
