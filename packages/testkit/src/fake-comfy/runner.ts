import { ancestors, executionOrder, isLink, type ApiPrompt } from './prompt.js';
import { encodePng, renderPicture } from './png.js';
import type { SocketHub } from './socket-hub.js';
import type { FakeComfyFault, HistoryEntry, QueueItem, Timing, UiOutput } from './types.js';

const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced']);
/** Events the server only sends to the submitting client; the others are broadcast when there is none. */
const TARGETED_ONLY = new Set(['execution_start', 'execution_cached', 'executing', 'executed', 'execution_success', 'execution_error']);
const MAX_IMAGE_SIDE = 2048;

export interface RunContext {
  hub: SocketHub;
  timing: Timing;
  previews: boolean;
  /** Cache keys of node outputs from earlier runs, with the UI output of output nodes. */
  cache: Map<string, UiOutput | null>;
  saveFile(type: 'output' | 'temp', subfolder: string, prefix: string, data: Buffer): { filename: string; subfolder: string; type: string };
  /** Called with each node as it starts, so a reconnecting client can be told (reference §2.1). */
  onNode(node: string): void;
}

class Interrupted extends Error {}
class NodeFailure extends Error {
  constructor(
    readonly exceptionType: string,
    message: string,
  ) {
    super(message);
  }
}

/** Runs one prompt the way ComfyUI's PromptExecutor does, emitting the same messages in the same order. */
export async function runPrompt(ctx: RunContext, item: QueueItem, fault: FakeComfyFault | undefined, signal: AbortSignal): Promise<HistoryEntry> {
  const { prompt, promptId } = item;
  const sid = item.clientId;
  const muted = fault?.kind === 'mute';
  const messages: [string, Record<string, unknown>][] = [];
  const emit = (type: string, data: Record<string, unknown>): void => {
    if (type.startsWith('execution_')) messages.push([type, data]);
    if (muted || (sid === null && TARGETED_ONLY.has(type))) return;
    ctx.hub.sendJson(type, data, sid);
  };
  const states: Record<string, Record<string, unknown>> = {};
  const progressState = (node: string, value: number, max: number, state: 'running' | 'finished' | 'error'): void => {
    states[node] = { value, max, state, node_id: node, prompt_id: promptId, display_node_id: node, parent_node_id: null, real_node_id: node };
    emit('progress_state', { prompt_id: promptId, nodes: structuredClone(states) });
  };

  const order = executionOrder(prompt, item.outputs);
  const keys = cacheKeys(prompt, order);
  const cached = order.filter((id) => ctx.cache.has(keys.get(id)!));
  const outputs: Record<string, UiOutput> = {};
  const executed: string[] = [];
  emit('execution_start', { prompt_id: promptId, timestamp: Date.now() });
  emit('execution_cached', { nodes: cached, prompt_id: promptId, timestamp: Date.now() });

  let current = '';
  let stepsDone = 0;
  let hangUsed = false;
  try {
    for (const id of order) {
      const classType = String(prompt[id]!.class_type);
      if (cached.includes(id)) {
        const ui = ctx.cache.get(keys.get(id)!);
        if (ui) {
          outputs[id] = ui;
          emit('executed', { node: id, display_node: id, output: ui, prompt_id: promptId });
          progressState(id, 1, 1, 'finished');
        }
        continue;
      }
      current = id;
      ctx.onNode(id);
      progressState(id, 0, 1, 'running');
      emit('executing', { node: id, display_node: id, prompt_id: promptId });
      const isSampler = SAMPLERS.has(classType);
      const hangHere = fault?.kind === 'hang' && !hangUsed && (isSampler || !order.some((n) => SAMPLERS.has(String(prompt[n]!.class_type)) && !cached.includes(n)));
      if (hangHere) {
        hangUsed = true;
        await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Interrupted()), { once: true }));
      }
      if (isSampler) {
        const steps = samplerSteps(prompt, id);
        for (let step = 1; step <= steps; step++) {
          await pause(ctx.timing.stepMs / ctx.timing.speed, signal);
          if (fault?.kind === 'oom') {
            throw new NodeFailure('torch.OutOfMemoryError', 'CUDA out of memory. Tried to allocate 2.00 GiB. GPU 0 has a total capacity of 23.55 GiB of which 1.21 GiB is free.');
          }
          progressState(id, step, steps, 'running');
          if (!muted) {
            if (ctx.previews) {
              const preview = encodePng(64, 64, renderPicture(`${promptId}#${id}#${step}`, 64, 64));
              ctx.hub.sendPreview(preview, 'image/png', { node_id: id, prompt_id: promptId, display_node_id: id, parent_node_id: null, real_node_id: id }, sid);
            }
          }
          emit('progress', { value: step, max: steps, prompt_id: promptId, node: id });
          stepsDone++;
          if (fault?.kind === 'drop-socket' && stepsDone === (fault.afterSteps ?? 1) && sid) ctx.hub.drop(sid);
        }
      } else {
        await pause(ctx.timing.nodeMs / ctx.timing.speed, signal);
      }
      const ui = produceOutput(ctx, item, id, classType);
      if (ui) {
        outputs[id] = ui;
        emit('executed', { node: id, display_node: id, output: ui, prompt_id: promptId });
      }
      const max = Number(states[id]?.max ?? 1);
      progressState(id, max, max, 'finished');
      executed.push(id);
      ctx.cache.set(keys.get(id)!, ui);
    }
    emit('execution_success', { prompt_id: promptId, timestamp: Date.now() });
    return history(item, outputs, 'success', messages);
  } catch (err) {
    const node = prompt[current];
    const base = { prompt_id: promptId, node_id: current, node_type: String(node?.class_type), executed };
    if (err instanceof Interrupted) {
      // Interrupt messages are broadcast when the prompt has no client (reference §2.3).
      emit('execution_interrupted', { ...base, timestamp: Date.now() });
    } else {
      const failure = err instanceof NodeFailure ? err : new NodeFailure('Exception', String(err));
      emit('execution_error', {
        ...base,
        exception_message: failure.message,
        exception_type: failure.exceptionType,
        traceback: [`  File "/srv/ComfyUI/execution.py", line 496, in execute\n`],
        current_inputs: Object.fromEntries(Object.entries(node?.inputs ?? {}).map(([k, v]) => [k, [isLink(v) ? `<linked ${v[0]}>` : String(v)]])),
        current_outputs: [...executed, current],
        timestamp: Date.now(),
      });
    }
    return history(item, outputs, 'error', messages);
  }
}

function history(item: QueueItem, outputs: Record<string, UiOutput>, status: 'success' | 'error', messages: [string, Record<string, unknown>][]): HistoryEntry {
  return {
    prompt: [item.number, item.promptId, item.prompt, item.extraData, item.outputs],
    outputs,
    status: { status_str: status, completed: status === 'success', messages },
    meta: Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }])),
  };
}

/** A node's cache signature: its class and literal inputs, with links replaced by their source's signature. */
function cacheKeys(prompt: ApiPrompt, order: string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const id of order) {
    const node = prompt[id]!;
    const inputs = Object.entries(node.inputs ?? {})
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, v]) => [k, isLink(v) ? [keys.get(v[0]), v[1]] : v]);
    keys.set(id, JSON.stringify([node.class_type, inputs]));
  }
  return keys;
}

function samplerSteps(prompt: ApiPrompt, id: string): number {
  const own = prompt[id]!.inputs?.steps;
  if (typeof own === 'number') return Math.max(1, Math.trunc(own));
  // SamplerCustom(Advanced) take their steps from the scheduler that feeds `sigmas`.
  for (const up of ancestors(prompt, id)) {
    const steps = prompt[up]!.inputs?.steps;
    if (typeof steps === 'number') return Math.max(1, Math.trunc(steps));
  }
  return 20;
}

/** Files for SaveImage / PreviewImage: real PNGs whose pixels follow from the prompt (and so from its seed). */
function produceOutput(ctx: RunContext, item: QueueItem, id: string, classType: string): UiOutput | null {
  if (classType !== 'SaveImage' && classType !== 'PreviewImage') return null;
  const { prompt } = item;
  const up = ancestors(prompt, id);
  const sized = up.map((n) => prompt[n]!.inputs ?? {}).find((i) => typeof i.width === 'number' && typeof i.height === 'number');
  const width = Math.min(MAX_IMAGE_SIDE, Math.max(1, Number(sized?.width ?? 512)));
  const height = Math.min(MAX_IMAGE_SIDE, Math.max(1, Number(sized?.height ?? 512)));
  const batch = Math.max(1, Number(up.map((n) => prompt[n]!.inputs?.batch_size).find((b) => typeof b === 'number') ?? 1));
  const text: Record<string, string> = { prompt: JSON.stringify(prompt) };
  const workflow = (item.extraData.extra_pnginfo as { workflow?: unknown } | undefined)?.workflow;
  if (workflow !== undefined) text.workflow = JSON.stringify(workflow);
  const images = [];
  for (let i = 0; i < batch; i++) {
    const png = encodePng(width, height, renderPicture(`${JSON.stringify(prompt)}#${id}#${i}`, width, height), text);
    const prefix = classType === 'SaveImage' ? String(prompt[id]!.inputs?.filename_prefix ?? 'ComfyUI') : '';
    images.push(ctx.saveFile(classType === 'SaveImage' ? 'output' : 'temp', '', prefix, png));
  }
  return { images };
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(new Interrupted());
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new Interrupted());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
