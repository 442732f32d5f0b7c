import * as vscode from 'vscode';
import type { Problem } from '../workflow/diagnostics.js';
import type { WorkflowInsight } from './workflow-insight.js';

const DEBOUNCE_MS = 400;

export function toDiagnostic(document: vscode.TextDocument, problem: Problem): vscode.Diagnostic {
  const range = new vscode.Range(document.positionAt(problem.span.offset), document.positionAt(problem.span.offset + problem.span.length));
  const severity = problem.severity === 'error' ? vscode.DiagnosticSeverity.Error : vscode.DiagnosticSeverity.Warning;
  const diagnostic = new vscode.Diagnostic(range, problem.message, severity);
  diagnostic.source = 'comfy-vast';
  diagnostic.code = problem.code;
  return diagnostic;
}

/** Keeps the Problems panel in step with every open workflow file: on open, on edit (debounced) and on demand. */
export class WorkflowDiagnostics implements vscode.Disposable {
  readonly #collection = vscode.languages.createDiagnosticCollection('comfy-vast');
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #subscriptions: vscode.Disposable[];

  constructor(private readonly insight: WorkflowInsight) {
    this.#subscriptions = [
      this.#collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => this.#collection.delete(d.uri)),
    ];
    this.refreshAll();
  }

  /** Re-checks every open JSON document (after a server change or sign-in). */
  refreshAll(): void {
    for (const document of vscode.workspace.textDocuments) this.schedule(document, 0);
  }

  private schedule(document: vscode.TextDocument, delay: number): void {
    if (document.languageId !== 'json' && !document.uri.path.endsWith('.json')) return;
    const key = document.uri.toString();
    clearTimeout(this.#timers.get(key));
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        void this.update(document);
      }, delay),
    );
  }

  async update(document: vscode.TextDocument): Promise<void> {
    const version = document.version;
    const inspection = await this.insight.inspect(document);
    if (document.isClosed || document.version !== version) return;
    if (!inspection) this.#collection.delete(document.uri);
    else this.#collection.set(document.uri, inspection.problems.map((p) => toDiagnostic(document, p)));
  }

  dispose(): void {
    for (const timer of this.#timers.values()) clearTimeout(timer);
    for (const s of this.#subscriptions) s.dispose();
  }
}
