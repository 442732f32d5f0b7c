import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@comfy-vast/server/client';
import { createClientApi } from '../../src/api/client-api.js';
import type { ComfyVastApi, GenerationEvent } from '../../src/api/port.js';
import { generateInput } from '../../src/generate/generate-input.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';

const text = readFileSync(new URL('../fixtures/txt2img.comfy.json', import.meta.url), 'utf8');

describe('the extension’s API over the real server (simulated GPU provider)', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let api: ComfyVastApi;
  let gpuId: number;

  beforeAll(async () => {
    server = await startApiServer();
    const admin = createClient({ baseUrl: server.url, token: ADMIN_TOKEN });
    gpuId = await launchGpu(admin);
    api = createClientApi(server.url, ADMIN_TOKEN);
  }, 120_000);
  afterAll(() => server?.stop());

  it('lists the server with its status, GPU and price', async () => {
    expect(await api.listServers()).toEqual([expect.objectContaining({ id: gpuId, name: 'gpu-1', status: 'running', gpu: 'RTX 4090', pricePerHour: expect.any(String) })]);
  });

  it('analyses the workflow against the server and converts it to API format', async () => {
    const analysis = await api.analyze(gpuId, JSON.parse(text));
    expect(analysis.requiredModels.map((m) => m.name)).toContain('v1-5-pruned-emaonly.safetensors');
    expect(analysis.missingNodeTypes).toEqual([]);
    const prompt = await api.convert(JSON.parse(text), gpuId);
    expect(prompt['3']).toMatchObject({ class_type: 'KSampler', inputs: { steps: 20, sampler_name: 'euler' } });
  });

  it('generates from the file, follows the events to completion and downloads a PNG', async () => {
    const input = generateInput(JSON.parse(text), readWorkflowDocument(text)!, 'txt2img');
    const { generationId } = await api.generate(gpuId, input);
    const events: GenerationEvent[] = [];
    const done = await new Promise<GenerationEvent>((resolve) => {
      void api.watch(generationId, (event) => {
        events.push(event);
        if (event.type !== 'progress') resolve(event);
      });
    });
    expect(done).toMatchObject({ type: 'complete' });
    // The running sampler is named by its node id in the file (a top-level node keeps it in the prompt) as well as by its class.
    const sampler = readWorkflowDocument(text)!.nodes.find((n) => n.type === 'KSampler')!;
    expect(events).toContainEqual(expect.objectContaining({ type: 'progress', currentNode: 'KSampler', currentNodeId: String(sampler.id) }));
    const urls = (done as Extract<GenerationEvent, { type: 'complete' }>).imageUrls;
    const bytes = await api.image(urls[0]!);
    expect(Buffer.from(bytes.subarray(1, 4)).toString()).toBe('PNG');
    const history = await api.listGenerations(gpuId);
    expect(history[0]).toMatchObject({ id: generationId, status: 'completed', prompt: input.prompt });
  });

  it('follows a server’s status, and ends the stream for a server that does not exist', async () => {
    const statuses: string[] = [];
    const stop = await api.watchServer(gpuId, (status) => statuses.push(status));
    await new Promise<void>((resolve) => {
      const check = setInterval(() => statuses.length > 0 && (clearInterval(check), resolve()), 20);
    });
    stop();
    expect(statuses[0]).toBe('running');
    const ended = await new Promise<boolean>((resolve) => void api.watchServer(99_999, () => resolve(false), () => resolve(true)));
    expect(ended).toBe(true);
  });
});
