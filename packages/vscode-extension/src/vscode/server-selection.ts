import * as vscode from 'vscode';
import type { ServerInfo } from '../api/port.js';
import { NotSignedIn, type Connection } from './connection.js';

/** Workspace state: the selected server per API address (ids are only unique within one API server). */
const KEY = 'comfyVast.selectedServers';

export function describeServer(s: ServerInfo): string {
  return [s.status, s.gpu, s.pricePerHour ? `$${s.pricePerHour}/h` : undefined].filter(Boolean).join(' · ');
}

/** The fields the status bar and the quick pick show. */
const SHOWN = ['name', 'status', 'gpu', 'pricePerHour'] as const;
/** Following again after the event stream ended: the first wait, doubled on each failure up to the last. */
const RETRY_FIRST_MS = 2_000;
const RETRY_MAX_MS = 60_000;

/** Runs `retry` after `ms` and returns how to cancel it; tests pass their own to run it when they choose. */
export type Schedule = (retry: () => void, ms: number) => () => void;

const scheduleTimer: Schedule = (retry, ms) => {
  const timer = setTimeout(retry, ms);
  return () => clearTimeout(timer);
};

interface Following {
  id: number;
  stop: (() => void) | undefined;
}

/**
 * The GPU server generations go to, remembered per workspace and per API address, shown in the status bar.
 * When none is chosen and exactly one of the user's servers is running, that one is selected. Its status follows the
 * API's event stream, so the status bar shows a server starting, stopping or stopped by its schedule as it happens.
 */
export class ServerSelection implements vscode.Disposable {
  readonly #changed = new vscode.EventEmitter<ServerInfo | undefined>();
  readonly onDidChange = this.#changed.event;
  readonly #status: vscode.StatusBarItem;
  /** The server whose status is followed, and how to stop following it. */
  #following: Following | undefined;
  /** Status events received so far: a list fetched while none arrived is newer than the live status. */
  #events = 0;
  #retryMs = RETRY_FIRST_MS;
  #cancelRetry: (() => void) | undefined;
  #disposed = false;

  constructor(
    private readonly state: vscode.Memento,
    private readonly connection: Connection,
    private readonly schedule: Schedule = scheduleTimer,
  ) {
    this.#status = vscode.window.createStatusBarItem('comfyVast.server', vscode.StatusBarAlignment.Left, 50);
    this.#status.name = 'Comfy-Vast Server';
    this.#status.command = 'comfyVast.selectServer';
    this.render(this.selected);
    this.#status.show();
    void this.follow().then(() => this.#reloadList());
  }

  get selected(): ServerInfo | undefined {
    return this.#remembered()[this.connection.apiUrl];
  }

  #remembered(): Record<string, ServerInfo> {
    return this.state.get<Record<string, ServerInfo>>(KEY) ?? {};
  }

  async set(server: ServerInfo | undefined): Promise<void> {
    const { [this.connection.apiUrl]: _previous, ...others } = this.#remembered();
    await this.state.update(KEY, server ? { ...others, [this.connection.apiUrl]: server } : others);
    this.render(server);
    this.#changed.fire(server);
    void this.follow();
  }

  /** Call before fetching the list given to `refreshFrom`. */
  listRequested(): number {
    return this.#events;
  }

  /**
   * Refreshes the remembered server (or forgets it when it is gone) from a fresh list. The live status wins only
   * when a status event arrived after the list was requested (`requestedAt`, from `listRequested`): otherwise the
   * list is newer, and a stream that went silent cannot keep an old status. Only what is shown counts as a change
   * (the cost grows on every fetch; each change rechecks the workflows).
   */
  async refreshFrom(servers: ServerInfo[], requestedAt?: number): Promise<void> {
    if (!(await this.#apply(servers, requestedAt))) void this.follow();
  }

  /** Takes what changed from the list; true when the selection changed (`set` then follows). */
  async #apply(servers: ServerInfo[], requestedAt: number | undefined): Promise<boolean> {
    const current = this.selected;
    if (!current) {
      const running = servers.filter((s) => s.status === 'running');
      if (running.length !== 1) return false;
      await this.set(running[0]);
      return true;
    }
    const listed = servers.find((s) => s.id === current.id);
    const liveIsNewer = requestedAt !== undefined && this.#events > requestedAt;
    const fresh = listed && liveIsNewer ? { ...listed, status: current.status } : listed;
    if (fresh && SHOWN.every((key) => fresh[key] === current[key])) return false;
    await this.set(fresh);
    return true;
  }

  /**
   * Follows the selected server's status, unless it is followed already. When the stream ends it follows again,
   * waiting longer after each failure; signed out, it waits for `restart` (signing in); when the server is gone,
   * it refreshes the selection from the list.
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
      const stop = await api.watchServer(id, (status) => void this.#statusChanged(id, status), (reason) => this.#ended(following, reason));
      if (this.#following === following) following.stop = stop;
      else stop();
    } catch (error) {
      this.#ended(following, error instanceof NotSignedIn ? 'signed-out' : 'closed');
    }
  }

  /**
   * Follows again from scratch: the connection (API address or token) changed. The selection is the one
   * remembered for this address, checked against its list (forgotten when that server is not there).
   */
  async restart(): Promise<void> {
    this.#unfollow();
    this.#retryMs = RETRY_FIRST_MS;
    const selected = this.selected;
    this.render(selected);
    this.#changed.fire(selected);
    await this.follow();
    await this.#reloadList();
  }

  async #statusChanged(id: number, status: string): Promise<void> {
    this.#events++;
    this.#retryMs = RETRY_FIRST_MS;
    const current = this.selected;
    if (current?.id === id && current.status !== status) await this.set({ ...current, status });
  }

  #ended(following: Following, reason: 'closed' | 'not-found' | 'signed-out'): void {
    if (this.#following !== following || this.#disposed) return;
    this.#following = undefined;
    if (reason === 'signed-out') return;
    if (reason === 'not-found') void this.#reloadList();
    this.#cancelRetry?.();
    this.#cancelRetry = this.schedule(() => {
      this.#cancelRetry = undefined;
      void this.follow();
    }, this.#retryMs);
    this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MAX_MS);
  }

  /** Takes the selection from a fresh list: forgets a server that is gone, or selects the only running one. */
  async #reloadList(): Promise<void> {
    try {
      const requestedAt = this.listRequested();
      const apiUrl = this.connection.apiUrl;
      const servers = await (await this.connection.api()).listServers();
      // A list from the address used before a settings change says nothing about the new one.
      if (!this.#disposed && apiUrl === this.connection.apiUrl) await this.#apply(servers, requestedAt);
    } catch {
      // Unreachable or signed out: the servers view says so, and the retry tries again.
    }
  }

  #unfollow(): void {
    this.#cancelRetry?.();
    this.#cancelRetry = undefined;
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

  /** The selected server; else the only running one; else the one the user picks. */
  async require(): Promise<ServerInfo | undefined> {
    if (!this.selected) await this.#reloadList();
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
