import type { RouteContext } from './context.js';
import { registerGenerationRoutes } from './generations.js';
import { registerModelRoutes } from './models.js';
import { registerObjectInfoRoutes } from './object-info.js';
import { registerSchedulerRoutes } from './scheduler.js';
import { registerSetupRoutes } from './setup.js';
import { registerSystemRoutes } from './system.js';
import { registerUserRoutes } from './users.js';
import { registerVastServerRoutes } from './vast-servers.js';
import { registerWorkflowRoutes } from './workflows.js';

export type { RouteContext } from './context.js';

/** One file per section of the API reference. */
export function registerRoutes(context: RouteContext): void {
  registerSystemRoutes(context);
  registerUserRoutes(context);
  registerVastServerRoutes(context);
  registerWorkflowRoutes(context);
  registerObjectInfoRoutes(context);
  registerGenerationRoutes(context);
  registerModelRoutes(context);
  registerSetupRoutes(context);
  registerSchedulerRoutes(context);
}
