import type * as vscode from 'vscode';

/** Workspace state: which workflow file each generation came from, by API address and generation id. */
const KEY = 'comfyVast.generationWorkflows';
/** The most recent ones are enough for the Servers view's recent generations. */
const KEPT = 500;

/** Links each generation started here to its workflow file, so that the Servers view can lead back to it. */
export class GenerationLinks {
  constructor(private readonly state: vscode.Memento) {}

  async remember(apiUrl: string, generationId: number, workflow: vscode.Uri): Promise<void> {
    const links = { ...this.state.get<Record<string, string>>(KEY, {}), [`${apiUrl}#${generationId}`]: workflow.toString() };
    const keys = Object.keys(links);
    for (const key of keys.slice(0, Math.max(0, keys.length - KEPT))) delete links[key];
    await this.state.update(KEY, links);
  }

  /** The workflow file's URI as text, when the generation was started from this workspace. */
  find(apiUrl: string, generationId: number): string | undefined {
    return this.state.get<Record<string, string>>(KEY, {})[`${apiUrl}#${generationId}`];
  }
}
