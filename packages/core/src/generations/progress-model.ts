import { isApiLink, type ApiPrompt } from '../workflow/index.js';

/** Node classes whose `progress` events count sampler steps. */
const SAMPLERS = new Set(['KSampler', 'KSamplerAdvanced', 'SamplerCustom', 'SamplerCustomAdvanced']);

/**
 * Progress of one prompt as a percentage. Every node that runs weighs 1, except samplers, which weigh their
 * step count, so that a 30-step KSampler is most of the bar and its `progress` events move it step by step.
 * Cached nodes do not run and are not counted.
 */
export class ProgressModel {
  readonly #prompt: ApiPrompt;
  readonly #weights = new Map<string, number>();
  readonly #completed = new Set<string>();
  #current: { node: string; fraction: number } | null = null;

  constructor(prompt: ApiPrompt, cached: readonly string[] = [], completed: readonly string[] = []) {
    this.#prompt = prompt;
    for (const [id, node] of Object.entries(prompt)) this.#weights.set(id, SAMPLERS.has(node.class_type) ? samplerSteps(prompt, id) : 1);
    this.setCached(cached);
    for (const id of completed) this.#completed.add(id);
  }

  setCached(nodes: readonly string[]): void {
    for (const id of nodes) this.#weights.delete(id);
  }

  /** A node started: the one before it is done. */
  startNode(node: string): void {
    if (this.#current && this.#current.node !== node) this.#completed.add(this.#current.node);
    this.#current = { node, fraction: 0 };
  }

  /** A step event: `value` of `max` for the node (the sampler's real step count replaces the estimate). */
  step(node: string | undefined, value: number, max: number): void {
    const id = node ?? this.#current?.node;
    if (!id || max <= 0) return;
    if (SAMPLERS.has(this.#prompt[id]?.class_type ?? '') && this.#weights.has(id)) this.#weights.set(id, max);
    if (this.#current?.node !== id) this.startNode(id);
    this.#current!.fraction = Math.min(1, value / max);
  }

  classOf(node: string): string | null {
    return this.#prompt[node]?.class_type ?? null;
  }

  get totalNodes(): number {
    return this.#weights.size;
  }

  get completedNodes(): number {
    let n = 0;
    for (const id of this.#completed) if (this.#weights.has(id)) n++;
    return n;
  }

  get completed(): string[] {
    return [...this.#completed];
  }

  /** 0–99 while running: 100 is reserved for a finished prompt. */
  get percent(): number {
    let total = 0;
    let done = 0;
    for (const [id, w] of this.#weights) {
      total += w;
      if (this.#completed.has(id)) done += w;
      else if (this.#current?.node === id) done += w * this.#current.fraction;
    }
    if (total === 0) return 0;
    return Math.min(99, Math.floor((done / total) * 100));
  }
}

function samplerSteps(prompt: ApiPrompt, id: string): number {
  const inputs = prompt[id]!.inputs;
  if (typeof inputs.steps === 'number') return Math.max(1, inputs.steps);
  // SamplerCustom(Advanced) get their steps through the scheduler that feeds `sigmas`.
  const sigmas = inputs.sigmas;
  if (isApiLink(sigmas)) {
    const steps = prompt[sigmas[0]]?.inputs.steps;
    if (typeof steps === 'number') return Math.max(1, steps);
  }
  return 20;
}
