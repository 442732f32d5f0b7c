export { SetupService, type Execution, type ExecutionEvent, type ExecutionLog, type ExecutionStart, type SetupServiceOptions } from './setup-service.js';
export {
  EXECUTION_KINDS,
  EXECUTION_STATUSES,
  SCRIPT_IDS,
  basicModelSchema,
  executionsCollection,
  executionStatusSchema,
  executionLogEntrySchema,
  resetRequestSchema,
  type BasicModel,
  type ExecutionError,
  type ExecutionKind,
  type ExecutionLogEntry,
  type ExecutionRecord,
  type ExecutionStatus,
  type ResetRequest,
} from './records.js';
export { SETUP_STEPS, RESET_STEP } from './step-timings.js';
