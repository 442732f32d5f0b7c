import { createClient, type ApiClient, type ApiEvent, type SubscribeTarget } from '@comfy-vast/server/client';
import type { ComfyVastApi, DownloadInfo, GenerationEvent, ServerInfo } from './port.js';

/** A generation's event in the extension's words; the stream's other messages are not the runner's business. */
function toGenerationEvent(event: ApiEvent, generationId: number): GenerationEvent | undefined {
  if (!('generationId' in event) || event.generationId !== generationId) return undefined;
  switch (event.type) {
    case 'progress': {
      const { status, progress, currentNode, currentNodeId, previewImage } = event.data;
      return { type: 'progress', status, progress, ...(currentNode ? { currentNode } : {}), ...(currentNodeId ? { currentNodeId } : {}), ...(previewImage ? { previewImage } : {}) };
    }
    case 'complete':
      return { type: 'complete', imageUrls: event.data.imageUrls };
    case 'error': {
      // Either the generation failed or was cancelled, or the subscription was refused (the generation is missing).
      if ('code' in event.data) return { type: 'error', error: event.data.error };
      const { status, error, node, details } = event.data;
      return { type: 'error', error: status === 'cancelled' ? 'Cancelled' : error, ...(node ? { node } : {}), ...(details ? { details } : {}) };
    }
    default:
      return undefined;
  }
}

type DownloadProgress = Awaited<ReturnType<ApiClient['getDownload']>>;

function downloadInfo(d: DownloadProgress): DownloadInfo {
  return {
    downloadId: d.downloadId,
    status: d.status,
    progress: d.progress,
    ...(d.downloadSpeed ? { downloadSpeed: d.downloadSpeed } : {}),
    ...(d.estimatedTimeRemaining ? { estimatedTimeRemaining: d.estimatedTimeRemaining } : {}),
    ...(d.error ? { error: d.error } : {}),
  };
}

/** The extension's view of the API, over the typed client of `@comfy-vast/server/client`. */
export function createClientApi(baseUrl: string, token: string): ComfyVastApi {
  const client: ApiClient = createClient({ baseUrl, token });

  /** One event stream per subscription, closed by the returned function; `onEnd` when it closes by itself. */
  async function follow(target: SubscribeTarget, listener: (event: ApiEvent) => void, onEnd?: () => void): Promise<() => void> {
    const events = await client.events();
    let stopped = false;
    const off = events.on(listener);
    void events.closed.then(() => !stopped && onEnd?.());
    events.subscribe(target);
    return () => {
      stopped = true;
      off();
      events.close();
    };
  }

  const serverInfo = (s: Awaited<ReturnType<ApiClient['getServer']>>): ServerInfo => ({
    id: s.id,
    name: s.name,
    status: s.status,
    ...(s.gpu ? { gpu: s.gpuCount && s.gpuCount > 1 ? `${s.gpuCount}× ${s.gpu}` : s.gpu } : {}),
    pricePerHour: s.pricePerHour,
    costSoFar: s.costSoFar,
  });

  return {
    async whoAmI() {
      await client.health();
      return (await client.me()).username;
    },
    async listServers() {
      return (await client.listServers()).map(serverInfo);
    },
    startServer: async (id) => void (await client.startServer({ params: { id } })),
    stopServer: async (id) => void (await client.stopServer({ params: { id } })),
    deleteServer: async (id) => void (await client.deleteServer({ params: { id } })),
    async listOffers(gpu, location) {
      const offers = await client.listOffers({ query: { gpu, ...(location ? { location } : {}) } });
      return offers.map((o) => {
        const known = <K extends string, V>(key: K, value: V | null): Partial<Record<K, V>> => (value === null ? {} : ({ [key]: value } as Record<K, V>));
        return {
          offerId: o.offerId,
          pricePerHour: o.pricePerHour,
          ...known('gpu', o.gpu),
          ...known('gpuCount', o.gpuCount),
          ...known('ramGb', o.ramGb),
          ...known('diskGb', o.diskGb),
          ...known('location', o.location),
          ...known('reliability', o.reliability),
        };
      });
    },
    createServer: async (request) => serverInfo(await client.createServer({ body: request })),
    async listGenerations(serverId) {
      return (await client.listGenerations({ params: { serverId } })).map((g) => ({
        id: g.id,
        serverId: g.serverId,
        prompt: g.prompt,
        status: g.status,
        imageUrls: g.imageUrls,
        createdAt: g.createdAt,
      }));
    },
    async analyze(serverId, workflow) {
      const a = await client.analyzeWorkflow({ params: { serverId }, body: { workflow: workflow as Record<string, unknown> } });
      return {
        requiredModels: a.requiredModels.map((m) => ({ name: m.name, type: m.type, ...(m.folder ? { folder: m.folder } : {}), ...(m.size ? { size: m.size } : {}), available: m.available })),
        missingModels: a.missingModels.map((m) => ({ name: m.name, type: m.type, ...(m.folder ? { folder: m.folder } : {}), ...(m.size ? { size: m.size } : {}), available: false, ...(m.downloadUrl ? { downloadUrl: m.downloadUrl } : {}) })),
        missingNodeTypes: a.missingNodes.map((n) => n.type),
        warnings: a.warnings.map((w) => ({ code: w.code, message: w.message, ...(typeof w.nodeId === 'string' ? { nodeId: w.nodeId } : {}), ...(typeof w.field === 'string' ? { field: w.field } : {}) })),
        estimatedGenerationTime: a.estimatedGenerationTime,
      };
    },
    objectInfo(serverId) {
      return client.getObjectInfo({ params: { serverId } });
    },
    async convert(workflow, serverId) {
      const body = { workflow: workflow as Record<string, unknown> };
      return (serverId === undefined ? await client.convertWorkflowOffline({ body }) : await client.convertWorkflow({ params: { serverId }, body })).prompt;
    },
    async generate(serverId, input) {
      // The file's content goes with the request; the server converts a UI workflow with its own node definitions.
      const { generationId } = await client.generate({
        params: { serverId },
        body: {
          prompt: input.prompt,
          ...(input.negativePrompt !== undefined ? { negativePrompt: input.negativePrompt } : {}),
          workflow: input.workflow as Record<string, unknown>,
          parameters: input.parameters,
        },
      });
      return { generationId };
    },
    cancel: async (generationId) => void (await client.cancelGeneration({ params: { generationId } })),
    cost: async (generationId) => (await client.getProgress({ params: { generationId } })).cost ?? undefined,
    watch: (generationId, listener) =>
      // since 0: whatever happened between the generate answer and this subscription comes first.
      follow({ generationId, since: 0 }, (event) => {
        const mapped = toGenerationEvent(event, generationId);
        if (mapped) listener(mapped);
      }),
    async watchServer(serverId, listener, onEnd) {
      let stop = (): void => undefined;
      stop = await follow(
        { serverId },
        (event) => {
          if (!('serverId' in event) || event.serverId !== serverId) return;
          if (event.type === 'server:status') listener(event.data.status);
          // Deleted, or not this user's: nothing more will come.
          if (event.type === 'error' && event.data.code === 'SERVER_NOT_FOUND') {
            stop();
            onEnd?.('not-found');
          }
        },
        () => onEnd?.('closed'),
      );
      return stop;
    },
    async downloadModel(serverId, request) {
      const started = await client.downloadModel({ params: { serverId }, body: request });
      return { downloadId: started.downloadId, status: started.status, progress: 0 };
    },
    cancelDownload: async (downloadId) => void (await client.cancelDownload({ params: { downloadId } })),
    async watchDownload(downloadId, listener) {
      const stop = await follow({ downloadId }, (event) => {
        if (event.type === 'download:progress' && event.downloadId === downloadId) listener(downloadInfo(event.data));
      });
      // The state now: a download that ended before the subscription sends nothing more.
      listener(downloadInfo(await client.getDownload({ params: { downloadId } })));
      return stop;
    },
    async image(url) {
      const file = decodeURIComponent(url.split('?')[0]!.split('/').pop() ?? '');
      return new Uint8Array(await client.getImage({ params: { file } }));
    },
  };
}
