export { ServerService, type ServerServiceOptions, type ServerTransition, type ComfyTargetInfo, type OfferSummary } from './server-service.js';
export { ServerReconciler, type ReconcilerOptions } from './reconciler.js';
export { serverStatusSchema, statusFromVast, type ServerStatus, type StatusVerdict } from './status.js';
export { comfyUrlOf, sshEndpointOf, type SshEndpoint } from './endpoints.js';
export {
  serverRecordSchema,
  serverSchema,
  serverProviderSchema,
  serversCollection,
  describeServer,
  costAt,
  hourlyRate,
  type ServerRecord,
  type Server,
  type ServerProvider,
} from './server-record.js';
export {
  createServerRequestSchema,
  attachVastRequestSchema,
  attachComfyRequestSchema,
  parseServerRequest,
  type CreateServerRequest,
  type AttachVastRequest,
  type AttachComfyRequest,
  type ServerRequest,
} from './requests.js';
export { systemStatsProbe, type ComfyProbe, type ProbeTarget } from './comfy-probe.js';
export type { ServerEvents, ServerEvent, ServerStatusEvent } from './events.js';
