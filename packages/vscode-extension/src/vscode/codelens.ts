import * as vscode from 'vscode';
import { readWorkflowDocument } from '../workflow/workflow-doc.js';

/** "Generate" and "Open in Workflow Editor" above the first line of every workflow file. */
export class WorkflowCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!readWorkflowDocument(document.getText())) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: '$(play) Generate', command: 'comfyVast.generate', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: 'Open in Workflow Editor', command: 'comfyVast.openWorkflowEditor', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: 'Export as API Format', command: 'comfyVast.exportApiFormat', arguments: [document.uri] }),
    ];
  }
}
