import { createHash } from 'node:crypto';
import * as vscode from 'vscode';
import { explainFailure } from '../api/error-messages.js';
import type { GenerationInfo, ServerInfo } from '../api/port.js';
import { imageExtension } from '../generate/output-paths.js';
import type { Connection } from './connection.js';
import type { GenerationLinks } from './generation-links.js';
import { describeServer, type ServerSelection } from './server-selection.js';

const RECENT = 10;
const ICONS: Record<string, string> = { running: 'vm-running', stopped: 'vm-outline', exited: 'vm-outline', error: 'error', failed: 'error' };

type Item =
  | { kind: 'server'; server: ServerInfo }
  /** `workflow`: the URI of the file it was started from, when that was in this workspace. */
  | { kind: 'generation'; generation: GenerationInfo; workflow?: string }
  | { kind: 'message'; text: string };

/** The activity-bar tree: the user's servers (status, GPU, price, cost) and each one's recent generations. */
export class ServersView implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  readonly #changed = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.#changed.event;

  constructor(
    private readonly connection: Connection,
    private readonly selection: ServerSelection,
    /** Where thumbnails of recent generations are cached. */
    private readonly thumbnails: vscode.Uri,
    private readonly links?: GenerationLinks,
  ) {}

  refresh(): void {
    this.#changed.fire(undefined);
  }

  async getChildren(parent?: Item): Promise<Item[]> {
    if (!(await this.connection.isSignedIn())) return [];
    try {
      const api = await this.connection.api();
      if (!parent) {
        const requestedAt = this.selection.listRequested();
        const servers = await api.listServers();
        await this.selection.refreshFrom(servers, requestedAt);
        return servers.length ? servers.map((server) => ({ kind: 'server', server })) : [{ kind: 'message', text: 'No GPU servers yet' }];
      }
      if (parent.kind !== 'server') return [];
      const generations = (await api.listGenerations(parent.server.id)).sort((a, b) => b.id - a.id).slice(0, RECENT);
      if (generations.length === 0) return [{ kind: 'message', text: 'No generations yet' }];
      return generations.map((generation) => {
        const workflow = this.links?.find(this.connection.apiUrl, generation.id);
        return { kind: 'generation', generation, ...(workflow ? { workflow } : {}) };
      });
    } catch (error) {
      return [{ kind: 'message', text: explainFailure(error, this.connection.apiUrl).message }];
    }
  }

  async getTreeItem(item: Item): Promise<vscode.TreeItem> {
    if (item.kind === 'message') return new vscode.TreeItem(item.text);
    if (item.kind === 'server') {
      const s = item.server;
      const tree = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.Collapsed);
      tree.id = `server-${s.id}`;
      tree.description = [describeServer(s), s.costSoFar !== undefined ? `spent $${s.costSoFar.toFixed(2)}` : undefined, this.selection.selected?.id === s.id ? 'selected' : undefined]
        .filter(Boolean)
        .join(' · ');
      tree.tooltip = `${s.name}\n${tree.description}`;
      tree.iconPath = new vscode.ThemeIcon(ICONS[s.status] ?? 'loading~spin');
      tree.contextValue = s.status === 'running' ? 'server.running' : ['stopped', 'exited'].includes(s.status) ? 'server.stopped' : 'server.busy';
      return tree;
    }
    const g = item.generation;
    const tree = new vscode.TreeItem(`#${g.id} ${g.prompt ?? ''}`.trim());
    tree.id = `generation-${g.id}`;
    const workflow = item.workflow ? vscode.workspace.asRelativePath(vscode.Uri.parse(item.workflow), false) : undefined;
    tree.description = [g.status, g.imageUrls.length ? `${g.imageUrls.length} image(s)` : undefined, workflow].filter(Boolean).join(' · ');
    if (workflow) tree.tooltip = `From ${workflow}`;
    tree.contextValue = workflow ? 'generation.linked' : 'generation';
    const thumbnail = g.imageUrls[0] ? await this.thumbnail(g, g.imageUrls[0]).catch(() => undefined) : undefined;
    tree.iconPath = thumbnail ?? new vscode.ThemeIcon(g.status === 'completed' ? 'file-media' : g.status === 'failed' ? 'error' : 'sync');
    if (thumbnail) tree.command = { command: 'comfyVast.openImage', title: 'Open Image', arguments: [thumbnail] };
    return tree;
  }

  /**
   * Cached per API address, generation and creation time: generation ids restart on another API server or data
   * folder, and must never show another server's image.
   */
  private async thumbnail(g: GenerationInfo, url: string): Promise<vscode.Uri> {
    const folder = vscode.Uri.joinPath(this.thumbnails, createHash('sha256').update(this.connection.apiUrl).digest('hex').slice(0, 16));
    const created = g.createdAt ? `_${g.createdAt.replace(/\D/g, '')}` : '';
    const file = vscode.Uri.joinPath(folder, `${g.id}${created}.${imageExtension(url)}`);
    try {
      await vscode.workspace.fs.stat(file);
    } catch {
      await vscode.workspace.fs.createDirectory(folder);
      await vscode.workspace.fs.writeFile(file, await (await this.connection.api()).image(url));
    }
    return file;
  }

  dispose(): void {
    this.#changed.dispose();
  }
}

/** Opens the workflow file a generation was started from. */
export async function openWorkflowOf(item: Item | undefined): Promise<void> {
  if (item?.kind === 'generation' && item.workflow) await vscode.commands.executeCommand('vscode.open', vscode.Uri.parse(item.workflow));
}

/** Start, stop and delete (after confirmation) from the tree's context menu. */
export async function serverAction(connection: Connection, action: 'start' | 'stop' | 'delete', item: Item | undefined): Promise<boolean> {
  if (item?.kind !== 'server') return false;
  const server = item.server;
  if (action === 'delete') {
    const confirm = await vscode.window.showWarningMessage(
      `Delete the GPU server "${server.name}"? Its disk and anything not saved elsewhere are lost.`,
      { modal: true },
      'Delete',
    );
    if (confirm !== 'Delete') return false;
  }
  try {
    const api = await connection.api();
    await { start: () => api.startServer(server.id), stop: () => api.stopServer(server.id), delete: () => api.deleteServer(server.id) }[action]();
    void vscode.window.showInformationMessage(`Comfy-Vast: ${action} of "${server.name}" initiated.`);
    return true;
  } catch (error) {
    await connection.report(error);
    return false;
  }
}
