import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { BUILTIN_WORKFLOWS, analyzeWorkflow, getBuiltinWorkflow, injectParameters, parseObjectInfo, toApiPrompt, type ApiPrompt } from '@comfy-vast/core';
import { realObjectInfo } from './corpus.js';

const objectInfo = parseObjectInfo(realObjectInfo());

describe('built-in workflows', () => {
  it('number 1 is the SDXL text-to-image of the API contract', () => {
    expect(BUILTIN_WORKFLOWS.map((w) => [w.id, w.name])).toEqual([
      [1, 'Text to Image - SDXL'],
      [2, 'Text to Image - SD 1.5'],
      [3, 'Image to Image - SD 1.5'],
      [4, 'Upscale 2x'],
    ]);
    expect(BUILTIN_WORKFLOWS[0]!.requiredModels).toEqual(['sd_xl_base_1.0.safetensors', 'sdxl_vae.safetensors']);
  });

  for (const builtin of BUILTIN_WORKFLOWS) {
    it(`${builtin.name} is valid against a real server's object_info and needs exactly its listed models`, () => {
      const analysis = analyzeWorkflow(builtin.workflow, { objectInfo });
      expect(analysis.warnings).toEqual([]);
      expect(analysis.missingNodes).toEqual([]);
      expect(analysis.requiredModels.map((m) => m.name)).toEqual(builtin.requiredModels);
      // Every model a built-in needs can be downloaded from the catalogue.
      expect(analysis.missingModels.every((m) => m.downloadUrl !== null)).toBe(true);
    });
  }

  it('are frozen; getBuiltinWorkflow gives an editable copy', () => {
    expect(Object.isFrozen(BUILTIN_WORKFLOWS[0]!.workflow.nodes)).toBe(true);
    const count = BUILTIN_WORKFLOWS[0]!.workflow.nodes.length;
    const copy = getBuiltinWorkflow(1)!;
    copy.workflow.nodes.pop();
    expect(copy.workflow.nodes).toHaveLength(count - 1);
    expect(BUILTIN_WORKFLOWS[0]!.workflow.nodes).toHaveLength(count);
    expect(getBuiltinWorkflow(99)).toBeUndefined();
  });
});

describe('built-in workflow 1 on a ComfyUI server', () => {
  let comfy: FakeComfy;
  beforeAll(async () => {
    comfy = await startFakeComfy({ timing: { speed: 1000 }, previews: false });
  });
  afterAll(() => comfy.close());

  async function run(prompt: ApiPrompt): Promise<{ status: number; body: Record<string, unknown>; finished: unknown }> {
    const clientId = 'builtin-test';
    const socket = new WebSocket(`${comfy.url.replace('http', 'ws')}/ws?clientId=${clientId}`);
    await new Promise((resolve) => socket.once('message', resolve));
    const response = await fetch(`${comfy.url}/prompt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt, client_id: clientId }) });
    const body = (await response.json()) as Record<string, unknown>;
    const finished = response.status !== 200 ? undefined : await new Promise((resolve) => {
      socket.on('message', (data, binary) => {
        if (binary) return;
        const message = JSON.parse(String(data)) as { type: string; data: { node?: unknown; prompt_id?: string } };
        if (message.type === 'executing' && message.data.node === null && message.data.prompt_id === body['prompt_id']) resolve(message.data.prompt_id);
      });
    });
    socket.close();
    return { status: response.status, body, finished };
  }

  it('converts, takes the parameters and runs to the end', async () => {
    const { prompt, warnings } = toApiPrompt(BUILTIN_WORKFLOWS[0]!.workflow, { objectInfo });
    expect(warnings).toEqual([]);
    const injected = injectParameters(prompt, { prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', seed: 1234, steps: 3, cfg: 6, width: 768, height: 768 });
    expect(injected.warnings).toEqual([]);
    const { status, body, finished } = await run(injected.prompt);
    expect(status).toBe(200);
    expect(body['node_errors']).toEqual({});
    expect(finished).toBe(body['prompt_id']);
    const history = (await (await fetch(`${comfy.url}/history/${String(body['prompt_id'])}`)).json()) as Record<string, { status: { status_str: string } }>;
    expect(history[String(body['prompt_id'])]!.status.status_str).toBe('success');
  });
});
