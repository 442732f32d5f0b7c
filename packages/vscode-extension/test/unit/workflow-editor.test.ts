import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createTextDocument } from 'jest-mock-vscode';
import type { FromWebview, ToWebview } from '../../src/protocol/messages.js';
import { applyEdit } from '../../src/workflow/value-edit.js';
import type { Connection } from '../../src/vscode/connection.js';
import type { GenerationRunner, RunUpdate } from '../../src/vscode/generation-runner.js';
import type { ServerSelection } from '../../src/vscode/server-selection.js';
import type { GalleryEntry } from '../../src/generate/gallery.js';
import { DocumentQueue } from '../../src/vscode/document-queue.js';
import type { GalleryStore } from '../../src/vscode/gallery-store.js';
import { WorkflowEditorProvider } from '../../src/vscode/workflow-editor.js';
import { WorkflowInsight } from '../../src/vscode/workflow-insight.js';
import { applyEditLikeVsCode } from './fake-edits.js';
import { fixtureText } from './fixtures.js';

/** The editor with a webview panel that records what it is sent and lets the test play the page. */
/** A gallery entry of the fixture, as the runner keeps one. */
const ENTRY: GalleryEntry = {
  id: '2026-11-27T14:23:05.000Z#7',
  workflow: 'workflows/txt2img.comfy.json',
  time: '2026-11-27T14:23:05.000Z',
  server: { name: 'gpu-1', id: 1, apiUrl: 'http://127.0.0.1:5000' },
  generationId: 7,
  seed: 42,
  prompt: 'a red fox in snow',
  negativePrompt: 'blurry, low quality',
  parameters: { steps: 12, cfg: 6.5, sampler: 'dpmpp_2m', scheduler: 'normal', denoise: 1, width: 512, height: 512, batchSize: 1 },
  images: ['20261127-142305_gpu-1_7_1.png'],
  cost: 0.0012,
};

async function openEditor(text: string, latest?: RunUpdate) {
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
  const runner = {
    onDidUpdate: () => ({ dispose: () => undefined }),
    onDidChangeQueue: () => ({ dispose: () => undefined }),
    generate: vi.fn(),
    cancel: vi.fn(),
    latest: () => latest,
    queued: () => [{ id: 3, state: 'running', server: 'gpu-1', summary: 'seed 42 · a red fox' }],
  } as unknown as GenerationRunner;
  const gallery = {
    entries: async () => [ENTRY],
    image: (_document: vscode.Uri, name: string) => vscode.Uri.file(`/ws/comfy-outputs/txt2img/${name}`),
    onDidChange: () => ({ dispose: () => undefined }),
  } as unknown as GalleryStore;
  const provider = new WorkflowEditorProvider(vscode.Uri.file('/ext'), new WorkflowInsight(connection, selection), runner, selection, new DocumentQueue(), gallery, () => 0.5);
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
    await vi.waitFor(() => expect(posted.map((m) => m.type)).toEqual(['workflow', 'models', 'queue', 'gallery']));
    expect(posted.find((m) => m.type === 'queue')).toEqual({ type: 'queue', runs: [{ id: 3, state: 'running', server: 'gpu-1', summary: 'seed 42 · a red fox' }] });
    expect(posted.find((m) => m.type === 'gallery')).toMatchObject({
      entries: [{ id: ENTRY.id, seed: 42, server: 'gpu-1', cost: 0.0012, images: [{ src: 'https://resource.test/ws/comfy-outputs/txt2img/20261127-142305_gpu-1_7_1.png', label: '20261127-142305_gpu-1_7_1.png' }] }],
    });
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

  it('writes the graph editor’s changes as one undoable edit of just their values', async () => {
    const text = fixtureText('txt2img.comfy.json');
    const { document, send } = await openEditor(text);
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(document));
    send({ type: 'editGraph', changes: [{ kind: 'widget', nodeId: '5', index: 0, value: 768 }, { kind: 'mode', nodeId: '9', value: 2 }] });
    await vi.waitFor(() => expect(document.version).toBe(2));
    expect(vscode.workspace.applyEdit).toHaveBeenCalledTimes(1);
    const after = JSON.parse(document.getText()) as { nodes: { id: number; mode: number; widgets_values: unknown[] }[] };
    expect(after.nodes.find((n) => n.id === 5)!.widgets_values).toEqual([768, 512, 1]);
    expect(after.nodes.find((n) => n.id === 9)!.mode).toBe(2);
    expect(document.getText().length).toBe(text.length);
  });

  it('refuses a graph value outside the node definition, says why and shows the file again', async () => {
    const { send, posted } = await openEditor(fixtureText('txt2img.comfy.json'));
    send({ type: 'editGraph', changes: [{ kind: 'widget', nodeId: '3', index: 2, value: 0 }] });
    await vi.waitFor(() => expect(vscode.window.showErrorMessage).toHaveBeenCalledWith('Comfy-Vast: steps must be at least 1. The graph shows the file again.'));
    expect(vscode.workspace.applyEdit).not.toHaveBeenCalled();
    await vi.waitFor(() => expect(posted.map((m) => m.type)).toContain('workflow'));
  });

  it('restores a gallery entry’s values into the file as one edit of just those values', async () => {
    const text = fixtureText('txt2img.comfy.json');
    const { document, send } = await openEditor(text);
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(document));
    send({ type: 'restore', entryId: ENTRY.id });
    await vi.waitFor(() => expect(document.version).toBe(2));
    expect(vscode.workspace.applyEdit).toHaveBeenCalledTimes(1);
    const after = JSON.parse(document.getText()) as { nodes: { id: number; widgets_values: unknown[] }[] };
    const node = (id: number) => after.nodes.find((n) => n.id === id)!.widgets_values;
    expect(node(3)).toEqual([42, 'randomize', 12, 6.5, 'dpmpp_2m', 'normal', 1]);
    expect(node(6)).toEqual(['a red fox in snow']);
    expect(node(7)).toEqual(['blurry, low quality']);
    expect(document.getText().split('\n').length).toBe(text.split('\n').length);
  });

  it('opens an entry’s image, reveals it in the Explorer, cancels one run of the queue and downloads a missing model', async () => {
    const { send, runner } = await openEditor(fixtureText('txt2img.comfy.json'));
    send({ type: 'openImage', entryId: ENTRY.id, index: 0 });
    send({ type: 'revealImage', entryId: ENTRY.id, index: 0 });
    send({ type: 'openImage', entryId: ENTRY.id, index: 5 });
    send({ type: 'cancel', runId: 3 });
    send({ type: 'downloadModel', name: 'dreamshaper_8.safetensors' });
    await vi.waitFor(() => expect(runner.cancel).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(vscode.commands.executeCommand).toHaveBeenCalledTimes(3));
    const image = vscode.Uri.file('/ws/comfy-outputs/txt2img/20261127-142305_gpu-1_7_1.png');
    expect(vi.mocked(vscode.commands.executeCommand).mock.calls.map((call) => call.map(String))).toEqual([
      ['vscode.open', String(image)],
      ['revealInExplorer', String(image)],
      ['comfyVast.downloadModel', 'file:///ws/workflows/txt2img.comfy.json', 'dreamshaper_8.safetensors'],
    ]);
    expect(vi.mocked(runner.cancel).mock.calls[0]![1]).toBe(3);
  });

  it('drops messages that do not validate and hands Generate to the runner', async () => {
    const { send, runner } = await openEditor(fixtureText('txt2img.comfy.json'));
    send({ type: 'setParameter', name: 'ckpt_name', value: 'evil.safetensors' } as Record<string, unknown>);
    send({ type: 'setParameter', name: 'steps', value: { $gt: 1 } } as Record<string, unknown>);
    send({ type: 'generate' });
    await vi.waitFor(() => expect(runner.generate).toHaveBeenCalledTimes(1));
    expect(vscode.workspace.applyEdit).not.toHaveBeenCalled();
  });

  /** The workflow messages posted so far, as the form's values by name. */
  const formValues = (posted: ToWebview[]) =>
    posted.flatMap((m) => (m.type === 'workflow' ? [Object.fromEntries(m.parameters.map((p) => [p.name, p.value]))] : []));

  it('handles messages in order: Generate waits for the edit typed before it', async () => {
    const { document, send, runner } = await openEditor(fixtureText('txt2img.comfy.json'));
    let release: () => void = () => undefined;
    const landed = new Promise<void>((resolve) => (release = resolve));
    const apply = applyEditLikeVsCode(document);
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(async (edit) => (await landed, apply(edit)));
    const promptsAtGenerate: string[] = [];
    vi.mocked(runner.generate).mockImplementation(async (d) => (promptsAtGenerate.push(JSON.parse(d.getText()).nodes.find((n: { id: number }) => n.id === 6).widgets_values[0]), []));
    send({ type: 'setParameter', name: 'prompt', value: 'a red fox' });
    send({ type: 'generate' });
    await vi.waitFor(() => expect(vscode.workspace.applyEdit).toHaveBeenCalledTimes(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(runner.generate).not.toHaveBeenCalled();
    release();
    await vi.waitFor(() => expect(promptsAtGenerate).toEqual(['a red fox']));
  });

  it('writes a value a PrimitiveNode gives two nodes once, where the primitive holds it', async () => {
    const text = fixtureText('shared-steps.comfy.json');
    const { document, send } = await openEditor(text);
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(document));
    send({ type: 'setParameter', name: 'steps', value: 30 });
    await vi.waitFor(() => expect(vscode.workspace.applyEdit).toHaveBeenCalledTimes(1));
    await vi.waitFor(() => expect(document.version).toBe(2));
    const nodes = JSON.parse(document.getText()).nodes as { id: number; widgets_values: unknown[] }[];
    expect(nodes.find((n) => n.id === 12)!.widgets_values).toEqual([30, 'fixed']);
    expect(document.getText().length).toBe(text.length);
    expect(vscode.window.showErrorMessage).not.toHaveBeenCalled();
  });

  it('reports an edit VS Code refuses and shows the file’s value in the form again', async () => {
    const { send, posted } = await openEditor(fixtureText('txt2img.comfy.json'));
    vi.mocked(vscode.workspace.applyEdit).mockResolvedValue(false);
    send({ type: 'setParameter', name: 'steps', value: 30 });
    await vi.waitFor(() => expect(formValues(posted)).toHaveLength(1));
    expect(formValues(posted)[0]).toMatchObject({ steps: 20 });
    expect(vi.mocked(vscode.window.showErrorMessage).mock.calls[0]![0]).toMatch(/Steps could not be written into the file/);
  });

  it('refuses a value outside the node definition’s limits, which the form carries', async () => {
    const { send, posted } = await openEditor(fixtureText('txt2img.comfy.json'));
    send({ type: 'ready' });
    await vi.waitFor(() => expect(formValues(posted)).toHaveLength(1));
    const workflow = posted.find((m) => m.type === 'workflow')!;
    expect(workflow.type === 'workflow' && workflow.parameters.find((p) => p.name === 'steps')).toMatchObject({ min: 1, max: 10000 });
    send({ type: 'setParameter', name: 'steps', value: -5 });
    send({ type: 'setParameter', name: 'denoise', value: 1.5 });
    await vi.waitFor(() => expect(formValues(posted)).toHaveLength(3));
    expect(vscode.workspace.applyEdit).not.toHaveBeenCalled();
    expect(vi.mocked(vscode.window.showErrorMessage).mock.calls.map((c) => c[0])).toEqual([
      'Comfy-Vast: Steps must be at least 1.',
      'Comfy-Vast: Denoise must be at most 1.',
    ]);
  });

  it('randomizes the seed within its limits', async () => {
    const { document, send } = await openEditor(fixtureText('txt2img.comfy.json'));
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(document));
    send({ type: 'randomizeSeed' });
    await vi.waitFor(() => expect(document.version).toBe(2));
    expect(JSON.parse(document.getText()).nodes.find((n: { id: number }) => n.id === 3).widgets_values[0]).toBe(2 ** 49);
  });

  it('shows the last run again to a page that reloads (a tab switched back to)', async () => {
    const image = vscode.Uri.file('/ws/comfy-outputs/txt2img/x.png');
    const { send, posted } = await openEditor(fixtureText('txt2img.comfy.json'), { document: vscode.Uri.file('/ws/workflows/txt2img.comfy.json'), kind: 'result', images: [image] });
    send({ type: 'ready' });
    await vi.waitFor(() => expect(posted.map((m) => m.type)).toEqual(['workflow', 'models', 'result', 'queue', 'gallery']));
    expect(posted[2]).toMatchObject({ type: 'result', images: [{ src: 'https://resource.test/ws/comfy-outputs/txt2img/x.png' }] });
  });

  it('opens the text at a problem’s characters', async () => {
    const { document, send } = await openEditor(fixtureText('txt2img.comfy.json'));
    const show = vi.spyOn(vscode.window, 'showTextDocument').mockResolvedValue({} as vscode.TextEditor);
    send({ type: 'openText', span: { offset: 10, length: 5 } });
    await vi.waitFor(() => expect(show).toHaveBeenCalledTimes(1));
    const [shown, options] = show.mock.calls[0]! as unknown as [vscode.TextDocument, vscode.TextDocumentShowOptions];
    expect(shown).toBe(document);
    expect([document.offsetAt(options.selection!.start), document.offsetAt(options.selection!.end)]).toEqual([10, 15]);
  });
});
