/**
 * The API reference's "Complete Generation Workflow", made to run: create a server, wait until its ComfyUI
 * answers, generate, follow progress over the WebSocket, download the image.
 *
 *   COMFY_VAST_URL=http://127.0.0.1:5000 COMFY_VAST_TOKEN=$(cat data/admin-token) node examples/generate-rest.mjs
 *
 * What the reference's snippet gets wrong, and this fixes: every call needs the Bearer token; `fetch` answers
 * are read with `.json()` before use; the WebSocket needs the token and must be open before it can send; the
 * vastai/comfy image starts ComfyUI on boot, so instead of a setup step we wait for `isLaunched`.
 */
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const base = process.env.COMFY_VAST_URL ?? 'http://127.0.0.1:5000';
const token = process.env.COMFY_VAST_TOKEN;
if (!token) throw new Error('Set COMFY_VAST_TOKEN to an API token (the admin token is in data/admin-token)');

const WebSocketImpl = globalThis.WebSocket ?? (await import('ws')).default;

async function api(method, path, body) {
  const response = await fetch(`${base}/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await response.json();
  if (!response.ok) throw new Error(`${method} ${path}: ${data.code}: ${data.error}`);
  return data;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// 1. Create a server.
const server = await api('POST', '/vast-servers', { name: 'My GPU Server', gpu: 'RTX 4090', gpuCount: 1 });
console.log(`server ${server.id}: ${server.status} at ${server.pricePerHour} $/h`);

try {
  // 2-3. Wait until it runs and its ComfyUI answers.
  for (let i = 0; ; i++) {
    const current = await api('GET', `/vast-servers/${server.id}`);
    if (current.status === 'running' && current.isLaunched) break;
    if (current.status === 'error') throw new Error(`server failed: ${current.statusReason}`);
    if (i > 300) throw new Error('server did not start in time');
    await sleep(1000);
  }
  console.log('ComfyUI is ready');

  // 4. Open the event stream first, so no event is missed, then generate.
  const ws = new WebSocketImpl(`${base.replace(/^http/, 'ws')}/api/ws?token=${encodeURIComponent(token)}`);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = () => reject(new Error('cannot open the WebSocket'));
  });

  const generation = await api('POST', `/comfy/${server.id}/generate`, { prompt: 'a beautiful sunset over the ocean', workflowId: 1, parameters: { steps: 20, seed: -1 } });
  console.log(`generation ${generation.generationId} queued at position ${generation.queuePosition} (seed ${generation.seed})`);

  // 5. Follow its progress.
  const imageUrls = await new Promise((resolve, reject) => {
    ws.onmessage = (event) => {
      const data = JSON.parse(String(event.data));
      if (data.generationId !== generation.generationId) return;
      if (data.type === 'progress') console.log(`  ${Math.round(data.data.progress)}% ${data.data.currentNode ?? ''}`);
      if (data.type === 'complete') resolve(data.data.imageUrls);
      if (data.type === 'error') reject(new Error(`${data.data.error}: ${data.data.details ?? ''}`));
    };
    ws.send(JSON.stringify({ type: 'subscribe', generationId: generation.generationId }));
  });
  ws.close();
  console.log('Images ready:', imageUrls);

  // 6. Download the images (they are kept by the API server, so they outlive the rented box).
  for (const url of imageUrls) {
    const response = await fetch(`${base}${url}`, { headers: { authorization: `Bearer ${token}` } });
    if (!response.ok) throw new Error(`GET ${url}: ${response.status}`);
    const file = join(tmpdir(), url.split('/').pop());
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
    console.log(`saved ${file} (${response.headers.get('content-type')})`);
  }
} finally {
  // Nothing should bill after the example: delete the server.
  await api('DELETE', `/vast-servers/${server.id}`);
  console.log('server deleted');
}
