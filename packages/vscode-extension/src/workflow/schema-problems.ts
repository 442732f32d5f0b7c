import { schemaIssues } from './core-adapter.js';
import type { Problem } from './diagnostics.js';
import type { WorkflowDocument } from './workflow-doc.js';

/** Core's shape checks, pinned to the node they name (or the whole document when they name none). */
export function schemaProblems(text: string, doc: WorkflowDocument): Problem[] {
  return schemaIssues(JSON.parse(text)).map((issue) => {
    const node = doc.nodes.find((n) => n.id === issue.nodeId);
    return {
      span: node?.typeSpan ?? { offset: 0, length: 1 },
      severity: 'error' as const,
      code: 'invalid-shape' as const,
      message: `${issue.field ? `${issue.field}: ` : ''}${issue.message}`,
      ...(node ? { nodeId: node.id } : {}),
    };
  });
}
