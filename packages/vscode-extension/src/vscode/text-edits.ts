import * as vscode from 'vscode';
import type { TextEdit } from '../workflow/value-edit.js';

/** Applies minimal edits to a document as one undoable step; false when VS Code refuses them (nothing changed). */
export async function applyTextEdits(document: vscode.TextDocument, edits: TextEdit[]): Promise<boolean> {
  if (edits.length === 0) return true;
  const workspaceEdit = new vscode.WorkspaceEdit();
  for (const edit of edits) {
    workspaceEdit.replace(document.uri, new vscode.Range(document.positionAt(edit.offset), document.positionAt(edit.offset + edit.length)), edit.newText);
  }
  return vscode.workspace.applyEdit(workspaceEdit);
}
