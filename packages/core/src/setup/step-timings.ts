import type { Store } from '../store/store.js';
import type { ExecutionKind } from './records.js';

/** The spec's six setup steps, in order, as remote.sh names them. */
export const SETUP_STEPS = [
  'Installing system dependencies',
  'Setting up Python environment',
  'Cloning ComfyUI repository',
  'Installing ComfyUI requirements',
  'Downloading basic models',
  'Starting ComfyUI server',
] as const;

/** A reset's first step, before the six of setup. */
export const RESET_STEP = 'Removing ComfyUI and its environment';

export const stepsOf = (kind: ExecutionKind): readonly string[] => (kind === 'reset' ? [RESET_STEP, ...SETUP_STEPS] : SETUP_STEPS);

/** How long each step takes when it has to run and this installation has not timed it yet. */
const DEFAULT_MS: Record<string, number> = {
  [RESET_STEP]: 10_000,
  'Installing system dependencies': 20_000,
  'Setting up Python environment': 10_000,
  'Cloning ComfyUI repository': 20_000,
  'Installing ComfyUI requirements': 60_000,
  'Downloading basic models': 20_000,
  'Starting ComfyUI server': 20_000,
};
const FALLBACK_MS = 20_000;

const KEY = 'setupStepTimings';
/** Weight of the newest run in the running average: recent servers say more than old ones. */
const WEIGHT = 0.3;

type Timings = Record<string, { ms: number; runs: number }>;

/** This installation's step durations (those that ran, not those skipped), kept in the store across restarts. */
export class StepTimings {
  readonly #store: Store;

  constructor(store: Store) {
    this.#store = store;
  }

  /** How long a step is expected to take when it runs. */
  expected(name: string): number {
    return this.#all()[name]?.ms ?? DEFAULT_MS[name] ?? FALLBACK_MS;
  }

  /** The whole of a kind's steps, each expected to run. */
  total(kind: ExecutionKind): number {
    return stepsOf(kind).reduce((sum, name) => sum + this.expected(name), 0);
  }

  /**
   * Expected milliseconds left: what remains of the current step (1-based; 0 before the first) and every step after
   * it. A skipped current step has nothing left; a step whose start is unknown is counted whole.
   */
  remaining(kind: ExecutionKind, current: { step: number | null; skipped: boolean; startedAt: number | null }, now: number): number {
    const names = stepsOf(kind);
    const index = current.step ?? 0;
    let left = 0;
    if (index > 0 && !current.skipped) {
      const name = names[index - 1];
      const expected = name === undefined ? FALLBACK_MS : this.expected(name);
      left += current.startedAt === null ? expected : Math.max(0, expected - (now - current.startedAt));
    }
    for (const name of names.slice(index)) left += this.expected(name);
    return left;
  }

  /** Records how long a step that ran took. */
  async learn(name: string, ms: number): Promise<void> {
    if (!Number.isFinite(ms) || ms < 0) return;
    const all = this.#all();
    const known = all[name];
    const next = known ? { ms: Math.round(known.ms * (1 - WEIGHT) + ms * WEIGHT), runs: known.runs + 1 } : { ms, runs: 1 };
    await this.#store.setValue(KEY, { ...all, [name]: next });
  }

  #all(): Timings {
    return this.#store.getValue<Timings>(KEY) ?? {};
  }
}
