import type { NodeWarning } from '../workflow/diagnostics.js';

/** What the extension needs from the comfy-vast API; `client-api.ts` provides it over the typed client. */

export interface ServerInfo {
  id: number;
  name: string;
  status: string;
  gpu?: string;
  pricePerHour?: string;
  /** Dollars spent on this server so far, when the API reports it. */
  costSoFar?: number;
}

export interface GenerationInfo {
  id: number;
  serverId: number;
  prompt?: string;
  status: string;
  imageUrls: string[];
  createdAt?: string;
}

/** A rentable offer, as listed before creating a server. */
export interface OfferInfo {
  offerId: number;
  gpu?: string;
  gpuCount?: number;
  ramGb?: number;
  diskGb?: number;
  location?: string;
  reliability?: number;
  /** Dollars per hour, as the API writes it ("0.50"). */
  pricePerHour: string;
}

/** What a new server needs: the contract's rent request. */
export interface NewServer {
  name: string;
  gpu: string;
  gpuCount?: number;
  location?: string;
  /** Highest acceptable price in $/hour. */
  maxPrice?: number;
}

/** A model download's state, as the API reports it. */
export interface DownloadInfo {
  downloadId: number;
  status: 'queued' | 'downloading' | 'completed' | 'failed' | 'cancelled';
  progress: number;
  downloadSpeed?: string;
  estimatedTimeRemaining?: string;
  error?: string;
}

export interface ModelInfo {
  name: string;
  type?: string;
  folder?: string;
  size?: string;
  available: boolean;
  downloadUrl?: string;
}

export interface AnalysisInfo {
  requiredModels: ModelInfo[];
  missingModels: ModelInfo[];
  /** Node types the server does not have. */
  missingNodeTypes: string[];
  warnings: NodeWarning[];
  estimatedGenerationTime?: string;
}

export interface GenerateInput {
  /** The workflow file's content, UI or API format: the server converts it. */
  workflow: unknown;
  prompt: string;
  negativePrompt?: string;
  parameters: Record<string, number | string>;
}

export type GenerationEvent =
  | { type: 'progress'; status: string; progress: number; currentNode?: string; currentNodeId?: string; previewImage?: string }
  | { type: 'complete'; imageUrls: string[] }
  | { type: 'error'; error: string; node?: string; details?: string };

export interface ComfyVastApi {
  /** Resolves with the signed-in user's name; rejects when the server is unreachable or the token is refused. */
  whoAmI(): Promise<string>;
  listServers(): Promise<ServerInfo[]>;
  startServer(id: number): Promise<void>;
  stopServer(id: number): Promise<void>;
  deleteServer(id: number): Promise<void>;
  /** Offers for a GPU (and a region), cheapest first. */
  listOffers(gpu: string, location?: string): Promise<OfferInfo[]>;
  createServer(request: NewServer): Promise<ServerInfo>;
  listGenerations(serverId: number): Promise<GenerationInfo[]>;
  analyze(serverId: number, workflow: unknown): Promise<AnalysisInfo>;
  /** The running server's node definitions (ComfyUI's object_info), unchecked. */
  objectInfo(serverId: number): Promise<Record<string, unknown>>;
  /** UI → API format, with the server's node definitions when a server is given. */
  convert(workflow: unknown, serverId?: number): Promise<Record<string, unknown>>;
  /** Queues the workflow on the server with the given parameters; `name` identifies the file it came from. */
  generate(serverId: number, request: GenerateInput): Promise<{ generationId: number }>;
  cancel(generationId: number): Promise<void>;
  /** Dollars of GPU time a generation took; undefined while the API does not know. */
  cost(generationId: number): Promise<number | undefined>;
  /** Calls `listener` for each event of the generation until the returned function is called. */
  watch(generationId: number, listener: (event: GenerationEvent) => void): Promise<() => void>;
  /**
   * Calls `listener` with the server's status now and on every change until the returned function is called;
   * `onEnd` runs if the stream ends first: `closed` (the API restarted, the network dropped) or `not-found`
   * (the server was deleted, or is not the user's).
   */
  watchServer(serverId: number, listener: (status: string) => void, onEnd?: (reason: 'closed' | 'not-found') => void): Promise<() => void>;
  /** Starts downloading a model file onto a server (`folder` as ComfyUI names it: checkpoints, loras…). */
  downloadModel(serverId: number, request: { url: string; folder: string; filename: string }): Promise<DownloadInfo>;
  cancelDownload(downloadId: number): Promise<void>;
  /** Calls `listener` with the download's state now and on every change until the returned function is called. */
  watchDownload(downloadId: number, listener: (download: DownloadInfo) => void): Promise<() => void>;
  /** The bytes of an image URL the API returned (e.g. `/api/comfy/images/456_1.png`). */
  image(url: string): Promise<Uint8Array>;
}
