import { generationEndpoints } from './generations.js';
import { healthEndpoints } from './health.js';
import { modelEndpoints } from './models.js';
import { objectInfoEndpoints } from './object-info.js';
import { schedulerEndpoints } from './scheduler.js';
import { setupEndpoints } from './setup.js';
import { budgetEndpoints, usersEndpoints } from './users.js';
import { vastServerEndpoints } from './vast-servers.js';
import { workflowEndpoints } from './workflows.js';

export * from './endpoint.js';
export * from './common.js';
export { ErrorBody, ERROR_STATUS } from './errors.js';
export { BudgetEvent, GenerationEvent, SchedulerActionEvent, ServerStatusEvent } from './events.js';
export { GenerationHistoryItem, imageUrl } from './generations.js';
export { FIELD_LIMITS } from './limits.js';
export { DownloadEvent, DownloadProgress, DownloadStatus } from './models.js';
export { ExecutionLineEvent, ExecutionLogLine, ExecutionStatus, ServerExecution } from './setup.js';
export { ClientMessage, PongMessage, ReadyMessage, SocketError, SocketEvent, SubscribedMessage } from './socket.js';
export { User } from './users.js';

/** Every operation of the API, by name. The typed client has one method per entry. */
export const contract = {
  ...healthEndpoints,
  ...usersEndpoints,
  ...vastServerEndpoints,
  ...workflowEndpoints,
  ...objectInfoEndpoints,
  ...generationEndpoints,
  ...setupEndpoints,
  ...modelEndpoints,
  ...schedulerEndpoints,
  ...budgetEndpoints,
};

export type Contract = typeof contract;
export type EndpointName = keyof Contract;
