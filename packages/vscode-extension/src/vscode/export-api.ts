import * as vscode from 'vscode';
import { workflowName } from '../generate/output-paths.js';
import { readWorkflowDocument } from '../workflow/workflow-doc.js';
import type { Connection } from './connection.js';

/**
 * Writes `<name>.api.json` beside a UI-format workflow, converted by the API (with the selected server's nodes),
 * asking first when that file exists.
 */
export async function exportApiFormat(connection: Connection, document: vscode.TextDocument, serverId?: number): Promise<vscode.Uri | undefined> {
  const doc = readWorkflowDocument(document.getText());
  if (!doc) {
    void vscode.window.showErrorMessage('Comfy-Vast: this file is not a ComfyUI workflow.');
    return undefined;
  }
  if (doc.format === 'api') {
    void vscode.window.showInformationMessage('Comfy-Vast: this workflow is already in API format.');
    return undefined;
  }
  const target = vscode.Uri.joinPath(document.uri, '..', `${workflowName(document.fileName)}.api.json`);
  if (await exists(target)) {
    const answer = await vscode.window.showWarningMessage(`${vscode.workspace.asRelativePath(target)} exists. Replace it?`, { modal: true }, 'Replace');
    if (answer !== 'Replace') return undefined;
  }
  try {
    const prompt = await (await connection.api()).convert(JSON.parse(document.getText()), serverId);
    await vscode.workspace.fs.writeFile(target, new TextEncoder().encode(`${JSON.stringify(prompt, null, 2)}\n`));
    const choice = await vscode.window.showInformationMessage(`Comfy-Vast: wrote ${vscode.workspace.asRelativePath(target)}.`, 'Open');
    if (choice) await vscode.window.showTextDocument(target);
    return target;
  } catch (error) {
    await connection.report(error, 'Comfy-Vast: export failed');
    return undefined;
  }
}

async function exists(uri: vscode.Uri): Promise<boolean> {
  try {
    await vscode.workspace.fs.stat(uri);
    return true;
  } catch {
    return false;
  }
}
