/**
 * What a benchmark measured, for the JSON summary beside the text: each figure with its baseline from the same
 * run, their ratio, and the goal it is held to.
 */
export interface Figure {
  name: string;
  value: number;
  unit: string;
  baseline?: { name: string; value: number };
  /** value / baseline. */
  ratio?: number;
  goal?: string;
  met?: boolean;
}

const figures: Figure[] = [];

export function record(figure: Figure): void {
  figures.push(figure);
}

export function takeFigures(): Figure[] {
  return figures.splice(0);
}
