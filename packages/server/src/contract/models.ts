import type { DownloadStatus as CoreDownloadStatus } from '@comfy-vast/core';
import { z } from 'zod';
import { Id, IsoDate } from './common.js';
import { defineEndpoint } from './endpoint.js';
import type { Fits } from './fits.js';
import { WorkflowUpload } from './limits.js';

const tag = 'Model Management';

export const DownloadStatus = z.enum(['queued', 'downloading', 'completed', 'failed', 'cancelled']);
type _StatusWords = [Fits<z.infer<typeof DownloadStatus>, CoreDownloadStatus>, Fits<CoreDownloadStatus, z.infer<typeof DownloadStatus>>];

/** One model file of a server (spec "List Available Models"). */
const ModelEntry = z.object({
  name: z.string(),
  /** "6.94 GB"; "unknown" where comfy-vast cannot see the file's size (an attached ComfyUI, which it has no shell on). */
  size: z.string(),
  /** False for a download still queued or under way (its partial file is not usable yet). */
  downloaded: z.boolean(),
  /** The folder on the server; relative (`models/loras/`) for an attached ComfyUI, whose install folder is unknown. */
  path: z.string(),
  /** Addition: the size in bytes, null when unknown. */
  bytes: z.number().int().nonnegative().nullable(),
});

/** Every model folder ComfyUI reports, with its files. */
const ModelListing = z.record(z.string(), z.array(ModelEntry));

/** Body of `POST /api/comfy/models/:serverId/download`: the library checks the URL, folder and name in depth. */
const DownloadBody = z.object({
  /** http(s) without credentials; a Civitai model page (`https://civitai.com/models/<id>?modelVersionId=<v>`) is resolved to its file. */
  url: z.string().min(1).max(2048),
  folder: z.string().min(1).max(64),
  filename: z.string().min(1).max(255),
  /** Checked after the transfer when given (the Hugging Face LFS etag, or Civitai's hash, when not). */
  sha256: z.string().max(64).optional(),
});

const DownloadStarted = z.object({
  success: z.literal(true),
  message: z.string(),
  downloadId: z.number().int(),
  /** A range from the file's size when known before the transfer ("5-10 minutes"), else "unknown". */
  estimatedTime: z.string(),
  /** Additions: `queued` behind the server's five running downloads, or the state of the same file's pending download. */
  status: DownloadStatus,
  folder: z.string(),
  filename: z.string(),
});

/** Spec "Get Model Download Status", plus where the file goes and why it failed. */
export const DownloadProgress = z.object({
  downloadId: z.number().int(),
  status: DownloadStatus,
  progress: z.number().int().min(0).max(100),
  downloadedBytes: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative().nullable(),
  downloadSpeed: z.string().nullable(),
  estimatedTimeRemaining: z.string().nullable(),
  /** Additions. */
  serverId: z.number().int(),
  folder: z.string(),
  filename: z.string(),
  error: z.string().nullable(),
  createdAt: IsoDate,
  finishedAt: IsoDate.nullable(),
});

const DownloadMissingBody = z.union([z.object({ workflow: WorkflowUpload }), z.object({ workflowId: Id })]);

const DownloadMissingResponse = z.object({
  success: z.literal(true),
  message: z.string(),
  /** Each missing model that was queued (or was already pending), with its download. */
  queued: z.array(z.object({ name: z.string(), folder: z.string(), filename: z.string(), downloadId: z.number().int(), status: DownloadStatus })),
  /** Missing models that could not be placed, and why (no known URL, no folder, a name in a subfolder, ...). */
  notPlaced: z.array(z.object({ name: z.string(), reason: z.string() })),
});

export const modelEndpoints = {
  listModels: defineEndpoint({
    method: 'GET',
    path: '/comfy/models/:serverId',
    summary: 'Every model folder of a running server, with its files and their sizes',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    response: ModelListing,
  }),
  downloadModel: defineEndpoint({
    method: 'POST',
    path: '/comfy/models/:serverId/download',
    summary: 'Download a model file onto a server (5 at once per server, 100 GB per user per day)',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    body: DownloadBody,
    response: DownloadStarted,
  }),
  getDownload: defineEndpoint({
    method: 'GET',
    path: '/comfy/models/download/:downloadId',
    summary: 'Status and progress of one model download',
    tag,
    auth: 'user',
    params: z.object({ downloadId: Id }),
    response: DownloadProgress,
  }),
  cancelDownload: defineEndpoint({
    method: 'DELETE',
    path: '/comfy/models/download/:downloadId',
    summary: 'Cancel a queued or running model download (its partial file is removed)',
    tag,
    auth: 'user',
    params: z.object({ downloadId: Id }),
    response: DownloadProgress,
  }),
  downloadMissing: defineEndpoint({
    method: 'POST',
    path: '/comfy/models/:serverId/download-missing',
    summary: 'Download every model a workflow needs that the server lacks and that has a known URL',
    tag,
    auth: 'user',
    params: z.object({ serverId: Id }),
    body: DownloadMissingBody,
    response: DownloadMissingResponse,
  }),
};

/** WebSocket: every change of a download the client subscribed to with `{type:"subscribe", downloadId}`. */
export const DownloadEvent = z.object({
  type: z.literal('download:progress'),
  downloadId: z.number().int(),
  serverId: z.number().int(),
  data: DownloadProgress,
});
export type DownloadEvent = z.infer<typeof DownloadEvent>;
