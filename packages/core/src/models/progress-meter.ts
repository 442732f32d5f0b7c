/** How far back the speed looks: long enough to smooth bursts, short enough to follow a change of pace. */
const WINDOW_MS = 10_000;

interface Sample {
  at: number;
  bytes: number;
}

/** The speed of a transfer from its byte counts over time, and the time left at that speed. */
export class ProgressMeter {
  #samples: Sample[] = [];

  /** Records the byte count reached at `at` (ms). A count lower than the last one (a restart) starts over. */
  add(at: number, bytes: number): void {
    const last = this.#samples.at(-1);
    if (last && bytes < last.bytes) this.#samples = [];
    this.#samples.push({ at, bytes });
    // Keep one sample older than the window, so the window is always spanned.
    while (this.#samples.length > 2 && this.#samples[1]!.at <= at - WINDOW_MS) this.#samples.shift();
  }

  /** Bytes per second over the window, or null before two samples some time apart. */
  get bytesPerSecond(): number | null {
    const first = this.#samples[0];
    const last = this.#samples.at(-1);
    if (!first || !last || last.at <= first.at) return null;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  /** Seconds until `total` at the current speed, or null when unknown. */
  secondsLeft(total: number | null): number | null {
    const speed = this.bytesPerSecond;
    const last = this.#samples.at(-1);
    if (total === null || !last || !speed) return null;
    return Math.max(0, total - last.bytes) / speed;
  }
}
