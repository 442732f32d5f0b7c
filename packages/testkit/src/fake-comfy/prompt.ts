/** A prompt in ComfyUI's API format: node id → class and inputs (links are `[sourceId, slot]`). */
export type ApiPrompt = Record<string, { class_type?: unknown; inputs?: Record<string, unknown>; _meta?: unknown }>;

export function isLink(value: unknown): value is [string, number] {
  return Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'number';
}

/** Node ids in dependency order (each after its inputs), reached from `outputs`. */
export function executionOrder(prompt: ApiPrompt, outputs: string[]): string[] {
  const order: string[] = [];
  const seen = new Set<string>();
  const visit = (id: string): void => {
    if (seen.has(id) || !prompt[id]) return;
    seen.add(id);
    for (const v of Object.values(prompt[id].inputs ?? {})) if (isLink(v)) visit(v[0]);
    order.push(id);
  };
  for (const id of outputs) visit(id);
  return order;
}

/** Every upstream node of `id`, nearest first (breadth-first). */
export function ancestors(prompt: ApiPrompt, id: string): string[] {
  const out: string[] = [];
  const seen = new Set([id]);
  const queue = [id];
  while (queue.length) {
    const cur = queue.shift()!;
    for (const v of Object.values(prompt[cur]?.inputs ?? {})) {
      if (isLink(v) && !seen.has(v[0]) && prompt[v[0]]) {
        seen.add(v[0]);
        out.push(v[0]);
        queue.push(v[0]);
      }
    }
  }
  return out;
}
