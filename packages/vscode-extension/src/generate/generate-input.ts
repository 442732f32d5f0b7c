import type { GenerateInput } from '../api/port.js';
import { CORE_OBJECT_INFO, type ObjectInfo } from '../workflow/core-adapter.js';
import { findParameters } from '../workflow/parameters.js';
import type { WorkflowDocument } from '../workflow/workflow-doc.js';

/**
 * The generate request for a workflow file: the file itself plus its current form values as parameters, so the
 * server runs exactly what the file says (a seed missing from the request would be randomised by the server).
 * `objectInfo` names the widgets of custom nodes: the server's definitions when known.
 */
export function generateInput(json: unknown, doc: WorkflowDocument, fallbackPrompt: string, objectInfo: ObjectInfo = CORE_OBJECT_INFO): GenerateInput {
  const values = new Map(findParameters(json, doc, objectInfo).map((p) => [p.field.name, p.field.value]));
  const parameters: Record<string, number | string> = {};
  for (const [key, value] of values) if (key !== 'prompt' && key !== 'negativePrompt') parameters[key] = value;
  const prompt = values.get('prompt');
  const negative = values.get('negativePrompt');
  return {
    workflow: json,
    prompt: typeof prompt === 'string' && prompt.trim() ? prompt : fallbackPrompt,
    ...(typeof negative === 'string' ? { negativePrompt: negative } : {}),
    parameters,
  };
}
