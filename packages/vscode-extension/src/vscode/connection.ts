import * as vscode from 'vscode';
import { explainFailure } from '../api/error-messages.js';
import type { ComfyVastApi, ServerInfo } from '../api/port.js';

const TOKEN_KEY = 'comfyVast.token';

export type ApiFactory = (baseUrl: string, token: string) => ComfyVastApi;

/** A failure raised before any request: there is no token yet. */
export class NotSignedIn extends Error {
  readonly code = 'NOT_SIGNED_IN';
  constructor() {
    super('Not signed in');
  }
}

/**
 * The link to the comfy-vast API: its address from the settings, the token from SecretStorage (never from
 * settings, never logged), and one place that turns failures into actionable messages.
 */
export class Connection implements vscode.Disposable {
  readonly #changed = new vscode.EventEmitter<void>();
  /** Fires after sign-in, sign-out or a change of `comfyVast.apiUrl`. */
  readonly onDidChange = this.#changed.event;
  readonly #subscriptions: vscode.Disposable[];

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly factory: ApiFactory,
    /** Failures are written here (message and code only: a token never is). */
    private readonly log?: vscode.LogOutputChannel,
  ) {
    this.#subscriptions = [
      this.#changed,
      vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('comfyVast.apiUrl') && this.#changed.fire()),
      secrets.onDidChange((e) => e.key === TOKEN_KEY && this.#changed.fire()),
    ];
  }

  get apiUrl(): string {
    return vscode.workspace.getConfiguration('comfyVast').get<string>('apiUrl', 'http://127.0.0.1:5000');
  }

  async isSignedIn(): Promise<boolean> {
    return Boolean(await this.secrets.get(TOKEN_KEY));
  }

  /** The API with the stored token; throws NotSignedIn without one. */
  async api(): Promise<ComfyVastApi> {
    const token = await this.secrets.get(TOKEN_KEY);
    if (!token) throw new NotSignedIn();
    return this.factory(this.apiUrl, token);
  }

  /** Asks for a token, checks it against the server and keeps it only if the server accepts it. */
  async signIn(): Promise<boolean> {
    const token = await vscode.window.showInputBox({
      title: 'Comfy-Vast: Sign In',
      prompt: `API token for ${this.apiUrl} (create one with "comfy-vast token create")`,
      password: true,
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() ? undefined : 'Enter a token'),
    });
    if (!token) return false;
    try {
      this.log?.info(`Checking the token with ${this.apiUrl}`);
      const user = await this.factory(this.apiUrl, token.trim()).whoAmI();
      await this.secrets.store(TOKEN_KEY, token.trim());
      this.log?.info(`Signed in to ${this.apiUrl} as ${user}`);
      void vscode.window.showInformationMessage(`Comfy-Vast: signed in to ${this.apiUrl} as ${user}.`);
      return true;
    } catch (error) {
      await this.report(error);
      return false;
    }
  }

  async signOut(): Promise<void> {
    await this.secrets.delete(TOKEN_KEY);
    void vscode.window.showInformationMessage('Comfy-Vast: signed out.');
  }

  /**
   * Shows a failure as an error message whose button does the suggested fix; with the server it was about, a
   * stopped server gets "Start it now".
   */
  async report(error: unknown, prefix = 'Comfy-Vast', server?: ServerInfo): Promise<void> {
    const explained = explainFailure(error, this.apiUrl);
    this.log?.error(`${prefix}: ${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message ?? String(error)}`);
    const buttons: Record<NonNullable<typeof explained.action>, [string, () => Thenable<unknown>]> = {
      signIn: ['Sign In', () => vscode.commands.executeCommand('comfyVast.signIn')],
      openSettings: ['Open Settings', () => vscode.commands.executeCommand('workbench.action.openSettings', 'comfyVast.apiUrl')],
      selectServer: ['Select Server', () => vscode.commands.executeCommand('comfyVast.selectServer')],
      startServer: server ? ['Start it now', () => this.start(server)] : ['Show Servers', () => vscode.commands.executeCommand('comfyVast.servers.focus')],
    };
    const button = explained.action ? buttons[explained.action] : undefined;
    const choice = await vscode.window.showErrorMessage(`${prefix}: ${explained.message}`, ...(button ? [button[0]] : []));
    if (button && choice === button[0]) await button[1]();
  }

  private async start(server: ServerInfo): Promise<void> {
    try {
      await (await this.api()).startServer(server.id);
      void vscode.window.showInformationMessage(`Comfy-Vast: starting "${server.name}"; generate again once it runs (the status bar shows it).`);
    } catch (error) {
      await this.report(error);
    }
  }

  dispose(): void {
    for (const s of this.#subscriptions) s.dispose();
  }
}
