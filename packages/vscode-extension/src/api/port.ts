import type { ObjectInfo } from '../workflow/core-adapter.js';

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
  warnings: string[];
  estimatedGenerationTime?: string;
}

export type GenerationEvent =
  | { type: 'progress'; status: string; progress: number; currentNode?: string; previewImage?: string }
  | { type: 'complete'; imageUrls: string[] }
  | { type: 'error'; error: string; node?: string; details?: string };

export interface ComfyVastApi {
  /** Resolves with the signed-in user's name; rejects when the server is unreachable or the token is refused. */
  whoAmI(): Promise<string>;
  listServers(): Promise<ServerInfo[]>;
  startServer(id: number): Promise<void>;
  stopServer(id: number): Promise<void>;
  deleteServer(id: number): Promise<void>;
  listGenerations(serverId: number): Promise<GenerationInfo[]>;
  /** The server's ComfyUI node definitions; undefined when the API does not expose them. */
  nodeTypes(serverId: number): Promise<ObjectInfo | undefined>;
  analyze(serverId: number, workflow: unknown): Promise<AnalysisInfo>;
  convert(workflow: unknown): Promise<Record<string, unknown>>;
  generate(serverId: number, workflow: unknown): Promise<{ generationId: number }>;
  cancel(generationId: number): Promise<void>;
  /** Calls `listener` for each event of the generation until the returned function is called. */
  watch(generationId: number, listener: (event: GenerationEvent) => void): Promise<() => void>;
  /** The bytes of an image URL the API returned (e.g. `/api/comfy/images/456_1.png`). */
  image(url: string): Promise<Uint8Array>;
}
