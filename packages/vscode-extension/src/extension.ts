import './no-eval.js';
import * as vscode from 'vscode';
import { createClientApi } from './api/client-api.js';
import { WorkflowCodeLens } from './vscode/codelens.js';
import { Connection } from './vscode/connection.js';
import { WorkflowDiagnostics } from './vscode/diagnostics.js';
import { DocumentQueue } from './vscode/document-queue.js';
import { exportApiFormat } from './vscode/export-api.js';
import { GalleryStore } from './vscode/gallery-store.js';
import { createServer } from './vscode/create-server.js';
import { GenerationLinks } from './vscode/generation-links.js';
import { GenerationRunner } from './vscode/generation-runner.js';
import { DOWNLOAD_COMMAND, ModelDownloadActions, downloadModel } from './vscode/model-download.js';
import { ServerSelection } from './vscode/server-selection.js';
import { ServersView, openWorkflowOf, serverAction } from './vscode/servers-view.js';
import { EDITOR_VIEW_TYPES, WorkflowEditorProvider } from './vscode/workflow-editor.js';
import { WorkflowInsight } from './vscode/workflow-insight.js';

/** The document a command acts on: its argument (CodeLens, menus), else the active text or workflow editor. */
async function targetDocument(arg: unknown): Promise<vscode.TextDocument | undefined> {
  const uri =
    arg instanceof vscode.Uri
      ? arg
      : (vscode.window.activeTextEditor?.document.uri ??
        (vscode.window.tabGroups.activeTabGroup.activeTab?.input instanceof vscode.TabInputCustom ? vscode.window.tabGroups.activeTabGroup.activeTab.input.uri : undefined));
  if (!uri) {
    void vscode.window.showWarningMessage('Comfy-Vast: open a workflow file first.');
    return undefined;
  }
  return vscode.workspace.openTextDocument(uri);
}

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Comfy-Vast', { log: true });
  const connection = new Connection(context.secrets, createClientApi, log);
  const selection = new ServerSelection(context.workspaceState, connection);
  const insight = new WorkflowInsight(connection, selection);
  const diagnostics = new WorkflowDiagnostics(insight);
  const queue = new DocumentQueue();
  const gallery = new GalleryStore();
  const links = new GenerationLinks(context.workspaceState);
  const runner = new GenerationRunner(connection, selection, { queue, gallery, links, definitions: () => insight.definitions() });
  const servers = new ServersView(connection, selection, vscode.Uri.joinPath(context.globalStorageUri, 'thumbnails'), links);
  const editor = new WorkflowEditorProvider(context.extensionUri, insight, runner, selection, queue, gallery);

  const recheck = () => {
    insight.reset();
    diagnostics.refreshAll();
    servers.refresh();
  };
  const command = (id: string, run: (...args: unknown[]) => unknown) => vscode.commands.registerCommand(id, run);

  context.subscriptions.push(
    log,
    connection,
    selection,
    diagnostics,
    runner,
    gallery,
    servers,
    ...EDITOR_VIEW_TYPES.map((viewType) =>
      vscode.window.registerCustomEditorProvider(viewType, editor, { webviewOptions: { retainContextWhenHidden: false }, supportsMultipleEditorsPerDocument: true }),
    ),
    vscode.window.registerTreeDataProvider('comfyVast.servers', servers),
    vscode.languages.registerCodeLensProvider({ language: 'json' }, new WorkflowCodeLens()),
    vscode.languages.registerCodeActionsProvider({ language: 'json' }, new ModelDownloadActions(selection), { providedCodeActionKinds: ModelDownloadActions.kinds }),
    connection.onDidChange(() => {
      recheck();
      void selection.restart();
    }),
    selection.onDidChange(recheck),
    runner.onDidFinish(() => servers.refresh()),
    command('comfyVast.signIn', () => connection.signIn()),
    command('comfyVast.signOut', () => connection.signOut()),
    command('comfyVast.selectServer', async (item) => {
      const server = (item as { kind?: string; server?: Parameters<ServerSelection['set']>[0] } | undefined)?.server;
      return server ? selection.set(server) : selection.pick();
    }),
    command('comfyVast.generate', async (arg) => {
      const document = await targetDocument(arg);
      return document ? runner.generate(document) : [];
    }),
    command('comfyVast.exportApiFormat', async (arg) => {
      const document = await targetDocument(arg);
      return document ? exportApiFormat(connection, document, selection.selected?.id) : undefined;
    }),
    command('comfyVast.openWorkflowEditor', async (arg) => {
      const document = await targetDocument(arg);
      if (document) await vscode.commands.executeCommand('vscode.openWith', document.uri, 'comfyVast.workflowJson');
    }),
    command('comfyVast.refreshServers', () => servers.refresh()),
    command('comfyVast.createServer', async () => (await createServer(connection)) && servers.refresh()),
    command(DOWNLOAD_COMMAND, async (uri, name) => {
      const done = await downloadModel(connection, selection, insight, await vscode.workspace.openTextDocument(uri as vscode.Uri), String(name));
      if (done?.status === 'completed') recheck();
    }),
    command('comfyVast.openWorkflow', (item) => openWorkflowOf(item as never)),
    command('comfyVast.startServer', async (item) => (await serverAction(connection, 'start', item as never)) && servers.refresh()),
    command('comfyVast.stopServer', async (item) => (await serverAction(connection, 'stop', item as never)) && servers.refresh()),
    command('comfyVast.deleteServer', async (item) => (await serverAction(connection, 'delete', item as never)) && servers.refresh()),
    command('comfyVast.openImage', (uri) => vscode.commands.executeCommand('vscode.open', uri)),
  );
}

export function deactivate(): void {}
