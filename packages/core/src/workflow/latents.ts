import { isApiLink, type ApiNode, type ApiPrompt } from './api-schema.js';
import { SAMPLER_TYPES } from './samplers.js';

export const isLatentSource = (node: ApiNode): boolean =>
  /^Empty.*Latent/.test(node.class_type) && 'width' in node.inputs && 'height' in node.inputs;

const NONE: ReadonlySet<string> = new Set();

/** Nodes that reach each other (a loop, or one node); `answer` is kept for those a sampler reads from. */
interface Component {
  own: string[];
  upstream: Component[];
  answer: ReadonlySet<string> | undefined;
}

interface Frame {
  id: string;
  upstream: string[];
  next: number;
}

/**
 * The empty-latent nodes behind samplers' `latent_image`: those a search reaches from it through every input of
 * other nodes and, when asked, through the `latent_image` of earlier samplers; a search stops at an empty latent.
 *
 * Nodes are grouped into strongly connected components (Tarjan's algorithm, without recursion: chains can be
 * long), which turns loops into single steps. The components samplers read from keep their answer, and an
 * answer is searched only up to the answered components before it. So any question gets a plain search's
 * answer, whatever was asked before, and chains and loops of thousands of nodes are walked about once.
 */
export class LatentSources {
  readonly #prompt: ApiPrompt;
  readonly #throughSamplers: boolean;
  readonly #componentOf = new Map<string, Component>();
  readonly #index = new Map<string, number>();
  readonly #low = new Map<string, number>();
  #anchors: ReadonlySet<string> | undefined;

  constructor(prompt: ApiPrompt, options: { throughSamplers: boolean }) {
    this.#prompt = prompt;
    this.#throughSamplers = options.throughSamplers;
  }

  /** The sources behind a sampler's `latent_image`. */
  of(samplerId: string): ReadonlySet<string> {
    const start = this.#latentInput(samplerId);
    if (start === undefined) return NONE;
    // The usual case, an empty latent read directly, needs no grouping.
    if (isLatentSource(this.#prompt[start]!)) return new Set([start]);
    this.#group(start);
    const component = this.#componentOf.get(start)!;
    return (component.answer ??= this.#answer(component));
  }

  #latentInput(samplerId: string): string | undefined {
    const value = this.#prompt[samplerId]?.inputs['latent_image'];
    return isApiLink(value) && this.#prompt[value[0]] ? value[0] : undefined;
  }

  /** The nodes samplers read their latent from. */
  #isAnchor(id: string): boolean {
    if (!this.#anchors) {
      const anchors = new Set<string>();
      for (const sampler in this.#prompt) {
        if (!SAMPLER_TYPES.has(this.#prompt[sampler]!.class_type)) continue;
        const start = this.#latentInput(sampler);
        if (start !== undefined) anchors.add(start);
      }
      this.#anchors = anchors;
    }
    return this.#anchors.has(id);
  }

  /** Where a search goes on from a node: nowhere past an empty latent, a sampler's `latent_image` if asked. */
  #upstream(id: string): string[] {
    const node = this.#prompt[id]!;
    const ids: string[] = [];
    const add = (value: unknown): void => {
      if (isApiLink(value) && this.#prompt[value[0]]) ids.push(value[0]);
    };
    if (isLatentSource(node)) return ids;
    if (SAMPLER_TYPES.has(node.class_type)) {
      if (this.#throughSamplers) add(node.inputs['latent_image']);
      return ids;
    }
    for (const name in node.inputs) add(node.inputs[name]);
    return ids;
  }

  /** Tarjan from `root`; components finish upstream first, so an anchor's answer can be found as it finishes. */
  #group(root: string): void {
    if (this.#componentOf.has(root)) return;
    const frames: Frame[] = [];
    const open: string[] = [];
    const onOpen = new Set<string>();
    const upstreamOf = new Map<string, string[]>();
    let counter = this.#index.size;
    const enter = (id: string): void => {
      this.#index.set(id, counter);
      this.#low.set(id, counter++);
      open.push(id);
      onOpen.add(id);
      const upstream = this.#upstream(id);
      upstreamOf.set(id, upstream);
      frames.push({ id, upstream, next: 0 });
    };
    const lower = (id: string, value: number): void => void this.#low.set(id, Math.min(this.#low.get(id)!, value));
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next < frame.upstream.length) {
        const next = frame.upstream[frame.next++]!;
        if (this.#componentOf.has(next)) continue;
        if (!this.#index.has(next)) enter(next);
        else if (onOpen.has(next)) lower(frame.id, this.#index.get(next)!);
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) lower(parent.id, this.#low.get(frame.id)!);
      if (this.#low.get(frame.id) !== this.#index.get(frame.id)) continue;
      const members: string[] = [];
      let member: string;
      do {
        member = open.pop()!;
        onOpen.delete(member);
        members.push(member);
      } while (member !== frame.id);
      this.#finish(members, upstreamOf);
    }
  }

  #finish(members: readonly string[], upstreamOf: ReadonlyMap<string, readonly string[]>): void {
    const component: Component = { own: members.filter((id) => isLatentSource(this.#prompt[id]!)), upstream: [], answer: undefined };
    const upstream = new Set<Component>();
    for (const id of members) {
      for (const next of upstreamOf.get(id)!) {
        const other = this.#componentOf.get(next);
        if (other) upstream.add(other);
      }
    }
    component.upstream = [...upstream];
    for (const id of members) this.#componentOf.set(id, component);
    if (members.some((id) => this.#isAnchor(id))) component.answer = this.#answer(component);
  }

  /** Own sources and those upstream, up to the components already answered (their answers join). */
  #answer(component: Component): ReadonlySet<string> {
    const sources = new Set<string>();
    const seen = new Set<Component>([component]);
    const stack = [component];
    while (stack.length > 0) {
      const current = stack.pop()!;
      for (const id of current.own) sources.add(id);
      for (const next of current.upstream) {
        if (seen.has(next)) continue;
        seen.add(next);
        if (next.answer) for (const id of next.answer) sources.add(id);
        else stack.push(next);
      }
    }
    return sources;
  }
}
