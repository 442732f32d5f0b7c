import * as vscode from 'vscode';
import type { ServerInfo } from '../api/port.js';
import type { Connection } from './connection.js';

const KEY = 'comfyVast.selectedServer';

export function describeServer(s: ServerInfo): string {
  return [s.status, s.gpu, s.pricePerHour ? `$${s.pricePerHour}/h` : undefined].filter(Boolean).join(' · ');
}

/** The fields the status bar and the quick pick show. */
const SHOWN = ['name', 'status', 'gpu', 'pricePerHour'] as const;

interface Following {
  id: number;
  stop: (() => void) | undefined;
}

/**
 * The GPU server generations go to, remembered per workspace, shown in the status bar. Its status follows the
 * API's event stream, so the status bar shows a server starting, stopping or stopped by its schedule as it happens.
 */
export class ServerSelection implements vscode.Disposable {
  readonly #changed = new vscode.EventEmitter<ServerInfo | undefined>();
  readonly onDidChange = this.#changed.event;
  readonly #status: vscode.StatusBarItem;
  /** The server whose status is followed, and how to stop following it. */
  #following: Following | undefined;
  #disposed = false;

  constructor(
    private readonly state: vscode.Memento,
    private readonly connection: Connection,
  ) {
    this.#status = vscode.window.createStatusBarItem('comfyVast.server', vscode.StatusBarAlignment.Left, 50);
    this.#status.name = 'Comfy-Vast Server';
    this.#status.command = 'comfyVast.selectServer';
    this.render(this.selected);
    this.#status.show();
    void this.follow();
  }

  get selected(): ServerInfo | undefined {
    return this.state.get<ServerInfo>(KEY);
  }

  async set(server: ServerInfo | undefined): Promise<void> {
    await this.state.update(KEY, server);
    this.render(server);
    this.#changed.fire(server);
    void this.follow();
  }

  /**
   * Refreshes the remembered server (or forgets it when it is gone) from a fresh list. While its status is
   * followed live, the live status wins: a list fetched before the last event would put an older one back.
   * Only what is shown counts as a change (the cost grows on every fetch; each change rechecks the workflows).
   */
  async refreshFrom(servers: ServerInfo[]): Promise<void> {
    const current = this.selected;
    if (!current) return;
    const listed = servers.find((s) => s.id === current.id);
    const live = this.#following?.id === current.id && this.#following.stop !== undefined;
    const fresh = listed && live ? { ...listed, status: current.status } : listed;
    if (!fresh || SHOWN.some((key) => fresh[key] !== current[key])) await this.set(fresh);
    else void this.follow();
  }

  /**
   * Follows the selected server's status, unless it is followed already. Signed out or unreachable, it does not:
   * the servers view says why, and its next refresh (or signing in, see `restart`) tries again.
   */
  async follow(): Promise<void> {
    if (this.#disposed) return;
    const id = this.selected?.id;
    if (id === this.#following?.id) return;
    this.#unfollow();
    if (id === undefined) return;
    const following: Following = { id, stop: undefined };
    this.#following = following;
    try {
      const api = await this.connection.api();
      const stop = await api.watchServer(id, (status) => void this.#statusChanged(id, status), () => this.#ended(following));
      if (this.#following === following) following.stop = stop;
      else stop();
    } catch {
      this.#ended(following);
    }
  }

  /** Follows again from scratch: the connection (API address or token) changed. */
  restart(): Promise<void> {
    this.#unfollow();
    return this.follow();
  }

  async #statusChanged(id: number, status: string): Promise<void> {
    const current = this.selected;
    if (current?.id === id && current.status !== status) await this.set({ ...current, status });
  }

  #ended(following: Following): void {
    if (this.#following === following) this.#following = undefined;
  }

  #unfollow(): void {
    this.#following?.stop?.();
    this.#following = undefined;
  }

  /** A quick pick of the user's servers with status, GPU and price; undefined when dismissed. */
  async pick(): Promise<ServerInfo | undefined> {
    try {
      const servers = await (await this.connection.api()).listServers();
      if (servers.length === 0) {
        void vscode.window.showWarningMessage('Comfy-Vast: you have no GPU servers yet. Create one with the API or the CLI, then pick it here.');
        return undefined;
      }
      const choice = await vscode.window.showQuickPick(
        servers.map((s) => ({ label: s.name, description: describeServer(s), picked: s.id === this.selected?.id, server: s })),
        { title: 'Comfy-Vast: Select Server', placeHolder: 'The GPU server to generate on' },
      );
      if (choice) await this.set(choice.server);
      return choice?.server;
    } catch (error) {
      await this.connection.report(error);
      return undefined;
    }
  }

  /** The selected server, asking for one when none is selected yet. */
  async require(): Promise<ServerInfo | undefined> {
    return this.selected ?? (await this.pick());
  }

  private render(server: ServerInfo | undefined): void {
    this.#status.text = server ? `$(server) ${server.name}: ${server.status}` : '$(server) Comfy-Vast: no server';
    this.#status.tooltip = server ? `${server.name} (${describeServer(server)}). Click to change.` : 'Select the GPU server to generate on';
  }

  dispose(): void {
    this.#disposed = true;
    this.#unfollow();
    this.#status.dispose();
    this.#changed.dispose();
  }
}
