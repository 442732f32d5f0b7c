import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createTextDocument } from 'jest-mock-vscode';
import { createClient } from '@comfy-vast/server/client';
import { createClientApi } from '../../src/api/client-api.js';
import type { ServerInfo } from '../../src/api/port.js';
import type { Connection } from '../../src/vscode/connection.js';
import { toDiagnostic } from '../../src/vscode/diagnostics.js';
import { ModelDownloadActions, downloadModel } from '../../src/vscode/model-download.js';
import type { ServerSelection } from '../../src/vscode/server-selection.js';
import { WorkflowInsight } from '../../src/vscode/workflow-insight.js';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';
import { fixtureText } from './fixtures.js';

describe('downloading a missing model from its diagnostic, over the real API server', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let gpu: ServerInfo;
  let connection: Connection;
  let selection: ServerSelection;

  beforeAll(async () => {
    server = await startApiServer();
    const id = await launchGpu(createClient({ baseUrl: server.url, token: ADMIN_TOKEN }));
    gpu = { id, name: 'gpu-1', status: 'running' };
    const api = createClientApi(server.url, ADMIN_TOKEN);
    connection = { isSignedIn: async () => true, api: async () => api, apiUrl: server.url, report: vi.fn() } as unknown as Connection;
    selection = { selected: gpu } as unknown as ServerSelection;
  }, 120_000);
  afterAll(() => server?.stop());

  const reports: { message?: string; increment?: number }[] = [];
  beforeEach(() => {
    vi.clearAllMocks();
    reports.length = 0;
    vi.mocked(vscode.window.withProgress).mockImplementation(async (_o, task) =>
      task({ report: (r) => void reports.push(r) }, { isCancellationRequested: false, onCancellationRequested: () => ({ dispose: () => undefined }) } as never),
    );
  });

  it('offers "Download to <server>" on the missing model, downloads it with progress, and the problem goes', async () => {
    const text = fixtureText('txt2img.comfy.json').replace('v1-5-pruned-emaonly.safetensors', 'dreamshaper_8.safetensors');
    const document = createTextDocument(vscode.Uri.file('/ws/workflows/sdxl.comfy.json'), text, 'json');
    const insight = new WorkflowInsight(connection, selection);
    const missing = (await insight.inspect(document))!.problems.filter((p) => p.code === 'missing-model');
    expect(missing).toHaveLength(1);
    const diagnostic = toDiagnostic(document, missing[0]!);
    const [action] = new ModelDownloadActions(selection).provideCodeActions(document, diagnostic.range, { diagnostics: [diagnostic], triggerKind: 1, only: undefined });
    expect(action!.title).toBe('Download dreamshaper_8.safetensors to gpu-1');
    expect(action!.command!.arguments).toEqual([document.uri, 'dreamshaper_8.safetensors']);

    // The analysis knows no link for this one: the user gives it.
    vi.mocked(vscode.window.showInputBox).mockResolvedValue('https://huggingface.co/Lykon/dreamshaper-8/resolve/main/dreamshaper_8.safetensors');
    const done = await downloadModel(connection, selection, insight, document, action!.command!.arguments![1] as string);
    expect(connection.report).not.toHaveBeenCalled();
    expect(vi.mocked(vscode.window.showInputBox).mock.calls[0]![0]!.prompt).toContain('No download link is known for dreamshaper_8.safetensors');
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
    expect(reports.reduce((sum, r) => sum + (r.increment ?? 0), 0)).toBe(100);
    expect(vscode.window.showInformationMessage).toHaveBeenCalledWith('Comfy-Vast: dreamshaper_8.safetensors is on gpu-1 (models/checkpoints).');
    expect((await insight.inspect(document))!.problems.filter((p) => p.code === 'missing-model')).toEqual([]);
  }, 120_000);

  it('offers nothing without a selected server', () => {
    const document = createTextDocument(vscode.Uri.file('/ws/a.json'), '"x.safetensors"', 'json');
    const diagnostic = new vscode.Diagnostic(new vscode.Range(0, 0, 0, 15), 'missing', vscode.DiagnosticSeverity.Error);
    diagnostic.source = 'comfy-vast';
    diagnostic.code = 'missing-model';
    expect(new ModelDownloadActions({ selected: undefined } as unknown as ServerSelection).provideCodeActions(document, diagnostic.range, { diagnostics: [diagnostic], triggerKind: 1, only: undefined })).toEqual([]);
  });
});
