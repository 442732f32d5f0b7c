import * as vscode from 'vscode';
import { readWorkflowDocument } from '../workflow/workflow-doc.js';

/** "Generate" and "Open in Workflow Editor" above the first line of every workflow file; "Export" on UI-format ones. */
export class WorkflowCodeLens implements vscode.CodeLensProvider {
  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    const doc = readWorkflowDocument(document.getText());
    if (!doc) return [];
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, { title: '$(play) Generate', command: 'comfyVast.generate', arguments: [document.uri] }),
      new vscode.CodeLens(top, { title: 'Open in Workflow Editor', command: 'comfyVast.openWorkflowEditor', arguments: [document.uri] }),
      ...(doc.format === 'ui' ? [new vscode.CodeLens(top, { title: 'Export as API Format', command: 'comfyVast.exportApiFormat', arguments: [document.uri] })] : []),
    ];
  }
}
