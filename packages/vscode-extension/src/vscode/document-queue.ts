import type * as vscode from 'vscode';

/**
 * Work on one document done strictly in the order it was asked for: the editor's messages (a form edit, then
 * Generate) and a generation's read of the text. A task that fails does not stop the ones after it.
 */
export class DocumentQueue {
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Runs `task` once everything queued before it for the document has finished. */
  run<T>(document: vscode.Uri, task: () => Promise<T>): Promise<T> {
    const key = document.toString();
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.catch(() => undefined);
    this.#tails.set(key, tail);
    void tail.then(() => this.#tails.get(key) === tail && this.#tails.delete(key));
    return result;
  }

  /** Resolves once everything queued so far for the document has finished. */
  async idle(document: vscode.Uri): Promise<void> {
    await this.#tails.get(document.toString());
  }
}
