import { strict as assert } from 'node:assert';
import * as vscode from 'vscode';

const EXTENSION_ID = 'comfy-vast.comfy-vast-vscode';

function workspaceFile(path: string): vscode.Uri {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the tests run in a workspace folder');
  return vscode.Uri.joinPath(folder.uri, path);
}

/** Polls until `check` returns a value (diagnostics and editors arrive asynchronously). */
async function eventually<T>(what: string, check: () => T | undefined | Promise<T | undefined>, attempts = 100): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const ourDiagnostics = (uri: vscode.Uri) => vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'comfy-vast');

export const hostTests: [string, () => Promise<void>][] = [
  [
    'activates and registers every contributed command',
    async () => {
      const extension = vscode.extensions.getExtension(EXTENSION_ID);
      assert.ok(extension, 'extension is installed');
      await extension.activate();
      assert.ok(extension.isActive);
      const contributed = (extension.packageJSON as { contributes: { commands: { command: string }[] } }).contributes.commands.map((c) => c.command);
      const registered = new Set(await vscode.commands.getCommands(true));
      assert.deepEqual(contributed.filter((c) => !registered.has(c)), []);
    },
  ],
  [
    'pins a broken link to its characters in the Problems panel',
    async () => {
      const uri = workspaceFile('workflows/broken.comfy.json');
      const document = await vscode.workspace.openTextDocument(uri);
      await vscode.window.showTextDocument(document);
      const diagnostics = await eventually('comfy-vast diagnostics', () => {
        const found = ourDiagnostics(uri);
        return found.length > 0 ? found : undefined;
      });
      const broken = diagnostics.find((d) => d.code === 'broken-link');
      assert.ok(broken, JSON.stringify(diagnostics.map((d) => d.message)));
      assert.equal(document.getText(broken.range).replace(/\s+/g, ''), '[9,8,0,99,0,"IMAGE"]');
      assert.match(broken.message, /goes to node 99/);
    },
  ],
  [
    'the contributed JSON schema reports a workflow of the wrong shape',
    async () => {
      const uri = workspaceFile('workflows/shape-error.comfy.json');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const messages = await eventually('JSON schema diagnostics', () => {
        const found = vscode.languages.getDiagnostics(uri).filter((d) => d.source !== 'comfy-vast').map((d) => d.message);
        return found.length > 0 ? found : undefined;
      });
      assert.ok(messages.some((m) => /type/.test(m)), messages.join(' | '));
      assert.ok(ourDiagnostics(uri).some((d) => d.code === 'invalid-shape'), 'core’s shape check reports it too');
    },
  ],
  [
    'offers Generate as a CodeLens at the top of a workflow',
    async () => {
      const uri = workspaceFile('workflows/txt2img.comfy.json');
      await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
      const lenses = await eventually('code lenses', async () => {
        const found = await vscode.commands.executeCommand<vscode.CodeLens[]>('vscode.executeCodeLensProvider', uri);
        return found?.some((l) => l.command?.command === 'comfyVast.generate') ? found : undefined;
      });
      const generate = lenses.find((l) => l.command?.command === 'comfyVast.generate')!;
      assert.equal(generate.range.start.line, 0);
    },
  ],
  [
    'opens a workflow in the workflow editor with openWith, and the text document stays the model',
    async () => {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const uri = workspaceFile('workflows/txt2img.comfy.json');
      await vscode.commands.executeCommand('vscode.openWith', uri, 'comfyVast.workflow');
      const input = await eventually('the custom editor tab', () => {
        const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
        return tab instanceof vscode.TabInputCustom ? tab : undefined;
      });
      assert.equal(input.viewType, 'comfyVast.workflow');
      assert.equal(input.uri.toString(), uri.toString());
      const document = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
      assert.ok(document, 'the custom editor keeps a TextDocument open');
      // An edit made to the text reaches the same document the editor shows (undo, save and diff work on it).
      const edit = new vscode.WorkspaceEdit();
      const at = document.getText().indexOf('"euler"');
      edit.replace(uri, new vscode.Range(document.positionAt(at), document.positionAt(at + 7)), '"dpmpp_2m"');
      assert.ok(await vscode.workspace.applyEdit(edit));
      assert.ok(document.isDirty);
      await vscode.commands.executeCommand('undo');
      await eventually('undo', () => (document.getText().includes('"euler"') ? true : undefined));
    },
  ],
];
