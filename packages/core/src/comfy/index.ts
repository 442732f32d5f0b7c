export * from './schemas.js';
export { comfyAuthHeaders, type ComfyCredentials } from './auth.js';
export { decodeBinaryFrame, toDataUrl, type ComfyBinaryFrame } from './binary.js';
export { ComfyClient, type ComfyClientOptions, type SubmitOptions, type SubmitResult, type QueueEntry, type ComfyQueue, type ViewResult } from './comfy-client.js';
export { ComfySocket, type ComfySocketOptions, type ComfySocketEvents, type ComfyPreview } from './comfy-socket.js';
export { ComfyConnection, type ComfyConnectionOptions, type ComfyConnectionEvents, type PromptOutcome, type PromptState } from './comfy-connection.js';
export { ComfyConnectionPool, type ComfyTarget } from './connection-pool.js';
