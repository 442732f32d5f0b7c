import type * as vscode from 'vscode';

type Settable = { setContents(document: vscode.TextDocument, text: string): void };

/**
 * `workspace.applyEdit` as VS Code does it on jest-mock-vscode documents: the text changes and the version goes
 * up, or, when two edits of a document overlap, nothing changes and the answer is false.
 */
export function applyEditLikeVsCode(...documents: vscode.TextDocument[]): (edit: vscode.WorkspaceEdit) => Promise<boolean> {
  return async (edit) => {
    const planned: [vscode.TextDocument, string][] = [];
    for (const [uri, changes] of edit.entries()) {
      const document = documents.find((d) => d.uri.toString() === uri.toString());
      if (!document) return false;
      const spans = changes
        .map((c) => ({ start: document.offsetAt(c.range.start), end: document.offsetAt(c.range.end), text: c.newText }))
        .sort((a, b) => a.start - b.start);
      if (spans.some((s, i) => i > 0 && s.start < spans[i - 1]!.end)) return false;
      let text = document.getText();
      for (const s of [...spans].reverse()) text = text.slice(0, s.start) + s.text + text.slice(s.end);
      planned.push([document, text]);
    }
    for (const [document, text] of planned) {
      (document.constructor as unknown as Settable).setContents(document, text);
      (document as { version: number }).version++;
    }
    return true;
  };
}
