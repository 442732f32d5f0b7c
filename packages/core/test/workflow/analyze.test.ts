import { describe, expect, it } from 'vitest';
import { analyzeWorkflow, hasModelExtension, parseObjectInfo, parseWorkflow, toApiPrompt } from '@comfy-vast/core';
import { embeddingNames } from '../../src/workflow/model-refs.js';
import { loadCase, loadCorpus, realObjectInfo } from './corpus.js';

const serverModels = {
  checkpoints: ['sd_xl_base_1.0.safetensors'],
  loras: ['add_detail.safetensors', 'style/watercolor.safetensors'],
  vae: [],
  controlnet: [],
  embeddings: ['easynegative.safetensors'],
};

describe('analyzeWorkflow', () => {
  it('takes the caller\'s conversion of the same workflow instead of converting again, and no other workflow\'s', () => {
    for (const { name, ui } of loadCorpus()) {
      const parsed = parseWorkflow(ui);
      const alone = analyzeWorkflow(parsed, { serverModels });
      expect(analyzeWorkflow(parsed, { serverModels, conversion: toApiPrompt(parsed) }), name).toEqual(alone);
      expect(analyzeWorkflow(ui, { serverModels, conversion: toApiPrompt(ui) }), name).toEqual(alone);
      expect(analyzeWorkflow(parsed, { serverModels, conversion: toApiPrompt(loadCase('lora-chain').ui) }), name).toEqual(alone);
    }
    // The given conversion is the one analysed: without its output node the analysis says so.
    const parsed = parseWorkflow(loadCase('lora-chain').ui);
    const conversion = toApiPrompt(parsed);
    for (const id in conversion.prompt) if (conversion.prompt[id]!.class_type === 'SaveImage') delete conversion.prompt[id];
    expect(analyzeWorkflow(parsed, { conversion }).warnings.map((w) => w.code)).toContain('no_output_node');
    expect(analyzeWorkflow(parsed).warnings.map((w) => w.code)).not.toContain('no_output_node');
    // Made with other node definitions, it is not used.
    const objectInfo = parseObjectInfo(realObjectInfo());
    expect(analyzeWorkflow(parsed, { conversion, objectInfo }).warnings.map((w) => w.code)).not.toContain('no_output_node');
  });

  it('lists the models of a LoRA chain against the server, with the other-OS separator warned about', () => {
    const analysis = analyzeWorkflow(loadCase('lora-chain').ui, { serverModels });
    expect(analysis.requiredModels).toEqual([
      { name: 'sd_xl_base_1.0.safetensors', type: 'checkpoint', folder: 'checkpoints', size: '6.94 GB', available: true, nodeIds: ['4'] },
      { name: 'add_detail.safetensors', type: 'lora', folder: 'loras', size: null, available: true, nodeIds: ['10'] },
      { name: 'style\\watercolor.safetensors', type: 'lora', folder: 'loras', size: null, available: true, nodeIds: ['11'] },
    ]);
    expect(analysis.missingModels).toEqual([]);
    expect(analysis.warnings).toEqual([expect.objectContaining({ code: 'path_separator', nodeId: '11', field: 'lora_name' })]);
    expect(analysis.checkedAgainstServer).toBe(true);
  });

  it('gives missing models a download URL from the catalogue, else from the workflow, else null', () => {
    const ui = structuredClone(loadCase('controlnet').ui) as Record<string, unknown>;
    ui['models'] = [{ name: 'control_v11p_sd15_canny.pth', url: 'https://example.org/canny.pth', directory: 'controlnet' }];
    const analysis = analyzeWorkflow(ui, { serverModels });
    expect(analysis.missingModels).toEqual([
      { name: 'control_v11p_sd15_canny.pth', type: 'controlnet', folder: 'controlnet', size: '1.45 GB', downloadUrl: 'https://example.org/canny.pth', sha256: null, source: 'workflow' },
    ]);
    const fromCatalogue = analyzeWorkflow(loadCase('controlnet').ui, { serverModels }).missingModels[0];
    expect(fromCatalogue).toMatchObject({ downloadUrl: 'https://huggingface.co/lllyasviel/ControlNet-v1-1/resolve/main/control_v11p_sd15_canny.pth', source: 'catalogue' });
    const unknown = analyzeWorkflow(loadCase('lora-chain').ui, { serverModels: { checkpoints: [] } }).missingModels.find((m) => m.name === 'add_detail.safetensors');
    expect(unknown).toMatchObject({ downloadUrl: null, source: null });
  });

  it('finds embeddings in prompt text and model files on unknown nodes', () => {
    const api = structuredClone(loadCase('unknown-node').api);
    api['7']!.inputs['text'] = 'blurry, embedding:easynegative, (embedding:bad_hands:1.2)';
    api['20']!.inputs['upscale_model'] = '4x-UltraSharp.pth';
    const analysis = analyzeWorkflow(api, { serverModels });
    const byName = Object.fromEntries(analysis.requiredModels.map((m) => [m.name, m]));
    expect(byName['easynegative']).toMatchObject({ type: 'embedding', folder: 'embeddings', available: true });
    expect(byName['bad_hands']).toMatchObject({ type: 'embedding', available: false });
    expect(byName['4x-UltraSharp.pth']).toMatchObject({ folder: null, type: 'unknown', available: false });
    expect(analysis.missingNodes).toEqual([{ type: 'UltimateSDUpscale', nodeIds: ['20'] }]);
  });

  it('names the pack of a missing node, and finds model files in its unmapped widget values', () => {
    const ui = structuredClone(loadCase('unknown-node').ui) as { nodes: { id: number; widgets_values?: unknown[] }[] };
    ui.nodes.find((n) => n.id === 20)!.widgets_values!.push('4x-UltraSharp.pth');
    const analysis = analyzeWorkflow(ui);
    expect(analysis.missingNodes).toEqual([{ type: 'UltimateSDUpscale', nodeIds: ['20'], cnr_id: 'comfyui_ultimatesdupscale' }]);
    expect(analysis.requiredModels.find((m) => m.nodeIds.includes('20'))).toMatchObject({ name: '4x-UltraSharp.pth', folder: null, type: 'unknown' });
  });

  it('warns about unconnected required inputs, values not in a list, muted outputs and a missing output node', () => {
    const mute = analyzeWorkflow(loadCase('mute').ui);
    expect(mute.warnings.map((w) => [w.code, w.nodeId])).toEqual([
      ['input_dropped', '9'],
      ['required_input_missing', '9'],
      ['muted_output', '14'],
    ]);
    const api = structuredClone(loadCase('t2i-seed-control').api);
    api['3']!.inputs['sampler_name'] = 'no_such_sampler';
    delete api['9'];
    const codes = analyzeWorkflow(api).warnings.map((w) => w.code);
    expect(codes).toEqual(['value_not_in_list', 'no_output_node']);
  });

  it('rates complexity by sampler work, upscalers and size, and estimates time from the GPU or past runs', () => {
    const sdxl = analyzeWorkflow(loadCase('t2i-seed-control').ui, { gpu: 'NVIDIA GeForce RTX 4090' });
    expect(sdxl.figures).toEqual({ samplerWork: 26.21, samplers: 1, upscalers: 0, nodeCount: 7 });
    expect(sdxl.complexity).toBe('medium');
    // 26.21 step-MP at 8/s plus 4 s fixed ≈ 7.3 s, reported as a 0.8×–1.25× range rounded to 5 s.
    expect(sdxl.estimatedGenerationTime).toBe('5-10 seconds');
    const small = structuredClone(loadCase('t2i-seed-control').api);
    Object.assign(small['5']!.inputs, { width: 512, height: 512 });
    expect(analyzeWorkflow(small).complexity).toBe('low');
    const past = analyzeWorkflow(loadCase('t2i-seed-control').ui, { gpu: 'RTX 4090', pastTimings: [40, 45, 60, 65] });
    expect(past.estimatedGenerationTime).toBe('45-60 seconds');
    const refiner = analyzeWorkflow(loadCase('sdxl-refiner').ui);
    // The refiner runs steps 20..25 of 25 only.
    expect(refiner.figures.samplerWork).toBe(26.21);
  });

  it('checks against a real server object_info', () => {
    const analysis = analyzeWorkflow(loadCase('flux').ui, { objectInfo: parseObjectInfo(realObjectInfo()) });
    expect(analysis.missingNodes).toEqual([]);
    expect(analysis.warnings).toEqual([]);
    expect(analysis.requiredModels.map((m) => [m.name, m.folder])).toEqual([
      ['flux1-dev.safetensors', 'diffusion_models'],
      ['clip_l.safetensors', 'text_encoders'],
      ['t5xxl_fp8_e4m3fn.safetensors', 'text_encoders'],
      ['ae.safetensors', 'vae'],
    ]);
  });
});

describe('embeddingNames', () => {
  it('reads names the way the prompt syntax delimits them, only at a word boundary', () => {
    expect(embeddingNames('embedding:a, (embedding:b:1.2) [embedding:c|x] embedding:sub/d.pt\nnext')).toEqual(['a', 'b', 'c', 'sub/d.pt']);
    expect(embeddingNames('myembedding:x embedding: y embedding:')).toEqual([]);
    expect(embeddingNames('no marker here')).toEqual([]);
    expect(embeddingNames('embedding:embedding:x')).toEqual(['embedding']);
  });
});

describe('model names', () => {
  it('recognises model extensions in any case, and only at the end', () => {
    expect(['Model.SafeTensors', 'x.PT', 'dir/unet.sft'].map(hasModelExtension)).toEqual([true, true, true]);
    expect(['notes.txt', 'archive.safetensors.bak', 'safetensors', 'a.safetensors2'].map(hasModelExtension)).toEqual([false, false, false, false]);
  });

  it('reads loader folders from the table only: a node named like an object property is no loader', () => {
    const analysis = analyzeWorkflow({ '1': { class_type: 'constructor', inputs: { name: 'a.safetensors' } } });
    expect(analysis.requiredModels).toEqual([{ name: 'a.safetensors', type: 'unknown', folder: null, size: null, available: false, nodeIds: ['1'] }]);
  });
});
