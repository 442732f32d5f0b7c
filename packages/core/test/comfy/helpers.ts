import type { EventEmitter } from 'eventemitter3';

export { sdxlApiPrompt as sdxlPrompt } from '@comfy-vast/testkit';

/** Resolves with the arguments of the first `event` whose arguments satisfy `pred`. */
export function nextEvent<A extends unknown[]>(emitter: EventEmitter, event: string, pred: (...args: A) => boolean = () => true): Promise<A> {
  return new Promise((resolve) => {
    const listener = (...args: unknown[]) => {
      if (!pred(...(args as A))) return;
      emitter.off(event, listener);
      resolve(args as A);
    };
    emitter.on(event, listener);
  });
}
