import type { ApiPrompt } from './prompt.js';

/** One queued prompt: what `/queue` lists as `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
export interface QueueItem {
  number: number;
  promptId: string;
  prompt: ApiPrompt;
  extraData: Record<string, unknown>;
  outputs: string[];
  clientId: string | null;
}

export type UiOutput = Record<string, unknown[]>;

export interface HistoryEntry {
  prompt: [number, string, ApiPrompt, Record<string, unknown>, string[]];
  outputs: Record<string, UiOutput>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: [string, Record<string, unknown>][] };
  meta: Record<string, { node_id: string; display_node: string; parent_node: null; real_node_id: string }>;
}

/**
 * A misbehaviour applied to the next prompt that starts running.
 * - `oom`: the first sampler fails with CUDA's out-of-memory error after one step.
 * - `hang`: execution stops at the first sampler (or the first node run) until interrupted.
 * - `drop-socket`: the submitter's socket is cut after `afterSteps` sampler steps (default 1); the run goes on.
 * - `mute`: the prompt runs and reaches history, but no event about it reaches any socket.
 */
export type FakeComfyFault = { kind: 'oom' } | { kind: 'hang' } | { kind: 'drop-socket'; afterSteps?: number } | { kind: 'mute' };

export interface Timing {
  /** Milliseconds each node that is not a sampler takes (default 40). */
  nodeMs: number;
  /** Milliseconds per sampler step (default 20). */
  stepMs: number;
  /** Divides every duration: 100 makes a 1 s run take 10 ms (default 1). */
  speed: number;
}
