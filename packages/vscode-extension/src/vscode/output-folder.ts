import * as vscode from 'vscode';
import { outputSegments } from '../generate/output-paths.js';

/** Where a workflow file's images go: `<workspace folder>/<comfyVast.outputFolder>/<workflow name>/`. */
export function outputFolder(document: vscode.Uri): vscode.Uri {
  const root = vscode.workspace.getWorkspaceFolder(document)?.uri ?? vscode.Uri.joinPath(document, '..');
  const setting = vscode.workspace.getConfiguration('comfyVast').get<string>('outputFolder', 'comfy-outputs');
  return vscode.Uri.joinPath(root, ...outputSegments(setting, document.path));
}
