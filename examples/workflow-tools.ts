/**
 * Workflow tools without any server: read a workflow, convert it to the API format, set the prompt and
 * the seed, and see which models it needs and how heavy it is.
 *
 *   npx tsx examples/workflow-tools.ts
 */
import { analyzeWorkflow, getBuiltinWorkflow, injectParameters, parseWorkflow, toApiPrompt } from '@comfy-vast/core';

const { workflow } = getBuiltinWorkflow(1)!;
const parsed = parseWorkflow(workflow);
console.log(`format: ${parsed.format}`);

const { prompt, warnings } = toApiPrompt(workflow);
console.log(`converted to ${Object.keys(prompt).length} API nodes, ${warnings.length} warnings`);

const injected = injectParameters(prompt, { prompt: 'a lighthouse at dusk, oil painting', seed: 42, steps: 25, width: 1024, height: 768 });
for (const applied of injected.applied) console.log(`set ${applied.parameter} on node ${applied.nodeId}.${applied.input}`);
if (injected.warnings.length > 0) throw new Error(`unexpected warnings: ${JSON.stringify(injected.warnings)}`);

const analysis = analyzeWorkflow(workflow);
console.log(`needs: ${analysis.requiredModels.map((m) => `${m.name} (${m.folder})`).join(', ')}`);
console.log(`complexity: ${analysis.complexity}, about ${analysis.estimatedGenerationTime}`);
