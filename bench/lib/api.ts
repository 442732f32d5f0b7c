/** Setting up what a benchmark measures, through the API as a user would. */
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { startChild, type Child } from './child.js';

export const TOKEN = 'bench-admin-token-0123456789abcdef0123456789';

export interface Stack {
  server: Child;
  comfy: Child;
  url: string;
  api: ApiClient;
  serverIds: number[];
  comfyUrls: string[];
  stop(): Promise<void>;
}

/** The API server and `comfies` fake ComfyUIs, each in its own process, with one attached server per fake. */
export async function startStack(comfies: { count: number; nodeMs: number; stepMs: number; previews: boolean }): Promise<Stack> {
  const [server, comfy] = await Promise.all([startChild('api-server', { token: TOKEN }, { built: true }), startChild('fake-comfy', comfies)]);
  const url = await server.call<string>('url');
  const comfyUrls = await comfy.call<string[]>('urls');
  const api = createClient({ baseUrl: url, token: TOKEN });
  const serverIds: number[] = [];
  for (const [i, comfyUrl] of comfyUrls.entries()) serverIds.push((await api.createServer({ body: { name: `gpu-${i}`, comfyUrl } })).id);
  return {
    server,
    comfy,
    url,
    api,
    serverIds,
    comfyUrls,
    async stop() {
      await server.stop();
      await comfy.stop();
    },
  };
}
