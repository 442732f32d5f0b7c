import type { ParameterField, ParameterName } from '../protocol/messages.js';
import { comboChoices, numberLimits, parameterTargets, type ObjectInfo } from './core-adapter.js';
import type { Located, WorkflowDocument } from './workflow-doc.js';

/** One field of the form and every place in the text that holds its value (a refiner has two samplers). */
export interface ParameterTarget {
  field: ParameterField;
  targets: Located[];
}

const KINDS: Record<ParameterName, ParameterField['kind']> = {
  prompt: 'text',
  negativePrompt: 'text',
  seed: 'integer',
  steps: 'integer',
  cfg: 'number',
  sampler: 'choice',
  scheduler: 'choice',
  denoise: 'number',
  width: 'integer',
  height: 'integer',
  batchSize: 'integer',
};

const LABELS: Record<ParameterName, string> = {
  prompt: 'Prompt',
  negativePrompt: 'Negative prompt',
  seed: 'Seed',
  steps: 'Steps',
  cfg: 'CFG scale',
  sampler: 'Sampler',
  scheduler: 'Scheduler',
  denoise: 'Denoise',
  width: 'Width',
  height: 'Height',
  batchSize: 'Batch size',
};

/**
 * The form: the parameters core's injector would set (same targets as a generate request's parameters), each
 * located in the text so that an edit replaces just its value. Values held where the text cannot be pointed
 * at (inside subgraphs, object-form widget values) are left out.
 */
export function findParameters(json: unknown, doc: WorkflowDocument, objectInfo: ObjectInfo): ParameterTarget[] {
  const byName = new Map<ParameterName, ParameterTarget>();
  for (const target of parameterTargets(json, objectInfo)) {
    const node = doc.nodes.find((n) => n.id === (target.widget?.nodeId ?? target.nodeId));
    const located = doc.format === 'ui'
      ? typeof target.widget?.slot === 'number' ? node?.widgets[target.widget.slot] : undefined
      : node?.inputs.find((i) => i.name === target.input)?.literal;
    if (!located || (typeof located.value !== 'string' && typeof located.value !== 'number')) continue;
    const existing = byName.get(target.parameter);
    if (existing) {
      existing.targets.push(located);
      continue;
    }
    const options = KINDS[target.parameter] === 'choice' ? comboChoices(objectInfo[target.classType], target.input) : undefined;
    const kind = KINDS[target.parameter] === 'choice' && !options ? 'text' : KINDS[target.parameter];
    const { min, max, step } = numberLimits(objectInfo[target.classType], target.input) ?? {};
    byName.set(target.parameter, {
      targets: [located],
      field: {
        name: target.parameter,
        label: LABELS[target.parameter],
        kind,
        value: located.value,
        ...(options ? { options } : {}),
        ...(min !== undefined ? { min } : {}),
        ...(max !== undefined ? { max } : {}),
        ...(step !== undefined && kind === 'integer' ? { step } : {}),
        node: `${target.title ?? target.classType} #${target.nodeId}`,
      },
    });
  }
  const order = Object.keys(LABELS);
  return [...byName.values()].sort((a, b) => order.indexOf(a.field.name) - order.indexOf(b.field.name));
}
