export { shellQuote, shellCommand } from './shell-quote.js';
export {
  MODEL_FOLDERS,
  modelFolderSchema,
  modelFileNameSchema,
  modelUrlSchema,
  modelRequestSchema,
  sha256Schema,
  jobIdSchema,
  tokenSchema,
  type ModelRequest,
} from './inputs.js';
export {
  parseRemoteLine,
  stepLineSchema,
  progressLineSchema,
  retryLineSchema,
  errorLineSchema,
  doneLineSchema,
  modelFileLineSchema,
  jobLineSchema,
  comfyLineSchema,
  type RemoteLine,
  type StepLine,
  type ProgressLine,
  type RetryLine,
  type ErrorLine,
  type DoneLine,
  type ModelFileLine,
  type JobLine,
  type ComfyLine,
} from './lines.js';
export { SshRunner, sshError, hostKeyFingerprint, type RemoteHost, type HostKeyPins, type SshRunnerOptions, type RunOptions, type RunResult } from './ssh-runner.js';
export { followJob, type JobOutcome, type FollowOptions } from './remote-job.js';
export { loadRemoteScript } from './remote-script.js';
export { StoredHostKeyPins } from './stored-pins.js';
export { DEFAULT_REMOTE_LAYOUT, modelsDirOf, type RemoteLayout } from './layout.js';
export { Slots } from './slots.js';
