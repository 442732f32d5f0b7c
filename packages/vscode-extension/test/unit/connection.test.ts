import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createClientApi } from '../../src/api/client-api.js';
import { Connection } from '../../src/vscode/connection.js';
import { ADMIN_TOKEN, startApiServer } from '../support/api-server.js';

/** SecretStorage kept in memory, as VS Code's behaves for one window. */
class MemorySecrets implements vscode.SecretStorage {
  readonly values = new Map<string, string>();
  readonly #changed = new vscode.EventEmitter<vscode.SecretStorageChangeEvent>();
  readonly onDidChange = this.#changed.event;
  async get(key: string) {
    return this.values.get(key);
  }
  async store(key: string, value: string) {
    this.values.set(key, value);
    this.#changed.fire({ key });
  }
  async delete(key: string) {
    this.values.delete(key);
    this.#changed.fire({ key });
  }
  async keys() {
    return [...this.values.keys()];
  }
}

describe('Connection', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let apiUrl: string;
  const update = vi.fn();

  beforeAll(async () => {
    server = await startApiServer();
  });
  afterAll(() => server?.stop());

  beforeEach(() => {
    vi.clearAllMocks();
    apiUrl = server.url;
    vi.mocked(vscode.workspace.getConfiguration).mockImplementation(() => ({ get: () => apiUrl, update }) as never);
  });

  const signIn = async (token: string) => {
    const secrets = new MemorySecrets();
    vi.mocked(vscode.window.showInputBox).mockResolvedValue(token);
    const connection = new Connection(secrets, createClientApi);
    return { ok: await connection.signIn(), secrets };
  };

  it('keeps a token the server accepts in SecretStorage, never in the settings', async () => {
    const { ok, secrets } = await signIn(ADMIN_TOKEN);
    expect(ok).toBe(true);
    expect([...secrets.values.values()]).toEqual([ADMIN_TOKEN]);
    expect(vi.mocked(vscode.window.showInformationMessage).mock.calls[0]![0]).toBe(`Comfy-Vast: signed in to ${server.url} as admin.`);
    expect(update).not.toHaveBeenCalled();
    expect(vi.mocked(vscode.window.showInputBox).mock.calls[0]![0]).toMatchObject({ password: true });
  });

  it('refuses a wrong token with a message that offers to sign in again', async () => {
    const { ok, secrets } = await signIn('not-a-token');
    expect(ok).toBe(false);
    expect(secrets.values.size).toBe(0);
    const [message, ...buttons] = vi.mocked(vscode.window.showErrorMessage).mock.calls[0]!;
    expect(message).toContain('refused the token');
    expect(message).not.toContain('not-a-token');
    expect(buttons).toEqual(['Sign In']);
  });

  it('says the server cannot be reached and offers the setting when nothing listens there', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    apiUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const { ok } = await signIn(ADMIN_TOKEN);
    expect(ok).toBe(false);
    const [message, ...buttons] = vi.mocked(vscode.window.showErrorMessage).mock.calls[0]!;
    expect(message).toContain(`Cannot reach the comfy-vast server at ${apiUrl}`);
    expect(buttons).toEqual(['Open Settings']);
  });
});
