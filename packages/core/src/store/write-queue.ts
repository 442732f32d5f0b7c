interface Waiting<C> {
  change: C;
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * Group commit: the first change of a burst waits one microtask so that the changes made synchronously after it
 * (a loop, a Promise.all) join it, and changes pushed while a write runs form the next batch; each batch is one
 * call of `write`, in push order. When a write fails, its changes and every change queued behind them are handed
 * to `fail` (which puts memory back as it is on disk and returns the error) and their promises reject with that
 * error: the later changes were made on top of the failed ones.
 */
export class WriteQueue<C> {
  #waiting: Waiting<C>[] = [];
  #running: Promise<void> | null = null;

  constructor(
    private readonly write: (batch: C[]) => Promise<void>,
    private readonly fail: (changes: C[], error: unknown) => unknown,
  ) {}

  push(change: C): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ change, resolve, reject });
      this.#running ??= this.#drain();
    });
  }

  /** Resolves once everything pushed so far has been written (or has failed). */
  async idle(): Promise<void> {
    while (this.#running) await this.#running;
  }

  async #drain(): Promise<void> {
    // Changes made synchronously after this one (a loop, a Promise.all) join its batch.
    await Promise.resolve();
    while (this.#waiting.length > 0) {
      const batch = this.#waiting;
      this.#waiting = [];
      try {
        await this.write(batch.map((w) => w.change));
        for (const w of batch) w.resolve();
      } catch (error) {
        const failed = [...batch, ...this.#waiting];
        this.#waiting = [];
        const reported = this.fail(
          failed.map((w) => w.change),
          error,
        );
        for (const w of failed) w.reject(reported);
      }
    }
    this.#running = null;
  }
}
