import type { Engine } from './engine.js';
import type { HistoryEntry, QueueItem } from './types.js';

export type JobStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'cancelled';

/**
 * A job of `/api/jobs` (ComfyUI PR #11054), built from the queue and history. Fields whose value would be null
 * are left out, as the real server does. `preview_output` is assumed to be the first file output plus its node id.
 */
export function jobOf(engine: Engine, promptId: string, detailed: boolean): Record<string, unknown> | undefined {
  const running = engine.running?.item.promptId === promptId ? engine.running.item : undefined;
  const pending = engine.pending.find((i) => i.promptId === promptId);
  const entry = engine.history.get(promptId);
  const item: QueueItem | undefined = running ?? pending;
  if (!item && !entry) return undefined;
  const times = engine.times.get(promptId);
  const [number, , prompt, extraData] = entry?.prompt ?? [item!.number, promptId, item!.prompt, item!.extraData];
  const status: JobStatus = running ? 'in_progress' : pending ? 'pending' : finishedStatus(entry!);
  const files = entry ? Object.entries(entry.outputs).flatMap(([nodeId, ui]) => Object.entries(ui).flatMap(([mediaType, list]) => list.map((f) => ({ ...(f as object), nodeId, mediaType })))) : [];
  const error = entry?.status.messages.find(([t]) => t === 'execution_error')?.[1];
  const job: Record<string, unknown> = {
    id: promptId,
    status,
    priority: number,
    create_time: times?.created,
    execution_start_time: times?.started,
    execution_end_time: times?.ended,
    execution_error: error,
    outputs_count: entry ? files.length : undefined,
    preview_output: files[0],
    workflow_id: (extraData.extra_pnginfo as { workflow?: { id?: string } } | undefined)?.workflow?.id,
  };
  if (detailed) {
    job.outputs = entry?.outputs;
    job.execution_status = entry?.status;
    job.workflow = { prompt, extra_data: extraData };
  }
  return Object.fromEntries(Object.entries(job).filter(([, v]) => v !== undefined && v !== null));
}

function finishedStatus(entry: HistoryEntry): JobStatus {
  if (entry.status.status_str === 'success') return 'completed';
  return entry.status.messages.some(([t]) => t === 'execution_interrupted') ? 'cancelled' : 'failed';
}

/** Every job the server knows, in queue-then-history order. */
export function allJobIds(engine: Engine): string[] {
  return [...(engine.running ? [engine.running.item.promptId] : []), ...engine.pending.map((i) => i.promptId), ...engine.history.keys()];
}
