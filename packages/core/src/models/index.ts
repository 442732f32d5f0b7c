export { formatBytes, formatSpeed, formatDuration } from './format.js';
export { ProgressMeter } from './progress-meter.js';
export { modelCredentialsSchema, tokenFor, type ModelCredentials } from './credentials.js';
export {
  ModelDownloads,
  DOWNLOADS_PER_SERVER,
  downloadStatusSchema,
  downloadViewSchema,
  type DownloadView,
  type DownloadTarget,
  type ModelDownloadsOptions,
  type ModelDownloadsEvents,
} from './model-downloads.js';
