export { formatBytes, formatSpeed, formatDuration } from './format.js';
export { ProgressMeter } from './progress-meter.js';
export { modelCredentialsSchema, tokenFor, type ModelCredentials } from './credentials.js';
export { DOWNLOAD_STATUSES, downloadStatusSchema, downloadsCollection, type DownloadStatus, type DownloadRecord } from './records.js';
export { ModelUrlLookup, civitaiPage, type ModelUrlLookupOptions, type ResolvedModelUrl } from './url-lookup.js';
export { buildModelListing, type ModelEntry, type ModelListing, type ListingSources } from './model-listing.js';
export { planMissingDownloads, downloadMissingRequestSchema, type MissingDownloadPlan, type MissingDownloadsResult } from './missing-models.js';
export {
  ModelDownloads,
  DOWNLOADS_PER_SERVER,
  jobId,
  type DownloadView,
  type DownloadRequestResult,
  type DownloadTarget,
  type DownloadRemoteOf,
  type ModelDownloadsOptions,
  type ModelDownloadsEvents,
} from './model-downloads.js';
