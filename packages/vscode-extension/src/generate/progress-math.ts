/**
 * Turns a stream of absolute percentages into the increments `withProgress` wants, never going backwards
 * (a resync can report an older value).
 */
export class ProgressIncrements {
  #reported = 0;

  next(percent: number): number {
    const clamped = Math.min(100, Math.max(0, percent));
    const increment = Math.max(0, clamped - this.#reported);
    this.#reported += increment;
    return increment;
  }
}
