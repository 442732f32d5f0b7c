import { describe, expect, it } from 'vitest';
import { analyzeLocally } from '../../src/workflow/core-adapter.js';
import { widgetInputNames } from '../../src/workflow/node-definitions.js';
import { findProblems } from '../../src/workflow/diagnostics.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { fixtureText, objectInfo } from './fixtures.js';

const at = (text: string, span: { offset: number; length: number }) => text.slice(span.offset, span.offset + span.length);

describe('widgetInputNames', () => {
  it('follows the frontend: a control value after the seed, a button value after an upload combo', () => {
    const info = objectInfo();
    expect(widgetInputNames(info.KSampler!)).toEqual(['seed', null, 'steps', 'cfg', 'sampler_name', 'scheduler', 'denoise']);
    expect(widgetInputNames(info.LoadImage!)).toEqual(['image', null]);
    expect(widgetInputNames(info.VAEDecode!)).toEqual([]);
  });
});

describe('findProblems', () => {
  it('finds nothing wrong in a sound workflow', () => {
    const text = fixtureText('txt2img.comfy.json');
    const analysis = analyzeLocally(JSON.parse(text), objectInfo())!;
    expect(findProblems(readWorkflowDocument(text)!, { objectInfo: objectInfo(), warnings: analysis.warnings })).toEqual([]);
  });

  it('pins a broken link and a node type the server lacks to their characters', () => {
    const text = fixtureText('workspace/workflows/broken.comfy.json');
    const problems = findProblems(readWorkflowDocument(text)!, { objectInfo: objectInfo(), missingNodeTypes: ['VAEDecodeTurbo'], serverName: 'gpu-1' });
    expect(problems.map((p) => [p.code, at(text, p.span).replace(/\s+/g, '')])).toEqual([
      ['broken-link', '[9,8,0,99,0,"IMAGE"]'],
      ['unknown-node-type', '"VAEDecodeTurbo"'],
    ]);
    expect(problems[1]!.message).toContain('not installed on gpu-1');
  });

  it('reports an input whose link id is missing from "links"', () => {
    const text = JSON.stringify({ nodes: [{ id: 1, type: 'VAEDecode', inputs: [{ name: 'samples', type: 'LATENT', link: 42 }] }], links: [] });
    const [problem] = findProblems(readWorkflowDocument(text)!, { objectInfo: objectInfo() });
    expect(problem).toMatchObject({ code: 'broken-link', message: expect.stringContaining('link 42') });
    expect(at(text, problem!.span)).toBe('42');
  });

  it('marks a model missing on the server where the workflow names it', () => {
    const text = fixtureText('txt2img.comfy.json').replace('v1-5-pruned-emaonly.safetensors', 'sd_xl_base_1.0.safetensors');
    const problems = findProblems(readWorkflowDocument(text)!, { objectInfo: objectInfo(), missingModels: [{ name: 'sd_xl_base_1.0.safetensors', folder: 'checkpoints' }] });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'missing-model', message: expect.stringContaining('models/checkpoints') });
    expect(at(text, problems[0]!.span)).toBe('"sd_xl_base_1.0.safetensors"');
  });

  it('puts core’s "not one of the values" warning on the value itself, in both formats', () => {
    for (const file of ['txt2img.comfy.json', 'txt2img-api.json']) {
      const text = fixtureText(file).replace('"euler"', '"euler_turbo"');
      const { warnings } = analyzeLocally(JSON.parse(text), objectInfo())!;
      const problems = findProblems(readWorkflowDocument(text)!, { objectInfo: objectInfo(), warnings });
      expect(problems.map((p) => [p.code, at(text, p.span)])).toEqual([['value-not-in-list', '"euler_turbo"']]);
      expect(problems[0]!.message).toContain('sampler_name');
    }
  });

  it('falls back to the node type when a warning names an input the file does not hold', () => {
    const text = fixtureText('txt2img-api.json');
    const problems = findProblems(readWorkflowDocument(text)!, { objectInfo: objectInfo(), warnings: [{ code: 'required_input_missing', message: 'Node 8: "vae" is not connected', nodeId: '8', field: 'vae_missing' }] });
    expect(problems.map((p) => [p.code, at(text, p.span)])).toEqual([['missing-input', '"VAEDecode"']]);
  });

  it('marks numbers outside their definition’s limits, and integers off their step, on the value', () => {
    const text = fixtureText('txt2img.comfy.json').replace('20,\n        8,', '-5,\n        8,').replace('512,\n        512', '513,\n        512');
    const problems = findProblems(readWorkflowDocument(text)!, { objectInfo: objectInfo() });
    expect(problems.map((p) => [p.code, p.severity, p.nodeId, at(text, p.span)])).toEqual([
      ['value-off-step', 'warning', '5', '513'],
      ['value-out-of-range', 'error', '3', '-5'],
    ]);
    expect(problems[1]!.message).toBe('"steps" is -5, below its minimum 1.');
  });
});
