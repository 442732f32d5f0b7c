import type { Execution, ExecutionEvent, ExecutionLog, ExecutionLogEntry, ExecutionStart } from '@comfy-vast/core';
import type { Contract, EndpointOutput } from '../contract/index.js';
import type { ExecutionLineEvent, ExecutionLogLine, ServerExecution } from '../contract/setup.js';

/** The spec's "2-3 minutes" from an estimate in milliseconds. */
export function estimatedTimeText(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes < 1) return 'less than a minute';
  return `${minutes}-${minutes + 1} minutes`;
}

export function toStartupResponse(start: ExecutionStart): EndpointOutput<Contract['startSetup']> {
  return {
    success: true,
    message: start.started ? 'ComfyUI auto-setup initiated' : `ComfyUI ${start.execution.kind} already running`,
    executionId: start.execution.id,
    estimatedTime: estimatedTimeText(start.estimatedMs),
    steps: [...start.steps],
    started: start.started,
  };
}

export function toResetResponse(start: ExecutionStart): EndpointOutput<Contract['resetSetup']> {
  return { success: true, message: 'ComfyUI reset initiated', executionId: start.execution.id, estimatedTime: estimatedTimeText(start.estimatedMs), steps: [...start.steps] };
}

/** What the execution is doing, in the spec's words: "Step 3/6: Cloning ComfyUI repository...". */
function outputOf(execution: Execution): string {
  const where = execution.step === null ? null : `step ${execution.step}/${execution.of} (${execution.stepName})`;
  if (execution.status === 'completed') return `ComfyUI ${execution.kind} completed`;
  if (execution.status === 'failed') return `Failed${where ? ` at ${where}` : ''}: ${execution.error?.message ?? 'unknown error'}`;
  if (execution.step === null) return 'Waiting for the server...';
  return `Step ${execution.step}/${execution.of}: ${execution.stepName}${execution.stepSkipped ? ' (already done)' : '...'}`;
}

export function toServerExecution(execution: Execution): ServerExecution {
  const { id, serverId, scriptId, status, startedAt, estimatedCompletion, kind, step, of, stepName, finishedAt, error, keepModels } = execution;
  return { id, serverId, scriptId, status, output: outputOf(execution), startedAt, estimatedCompletion, kind, step, of, stepName, finishedAt, error, keepModels };
}

/** One log entry in words, beside its JSON line. */
function textOf(entry: ExecutionLogEntry): string {
  switch (entry.kind) {
    case 'step':
      return `Step ${entry.line.step}/${entry.line.of}: ${entry.line.name}${entry.line.skipped ? ' (already done)' : ''}`;
    case 'progress': {
      const { bytes, total } = entry.line;
      return total ? `Downloaded ${bytes} of ${total} bytes (${Math.floor((bytes / total) * 100)}%)` : `Downloaded ${bytes} bytes`;
    }
    case 'retry':
      return `Transfer interrupted (curl ${entry.line.curl}), retry ${entry.line.retry}`;
    case 'error':
      return `Error (${entry.line.reason}): ${entry.line.error}`;
    case 'done':
      return entry.line.lost ? 'The process vanished on the server' : `Finished with exit code ${entry.line.rc}`;
  }
}

function toLogLine(entry: ExecutionLogEntry): ExecutionLogLine {
  return { seq: entry.seq, at: entry.at, kind: entry.kind, text: textOf(entry), line: { ...entry.line } };
}

export function toExecutionLog(log: ExecutionLog): EndpointOutput<Contract['getExecutionLog']> {
  return { execution: toServerExecution(log.execution), lines: log.entries.map(toLogLine), droppedLines: log.droppedLines };
}

/** A library execution event as its owner's WebSocket gets it. */
export function toExecutionLineEvent(event: ExecutionEvent): ExecutionLineEvent {
  const line = toLogLine(event.entry);
  // The output a subscriber shows is the line itself: a step line is the step under way.
  return { type: 'execution:line', executionId: event.executionId, serverId: event.serverId, seq: event.seq, data: { status: event.status, output: line.text, line } };
}
