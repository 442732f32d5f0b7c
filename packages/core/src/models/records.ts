import { z } from 'zod';
import { defineCollection } from '../store/index.js';

export const DOWNLOAD_STATUSES = ['queued', 'downloading', 'completed', 'failed', 'cancelled'] as const;
export const downloadStatusSchema = z.enum(DOWNLOAD_STATUSES);
export type DownloadStatus = z.infer<typeof downloadStatusSchema>;

/** The statuses of a download that is not over: it holds or waits for one of its server's slots. */
export const PENDING_STATUSES: readonly DownloadStatus[] = ['queued', 'downloading'];

/**
 * A model download as stored: enough to start its remote job again, or re-attach to it, after a restart (the job's
 * id is derived from the record: see jobId). The URL is the one fetched (a Civitai page already resolved to its
 * file); tokens are never stored.
 */
export const downloadRecordSchema = z.object({
  id: z.number().int(),
  userId: z.number().int(),
  serverId: z.number().int(),
  url: z.string(),
  folder: z.string(),
  filename: z.string(),
  sha256: z.string().nullable(),
  status: downloadStatusSchema,
  /**
   * With several API processes: the process that runs the download (its queue slot, its remote job); another adopts
   * it when that process is gone. Null in a single process.
   */
  owner: z.string().nullable().default(null),
  downloadedBytes: z.number().int().nonnegative(),
  totalBytes: z.number().int().nonnegative().nullable(),
  error: z.string().nullable(),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
});
export type DownloadRecord = z.infer<typeof downloadRecordSchema>;

export const downloadsCollection = defineCollection({ name: 'model_downloads', schema: downloadRecordSchema, kind: 'log' });
