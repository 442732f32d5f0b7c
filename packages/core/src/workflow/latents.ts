import { isApiLink, type ApiNode, type ApiPrompt } from './api-schema.js';
import { SAMPLER_TYPES } from './samplers.js';

export const isLatentSource = (node: ApiNode): boolean =>
  /^Empty.*Latent/.test(node.class_type) && 'width' in node.inputs && 'height' in node.inputs;

const NONE: ReadonlySet<string> = new Set();

/**
 * The empty-latent nodes behind samplers' `latent_image`, looking past earlier samplers only when asked. Each
 * node's sources are found once and shared: walking again from every sampler of a chain of thousands was
 * quadratic.
 */
export class LatentSources {
  readonly #prompt: ApiPrompt;
  readonly #throughSamplers: boolean;
  readonly #found = new Map<string, ReadonlySet<string>>();

  constructor(prompt: ApiPrompt, options: { throughSamplers: boolean }) {
    this.#prompt = prompt;
    this.#throughSamplers = options.throughSamplers;
  }

  /** The sources behind a sampler's `latent_image`. */
  of(samplerId: string): ReadonlySet<string> {
    const start = this.#prompt[samplerId]?.inputs['latent_image'];
    return isApiLink(start) && this.#prompt[start[0]] ? this.#behind(start[0]) : NONE;
  }

  /** The nodes a node's latent comes from: its latent input on a sampler, every linked input on other nodes. */
  #upstream(id: string): string[] {
    const node = this.#prompt[id]!;
    if (isLatentSource(node)) return [];
    if (SAMPLER_TYPES.has(node.class_type)) {
      const latent = node.inputs['latent_image'];
      return this.#throughSamplers && isApiLink(latent) && this.#prompt[latent[0]] ? [latent[0]] : [];
    }
    const ids: string[] = [];
    for (const name in node.inputs) {
      const value = node.inputs[name];
      if (isApiLink(value) && this.#prompt[value[0]]) ids.push(value[0]);
    }
    return ids;
  }

  /** Depth first without recursion (chains can be long); a node met again on its own path (a loop) gives none. */
  #behind(start: string): ReadonlySet<string> {
    const stack: { id: string; inputs: string[] | undefined }[] = [{ id: start, inputs: undefined }];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.inputs === undefined) {
        if (this.#found.has(top.id)) {
          stack.pop();
          continue;
        }
        this.#found.set(top.id, NONE);
        top.inputs = this.#upstream(top.id);
        for (const id of top.inputs) if (!this.#found.has(id)) stack.push({ id, inputs: undefined });
        continue;
      }
      stack.pop();
      this.#found.set(top.id, this.#combine(top.id, top.inputs));
    }
    return this.#found.get(start)!;
  }

  #combine(id: string, inputs: readonly string[]): ReadonlySet<string> {
    if (isLatentSource(this.#prompt[id]!)) return new Set([id]);
    const sets = inputs.map((input) => this.#found.get(input)!).filter((set) => set.size > 0);
    if (sets.length <= 1) return sets[0] ?? NONE;
    const union = new Set<string>();
    for (const set of sets) for (const source of set) union.add(source);
    return union;
  }
}
