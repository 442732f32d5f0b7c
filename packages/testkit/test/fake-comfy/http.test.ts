import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startFakeComfy, type FakeComfy, type FakeComfyOptions } from '../../src/fake-comfy/index.js';
import { getJson, post, Probe, recordedCase, sdxlPrompt } from './helpers.js';

const started: FakeComfy[] = [];
async function fake(options: FakeComfyOptions = {}): Promise<FakeComfy> {
  const f = await startFakeComfy({ timing: { speed: 50 }, ...options });
  started.push(f);
  return f;
}
afterEach(async () => {
  for (const f of started.splice(0)) await f.close();
});

const recorded = (name: string) => recordedCase(name).filter((e) => e.kind === 'http');

async function runToHistory(comfy: FakeComfy, prompt: unknown): Promise<{ id: string; entry: { outputs: Record<string, { images: { filename: string; subfolder: string; type: string }[] }> } }> {
  const { body } = await post(`${comfy.url}/prompt`, { prompt, client_id: 'x' });
  const id = (body as { prompt_id: string }).prompt_id;
  await expect.poll(async () => (await getJson(`${comfy.url}/history/${id}`)).body).toHaveProperty(id);
  const history = (await getJson(`${comfy.url}/history/${id}`)).body as Record<string, never>;
  return { id, entry: history[id]! };
}

describe('fake ComfyUI HTTP routes, against the recorded server', () => {
  it('answers the read-only GETs as recorded', async () => {
    const comfy = await fake({ models: {} });
    for (const e of recorded('basic_gets')) {
      if (e.path === '/object_info') continue; // the fake serves a subset of the recorded classes
      const res = await fetch(`${comfy.url}${e.path}`);
      expect(res.status, e.path).toBe(e.status);
      if (e.status !== 200) continue;
      const body = (await res.json()) as Record<string, unknown>;
      if (e.path === '/system_stats') expect(Object.keys(body.system as object).sort()).toEqual(Object.keys((e.body as { system: object }).system).sort());
      else expect(body, e.path).toEqual(e.body);
    }
  });

  it('gives every recorded invalid prompt the recorded 400 body', async () => {
    const comfy = await fake({ models: {} });
    for (const e of [...recorded('invalid_prompts'), ...recorded('missing_checkpoint')]) {
      const res = await post(`${comfy.url}${e.path}`, e.request_body);
      expect(res.status).toBe(400);
      // Python tracebacks are not reproduced, and Python lists a node's errors in set order.
      const strip = (b: unknown) =>
        JSON.parse(JSON.stringify(b), (k, v: unknown) => {
          if (k === 'traceback') return undefined;
          if (k === 'errors' && Array.isArray(v)) return [...(v as { details: string }[])].sort((x, y) => x.details.localeCompare(y.details));
          return v;
        });
      expect(strip(res.body)).toEqual(strip(e.body));
    }
  });

  it('lists missing models as value_not_in_list with the files it has', async () => {
    const comfy = await fake({ models: { checkpoints: ['a.safetensors'] } });
    const res = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(1) });
    expect(res.status).toBe(400);
    const errors = (res.body as { node_errors: Record<string, { errors: { type: string; details: string }[]; dependent_outputs: string[] }> }).node_errors;
    expect(errors['4']).toMatchObject({ errors: [{ type: 'value_not_in_list', details: "ckpt_name: 'sd_xl_base_1.0.safetensors' not in ['a.safetensors']" }], dependent_outputs: ['9'] });
    comfy.setModels('checkpoints', ['sd_xl_base_1.0.safetensors']);
    expect((await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(1) })).status).toBe(200);
  });

  it('accepts a prompt with one good output and reports the bad one in node_errors (200)', async () => {
    const comfy = await fake();
    const prompt = { ...sdxlPrompt(1), '10': { class_type: 'SaveImage', inputs: { images: ['5', 0], filename_prefix: 'x' } } };
    const res = await post(`${comfy.url}/prompt`, { prompt });
    expect(res.status).toBe(200);
    expect((res.body as { node_errors: Record<string, { errors: { type: string }[] }> }).node_errors['10']!.errors[0]!.type).toBe('return_type_mismatch');
  });

  it('saves real PNGs, the same bytes for the same seed and prompt, served by /view with their type', async () => {
    const [a, b] = [await fake(), await fake()];
    const hashes: string[] = [];
    for (const [comfy, seed] of [[a, 11], [b, 11], [a, 12]] as const) {
      const { entry } = await runToHistory(comfy, sdxlPrompt(seed, 2, 48));
      const image = entry.outputs['9']!.images[0]!;
      const res = await fetch(`${comfy.url}/view?filename=${image.filename}&type=${image.type}&subfolder=`);
      expect(res.headers.get('content-type')).toBe('image/png');
      const bytes = Buffer.from(await res.arrayBuffer());
      expect(Number(res.headers.get('content-length'))).toBe(bytes.length);
      expect(bytes.subarray(1, 4).toString()).toBe('PNG');
      expect([bytes.readUInt32BE(16), bytes.readUInt32BE(20)]).toEqual([48, 48]);
      hashes.push(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(hashes[0]).toBe(hashes[1]);
    expect(hashes[2]).not.toBe(hashes[0]);
    expect((await fetch(`${a.url}/view?filename=../x.png`)).status).toBe(400);
    expect((await fetch(`${a.url}/view?filename=x.png&subfolder=../..`)).status).toBe(403);
  });

  it('queues in heap order with negative numbers for front, deletes and clears pending items', async () => {
    const comfy = await fake({ faults: [{ kind: 'hang' }] });
    const ids: string[] = [];
    for (const [i, front] of [[0, false], [1, false], [2, false], [3, false], [4, true]] as const) {
      ids.push(((await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(100 + i), front })).body as { prompt_id: string }).prompt_id);
    }
    await expect.poll(async () => ((await getJson(`${comfy.url}/queue`)).body as { queue_running: unknown[] }).queue_running.length).toBe(1);
    const queue = (await getJson(`${comfy.url}/queue`)).body as { queue_pending: [number, string][] };
    const numbers = queue.queue_pending.map((i) => i[0]);
    expect([...numbers].sort((x, y) => x - y)).toEqual([-4, 1, 2, 3]);
    expect(numbers).not.toEqual([...numbers].sort((x, y) => x - y));
    expect((await post(`${comfy.url}/queue`, { delete: [ids[1]] })).status).toBe(200);
    expect(((await getJson(`${comfy.url}/queue`)).body as { queue_pending: unknown[] }).queue_pending).toHaveLength(3);
    await post(`${comfy.url}/queue`, { clear: true });
    expect(((await getJson(`${comfy.url}/queue`)).body as { queue_pending: unknown[] }).queue_pending).toHaveLength(0);
  });

  it('reports jobs through /api/jobs, 404 for unknown ids, and requires UUID prompt ids', async () => {
    const comfy = await fake();
    expect((await getJson(`${comfy.url}/api/jobs/00000000-0000-4000-8000-000000000000`)).status).toBe(404);
    expect(((await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(1), prompt_id: 'not-a-uuid' })).body as { error: { type: string } }).error.type).toBe('invalid_prompt_id');
    const { id } = await runToHistory(comfy, sdxlPrompt(2, 2));
    const job = (await getJson(`${comfy.url}/api/jobs/${id}`)).body as Record<string, unknown>;
    expect(job).toMatchObject({ id, status: 'completed', outputs_count: 1 });
    expect(job).toHaveProperty('workflow.prompt');
    const list = (await getJson(`${comfy.url}/api/jobs?status=completed`)).body as { jobs: { id: string }[]; pagination: { total: number } };
    expect(list.jobs.map((j) => j.id)).toEqual([id]);
  });

  it('behaves like a server older than the jobs API when asked', async () => {
    const comfy = await fake({ jobsApi: false });
    expect((await getJson(`${comfy.url}/api/jobs`)).status).toBe(404);
    const res = await post(`${comfy.url}/prompt`, { prompt: sdxlPrompt(1, 1), prompt_id: 'probe-custom-id-0001' });
    expect(res.body).toMatchObject({ prompt_id: 'probe-custom-id-0001' });
  });

  it('stores uploads in the input folder, renames clashes and lists them for LoadImage', async () => {
    const comfy = await fake();
    const upload = async (bytes: string) => {
      const form = new FormData();
      form.append('image', new Blob([bytes], { type: 'image/png' }), 'in.png');
      return (await (await fetch(`${comfy.url}/upload/image`, { method: 'POST', body: form })).json()) as { name: string };
    };
    expect(await upload('one')).toEqual({ name: 'in.png', subfolder: '', type: 'input' });
    expect((await upload('one')).name).toBe('in.png');
    expect((await upload('two')).name).toBe('in (1).png');
    const info = (await getJson(`${comfy.url}/object_info/LoadImage`)).body as { LoadImage: { input: { required: { image: [string[]] } } } };
    expect(info.LoadImage.input.required.image[0]).toEqual(['in (1).png', 'in.png']);
    const prompt = {
      '1': { class_type: 'LoadImage', inputs: { image: 'in.png' } },
      '2': { class_type: 'ImageInvert', inputs: { image: ['1', 0] } },
      '3': { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'inv' } },
    };
    expect((await post(`${comfy.url}/prompt`, { prompt })).status).toBe(200);
  });

  it('requires the Bearer token on HTTP and the token query on the socket when one is set', async () => {
    const comfy = await fake({ token: 's3cret' });
    expect((await fetch(`${comfy.url}/system_stats`)).status).toBe(401);
    expect((await fetch(`${comfy.url}/system_stats`, { headers: { authorization: 'Bearer s3cret' } })).status).toBe(200);
    const refused = new Probe(`${comfy.url.replace('http', 'ws')}/ws?clientId=a`);
    await expect(new Promise((resolve, reject) => refused.ws.once('open', resolve).once('error', reject))).rejects.toThrow(/401/);
    const ok = await Probe.open(comfy.url, '?clientId=a&token=s3cret');
    expect(ok.frames).toHaveLength(1);
    ok.close();
  });
});
