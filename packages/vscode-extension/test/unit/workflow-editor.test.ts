import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createTextDocument } from 'jest-mock-vscode';
import type { FromWebview, ToWebview } from '../../src/protocol/messages.js';
import { applyEdit } from '../../src/workflow/value-edit.js';
import type { Connection } from '../../src/vscode/connection.js';
import type { GenerationRunner } from '../../src/vscode/generation-runner.js';
import type { ServerSelection } from '../../src/vscode/server-selection.js';
import { WorkflowEditorProvider } from '../../src/vscode/workflow-editor.js';
import { WorkflowInsight } from '../../src/vscode/workflow-insight.js';
import { fixtureText } from './fixtures.js';

/** The editor with a webview panel that records what it is sent and lets the test play the page. */
async function openEditor(text: string) {
  const uri = vscode.Uri.file('/ws/workflows/txt2img.comfy.json');
  const document = createTextDocument(uri, text, 'json');
  const posted: ToWebview[] = [];
  let receive: (message: unknown) => void = () => undefined;
  const webview = {
    options: {},
    html: '',
    cspSource: 'https://resource.test',
    asWebviewUri: (u: vscode.Uri) => vscode.Uri.parse(`https://resource.test${u.path}`),
    postMessage: async (m: ToWebview) => void posted.push(m),
    onDidReceiveMessage: (listener: (m: unknown) => void) => ((receive = listener), { dispose: () => undefined }),
  };
  const panel = { webview, onDidDispose: vi.fn() } as unknown as vscode.WebviewPanel;
  const selection = { selected: undefined, onDidChange: () => ({ dispose: () => undefined }) } as unknown as ServerSelection;
  const connection = { isSignedIn: async () => false } as unknown as Connection;
  const runner = { onDidUpdate: () => ({ dispose: () => undefined }), generate: vi.fn(), cancel: vi.fn() } as unknown as GenerationRunner;
  const provider = new WorkflowEditorProvider(vscode.Uri.file('/ext'), new WorkflowInsight(connection, selection), runner, selection);
  await provider.resolveCustomTextEditor(document, panel);
  // Invalid messages are dropped at once; valid ones are handled asynchronously (the tests wait with vi.waitFor).
  const send = (message: FromWebview | Record<string, unknown>) => receive(message);
  return { document, webview, posted, send, runner };
}

describe('WorkflowEditorProvider', () => {
  beforeEach(() => {
    vi.clearAllMocks();
    vi.mocked(vscode.workspace.onDidChangeTextDocument).mockReturnValue({ dispose: () => undefined });
    vi.mocked(vscode.workspace.applyEdit).mockResolvedValue(true);
  });

  it('serves a page with a nonce-only script policy and resources from the extension', async () => {
    const { webview } = await openEditor(fixtureText('txt2img.comfy.json'));
    const nonce = /script-src 'nonce-([^']+)'/.exec(webview.html)![1]!;
    expect(nonce.length).toBeGreaterThanOrEqual(20);
    expect(webview.html).toContain(`<script nonce="${nonce}" src="https://resource.test/ext/dist/webview.js">`);
    expect(webview.html).toContain("img-src https://resource.test data:;");
    expect(webview.options).toMatchObject({ enableScripts: true });
  });

  it('answers "ready" with the workflow, its form and the models found offline', async () => {
    const { posted, send } = await openEditor(fixtureText('txt2img.comfy.json'));
    send({ type: 'ready' });
    await vi.waitFor(() => expect(posted.map((m) => m.type)).toEqual(['workflow', 'models']));
    const workflow = posted.find((m) => m.type === 'workflow');
    expect(workflow).toMatchObject({ name: 'txt2img', format: 'ui', problems: [] });
    expect(posted.find((m) => m.type === 'models')).toMatchObject({
      models: [{ name: 'v1-5-pruned-emaonly.safetensors', folder: 'checkpoints', state: 'unchecked' }],
      note: 'Select a server to check node types and models.',
    });
  });

  it('turns a form edit into one WorkspaceEdit that replaces just the value', async () => {
    const text = fixtureText('txt2img.comfy.json');
    const { document, send } = await openEditor(text);
    send({ type: 'setParameter', name: 'cfg', value: 6.5 });
    await vi.waitFor(() => expect(vscode.workspace.applyEdit).toHaveBeenCalledTimes(1));
    const edit = vi.mocked(vscode.workspace.applyEdit).mock.calls[0]![0];
    const entries = edit.entries();
    expect(entries).toHaveLength(1);
    const [uri, [change]] = entries[0]!;
    expect(uri.toString()).toBe(document.uri.toString());
    const offset = document.offsetAt(change!.range.start);
    const after = applyEdit(text, { offset, length: document.offsetAt(change!.range.end) - offset, newText: change!.newText });
    expect(JSON.parse(after).nodes.find((n: { id: number }) => n.id === 3).widgets_values).toEqual([156680208700286, 'randomize', 20, 6.5, 'euler', 'normal', 1]);
    expect(after.split('\n').length).toBe(text.split('\n').length);
  });

  it('drops messages that do not validate and hands Generate to the runner', async () => {
    const { send, runner } = await openEditor(fixtureText('txt2img.comfy.json'));
    send({ type: 'setParameter', name: 'ckpt_name', value: 'evil.safetensors' });
    send({ type: 'setParameter', name: 'steps', value: { $gt: 1 } });
    send({ type: 'generate' });
    await vi.waitFor(() => expect(runner.generate).toHaveBeenCalledTimes(1));
    expect(vscode.workspace.applyEdit).not.toHaveBeenCalled();
  });
});
