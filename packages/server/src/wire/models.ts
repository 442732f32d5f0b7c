import type { DownloadRequestResult, DownloadView, MissingDownloadsResult } from '@comfy-vast/core';
import type { Contract, DownloadEvent, EndpointOutput } from '../contract/index.js';

type WireProgress = EndpointOutput<Contract['getDownload']>;

/** Transfer rates a download from Hugging Face or Civitai to a rented server usually keeps, in bytes per second. */
const FAST = 50e6;
const SLOW = 10e6;

/** A download as the API answers it: the spec's fields, plus where it goes and why it failed (its owner left out). */
export function toDownloadProgress(view: DownloadView): WireProgress {
  const { userId: _owner, ...wire } = view;
  return wire;
}

export function toDownloadEvent(view: DownloadView): DownloadEvent {
  return { type: 'download:progress', downloadId: view.downloadId, serverId: view.serverId, data: toDownloadProgress(view) };
}

export function toDownloadStarted({ download, created }: DownloadRequestResult): EndpointOutput<Contract['downloadModel']> {
  const message = !created
    ? 'This file is already being downloaded to the server'
    : download.status === 'queued'
      ? 'Model download queued: the server already runs 5 downloads'
      : 'Model download started';
  return {
    success: true,
    message,
    downloadId: download.downloadId,
    estimatedTime: estimatedTime(download.totalBytes),
    status: download.status,
    folder: download.folder,
    filename: download.filename,
  };
}

export function toDownloadMissing(result: MissingDownloadsResult): EndpointOutput<Contract['downloadMissing']> {
  const queued = result.queued.map(({ name, download }) => ({ name, folder: download.folder, filename: download.filename, downloadId: download.downloadId, status: download.status }));
  const message = `${queued.length} model download${queued.length === 1 ? '' : 's'} queued, ${result.notPlaced.length} model${result.notPlaced.length === 1 ? '' : 's'} not placed`;
  return { success: true, message, queued, notPlaced: result.notPlaced };
}

/** "5-10 minutes" from the file's size at usual rates, or "unknown" when the size is not known before the transfer. */
function estimatedTime(bytes: number | null): string {
  if (bytes === null) return 'unknown';
  const [fast, slow] = [bytes / FAST, bytes / SLOW];
  if (slow < 60) return 'less than a minute';
  if (slow < 2 * 3600) return `${Math.max(1, Math.ceil(fast / 60))}-${Math.ceil(slow / 60)} minutes`;
  return `${Math.max(1, Math.ceil(fast / 3600))}-${Math.ceil(slow / 3600)} hours`;
}
