import { isApiLink, type ApiNode, type ApiPrompt } from './api-schema.js';
import { SAMPLER_TYPES } from './samplers.js';

export const isLatentSource = (node: ApiNode): boolean =>
  /^Empty.*Latent/.test(node.class_type) && 'width' in node.inputs && 'height' in node.inputs;

/**
 * The empty-latent nodes behind samplers' `latent_image`: every node reachable from it through all inputs of
 * other nodes and, when asked, through the `latent_image` of earlier samplers. Looking past samplers, each
 * sampler's sources are kept and samplers are searched upstream first, so a search stops at the samplers
 * before it and a chain of thousands is walked once instead of once per sampler. A search meeting a sampler
 * not yet known (on a loop) walks through it, as a plain search would: results never depend on the order of
 * the questions.
 */
export class LatentSources {
  readonly #prompt: ApiPrompt;
  readonly #throughSamplers: boolean;
  readonly #bySampler = new Map<string, ReadonlySet<string>>();

  constructor(prompt: ApiPrompt, options: { throughSamplers: boolean }) {
    this.#prompt = prompt;
    this.#throughSamplers = options.throughSamplers;
  }

  of(samplerId: string): ReadonlySet<string> {
    const known = this.#bySampler.get(samplerId);
    if (known) return known;
    if (!this.#throughSamplers) return this.#search(samplerId, new Set()).sources;
    // Without recursion: chains can be long.
    const pending = [samplerId];
    const onStack = new Set(pending);
    while (pending.length > 0) {
      const id = pending[pending.length - 1]!;
      const { sources, unknown } = this.#search(id, onStack);
      if (unknown.length > 0) {
        for (const sampler of unknown) onStack.add(sampler);
        pending.push(...unknown);
        continue;
      }
      pending.pop();
      this.#bySampler.set(id, sources);
    }
    return this.#bySampler.get(samplerId)!;
  }

  /**
   * One search from a sampler's `latent_image`. Samplers met are known (their sources join), in progress on the
   * stack (a loop: walked through), or unknown: then they are returned to be searched first.
   */
  #search(start: string, inProgress: ReadonlySet<string>): { sources: Set<string>; unknown: string[] } {
    const sources = new Set<string>();
    const unknown: string[] = [];
    const seen = new Set<string>();
    const queue: string[] = [];
    const visit = (value: unknown): void => {
      if (isApiLink(value) && this.#prompt[value[0]] && !seen.has(value[0])) {
        seen.add(value[0]);
        queue.push(value[0]);
      }
    };
    visit(this.#prompt[start]?.inputs['latent_image']);
    while (queue.length > 0) {
      const id = queue.pop()!;
      const node = this.#prompt[id]!;
      if (isLatentSource(node)) {
        sources.add(id);
      } else if (!SAMPLER_TYPES.has(node.class_type)) {
        for (const name in node.inputs) visit(node.inputs[name]);
      } else if (this.#throughSamplers) {
        const known = this.#bySampler.get(id);
        if (known) for (const source of known) sources.add(source);
        else if (inProgress.has(id)) visit(node.inputs['latent_image']);
        else unknown.push(id);
      }
    }
    return { sources, unknown };
  }
}
