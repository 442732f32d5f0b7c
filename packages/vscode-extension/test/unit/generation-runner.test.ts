import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createTextDocument } from 'jest-mock-vscode';
import { createClient } from '@comfy-vast/server/client';
import { createClientApi } from '../../src/api/client-api.js';
import type { ServerInfo } from '../../src/api/port.js';
import type { Connection } from '../../src/vscode/connection.js';
import { GenerationRunner, type RunUpdate } from '../../src/vscode/generation-runner.js';
import type { ServerSelection } from '../../src/vscode/server-selection.js';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';
import { fixtureText } from './fixtures.js';

describe('GenerationRunner over the real API server', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let gpu: ServerInfo;
  let workspace: string;
  let connection: Connection;

  beforeAll(async () => {
    server = await startApiServer();
    const admin = createClient({ baseUrl: server.url, token: ADMIN_TOKEN });
    const id = await launchGpu(admin);
    gpu = { id, name: 'gpu-1', status: 'running' };
    workspace = await mkdtemp(join(tmpdir(), 'comfy-vast-ws-'));
    connection = { api: async () => createClientApi(server.url, ADMIN_TOKEN), report: vi.fn(), apiUrl: server.url } as unknown as Connection;
  }, 120_000);
  afterAll(async () => {
    await server?.stop();
    await rm(workspace, { recursive: true, force: true });
  });

  let cancel: () => void;
  const reports: { message?: string; increment?: number }[] = [];
  beforeEach(() => {
    vi.clearAllMocks();
    reports.length = 0;
    const folder = { uri: vscode.Uri.file(workspace), name: 'ws', index: 0 };
    vi.mocked(vscode.workspace.getWorkspaceFolder).mockReturnValue(folder);
    vi.mocked(vscode.workspace.getConfiguration).mockReturnValue({ get: (_k: string, d: unknown) => d } as never);
    vi.mocked(vscode.workspace.asRelativePath).mockImplementation((p) => String(typeof p === 'string' ? p : p.path).replace(`${workspace}/`, ''));
    // The real file system behind workspace.fs.
    vi.mocked(vscode.workspace.fs.createDirectory).mockImplementation(async (uri) => void (await import('node:fs/promises')).mkdir(uri.fsPath, { recursive: true }));
    vi.mocked(vscode.workspace.fs.writeFile).mockImplementation(async (uri, bytes) => (await import('node:fs/promises')).writeFile(uri.fsPath, bytes));
    vi.mocked(vscode.window.withProgress).mockImplementation(async (_options, task) => {
      // The notification's Cancel button, as VS Code's token delivers it.
      const pressed = new vscode.EventEmitter<void>();
      const token = { isCancellationRequested: false, onCancellationRequested: pressed.event };
      cancel = () => {
        token.isCancellationRequested = true;
        pressed.fire();
      };
      return task({ report: (r) => void reports.push(r) }, token as vscode.CancellationToken);
    });
  });

  const runner = () => new GenerationRunner(connection, { require: async () => gpu } as unknown as ServerSelection);
  // A fresh seed each time: ComfyUI serves an identical prompt from its cache without running it.
  let seed = 1000;
  const document = () =>
    createTextDocument(vscode.Uri.file(join(workspace, 'workflows/txt2img.comfy.json')), fixtureText('txt2img.comfy.json').replace('156680208700286', String(seed++)), 'json');

  it('saves the images under comfy-outputs/<workflow>/ and reports percent, current node and the result', async () => {
    const run = runner();
    const updates: RunUpdate[] = [];
    run.onDidUpdate((u) => updates.push(u));
    const images = await run.generate(document());
    expect(images.map((u) => u.fsPath.replace(`${workspace}/`, ''))).toEqual([expect.stringMatching(/^comfy-outputs\/txt2img\/\d+_1\.png$/)]);
    expect((await readFile(images[0]!.fsPath)).subarray(1, 4).toString()).toBe('PNG');
    expect(reports.some((r) => /^\d+% · \w+/.test(r.message ?? ''))).toBe(true);
    expect(reports.reduce((sum, r) => sum + (r.increment ?? 0), 0)).toBeLessThanOrEqual(100);
    expect(updates.at(-1)).toMatchObject({ kind: 'result', images });
    expect(updates.some((u) => u.kind === 'progress' && u.progress.preview?.startsWith('data:image/'))).toBe(true);
    expect(vscode.window.showInformationMessage).toHaveBeenCalledWith('Comfy-Vast: saved 1 image(s) to comfy-outputs/txt2img.', 'Open Image');
  });

  it('cancels through the API when the notification’s Cancel is pressed', async () => {
    const run = runner();
    const updates: RunUpdate[] = [];
    run.onDidUpdate((u) => {
      updates.push(u);
      // Once ComfyUI runs it (an interrupt reaches a running prompt; the server answers "requested").
      if (u.kind === 'progress' && u.progress.status === 'executing' && u.progress.currentNode) cancel();
    });
    const before = (await readdir(join(workspace, 'comfy-outputs/txt2img'))).length;
    expect(await run.generate(document())).toEqual([]);
    expect(updates.at(-1)).toMatchObject({ kind: 'result', images: [], error: 'Cancelled' });
    const api = createClientApi(server.url, ADMIN_TOKEN);
    const latest = async () => (await api.listGenerations(gpu.id)).reduce((a, b) => (b.id > a.id ? b : a));
    for (let i = 0; (await latest()).status === 'executing' && i < 50; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await latest()).status).toBe('cancelled');
    expect((await readdir(join(workspace, 'comfy-outputs/txt2img'))).length).toBe(before);
  });
});
