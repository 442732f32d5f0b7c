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
    listServers: () => notOffered('server listing'),
    startServer: () => notOffered('starting servers'),
    stopServer: () => notOffered('stopping servers'),
    deleteServer: () => notOffered('deleting servers'),
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
