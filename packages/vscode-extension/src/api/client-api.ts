import { createClient, type ApiClient } from '@comfy-vast/server/client';
import type { ComfyVastApi } from './port.js';

/** A request the connected API server does not offer. */
function notOffered(what: string): never {
  throw Object.assign(new Error(`This comfy-vast server does not offer ${what}`), { code: 'NOT_SUPPORTED' });
}

/** The extension's view of the API, over the typed client of `@comfy-vast/server/client`. */
export function createClientApi(baseUrl: string, token: string): ComfyVastApi {
  const client: ApiClient = createClient({ baseUrl, token });
  return {
    async whoAmI() {
      await client.health();
      return (await client.me()).username;
    },
    async listServers() {
      return (await client.listServers()).map((s) => ({
        id: s.id,
        name: s.name,
        status: s.status,
        ...(s.gpu ? { gpu: s.gpuCount && s.gpuCount > 1 ? `${s.gpuCount}× ${s.gpu}` : s.gpu } : {}),
        pricePerHour: s.pricePerHour,
        costSoFar: s.costSoFar,
      }));
    },
    startServer: async (id) => void (await client.startServer({ params: { id } })),
    stopServer: async (id) => void (await client.stopServer({ params: { id } })),
    deleteServer: async (id) => void (await client.deleteServer({ params: { id } })),
    listGenerations: () => notOffered('generation history'),
    nodeTypes: async () => undefined,
    analyze: () => notOffered('workflow analysis'),
    convert: () => notOffered('workflow conversion'),
    generate: () => notOffered('generations'),
    cancel: () => notOffered('cancelling generations'),
    watch: () => notOffered('generation events'),
    image: () => notOffered('image downloads'),
  };
}
