import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createTextDocument } from 'jest-mock-vscode';
import { ManualClock } from '@comfy-vast/core';
import { readPngText } from '@comfy-vast/testkit';
import { createClient } from '@comfy-vast/server/client';
import { createClientApi } from '../../src/api/client-api.js';
import type { ServerInfo } from '../../src/api/port.js';
import { timeStamp } from '../../src/generate/output-paths.js';
import type { Connection } from '../../src/vscode/connection.js';
import { DocumentQueue } from '../../src/vscode/document-queue.js';
import { GalleryStore } from '../../src/vscode/gallery-store.js';
import { GenerationRunner, type RunUpdate } from '../../src/vscode/generation-runner.js';
import type { ServerSelection } from '../../src/vscode/server-selection.js';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';
import { applyEditLikeVsCode } from './fake-edits.js';
import { fixtureText } from './fixtures.js';

/** These runs go through a real API server: its answers take longer than waitFor's default second on a loaded machine. */
const SERVER_WAIT = { timeout: 15_000 };

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
    vi.mocked(vscode.workspace.fs.stat).mockImplementation(async (uri) => (await import('node:fs/promises')).stat(uri.fsPath) as never);
    vi.mocked(vscode.workspace.fs.readFile).mockImplementation(async (uri) => (await import('node:fs/promises')).readFile(uri.fsPath));
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

  const clock = new ManualClock(new Date('2026-11-27T14:23:05Z'));
  let queue: DocumentQueue;
  let gallery: GalleryStore;
  const runner = (options: { target?: ServerInfo; random?: () => number } = {}) => {
    queue = new DocumentQueue();
    gallery = new GalleryStore();
    return new GenerationRunner(connection, { require: async () => options.target ?? gpu } as unknown as ServerSelection, { queue, gallery, clock, random: options.random ?? (() => 0) });
  };
  // A fresh seed each time: ComfyUI serves an identical prompt from its cache without running it. The fixture
  // randomizes its seed after each generation; "fixed" keeps the seed as written.
  let seed = 1000;
  const document = (control = 'fixed') =>
    createTextDocument(
      vscode.Uri.file(join(workspace, 'workflows/txt2img.comfy.json')),
      fixtureText('txt2img.comfy.json').replace('156680208700286,\n        "randomize"', `${seed++},\n        "${control}"`),
      'json',
    );
  const latestGeneration = async () => (await createClientApi(server.url, ADMIN_TOKEN).listGenerations(gpu.id)).reduce((a, b) => (b.id > a.id ? b : a));

  it('saves the images under comfy-outputs/<workflow>/ and reports percent, current node and the result', async () => {
    const run = runner();
    const updates: RunUpdate[] = [];
    run.onDidUpdate((u) => updates.push(u));
    const images = await run.generate(document());
    expect(images.map((u) => u.fsPath.replace(`${workspace}/`, ''))).toEqual([expect.stringMatching(/^comfy-outputs\/txt2img\/20261127-142305_gpu-1_\d+_1\.png$/)]);
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
    for (let i = 0; (await latestGeneration()).status === 'executing' && i < 50; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await latestGeneration()).status).toBe('cancelled');
    expect((await readdir(join(workspace, 'comfy-outputs/txt2img'))).length).toBe(before);
  });

  it('ends a failed run at once, without waiting for its error message to be closed', async () => {
    // A message the user never closes.
    vi.mocked(connection.report).mockReturnValue(new Promise(() => undefined));
    const run = runner({ target: { id: 9999, name: 'gone', status: 'running' } });
    const doc = document();
    expect(await run.generate(doc)).toEqual([]);
    expect(connection.report).toHaveBeenCalledTimes(1);
    expect(run.isRunning(doc.uri)).toBe(false);
    expect(await run.generate(doc)).toEqual([]);
    expect(vscode.window.showInformationMessage).not.toHaveBeenCalledWith('Comfy-Vast: this workflow is already generating.');
    expect(connection.report).toHaveBeenCalledTimes(2);
  });

  it('never saves over an image already there (ids restart on another API server)', async () => {
    const folder = join(workspace, 'comfy-outputs/txt2img');
    await mkdir(folder, { recursive: true });
    // What another API server's generations left, under every id this one may give.
    const taken = Array.from({ length: 30 }, (_, id) => join(folder, `${timeStamp(clock.now())}_gpu-1_${id}_1.png`));
    for (const file of taken) await writeFile(file, 'another server’s image');
    const [image] = await runner().generate(document());
    expect(image!.fsPath).toMatch(/20261127-142305_gpu-1_\d+_1-2\.png$/);
    expect((await readFile(image!.fsPath)).subarray(1, 4).toString()).toBe('PNG');
    for (const file of taken) expect(await readFile(file, 'utf8')).toBe('another server’s image');
  });

  it('randomizes the seed before queueing when the workflow says so, and writes it into the file', async () => {
    const doc = document('randomize');
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(doc));
    const before = doc.getText();
    const [image] = await runner({ random: () => 0.25 }).generate(doc);
    const sampler = (text: string) => JSON.parse(text).nodes.find((n: { id: number }) => n.id === 3).widgets_values;
    expect(sampler(doc.getText()).slice(0, 2)).toEqual([2 ** 48, 'randomize']);
    // Only the seed's characters changed.
    expect(doc.getText().replace(String(2 ** 48), String(sampler(before)[0]))).toBe(before);
    const prompt = JSON.parse(readPngText(await readFile(image!.fsPath)).prompt!);
    expect(prompt['3'].inputs.seed).toBe(2 ** 48);
  });

  it('reads the file after the edits queued before the generation', async () => {
    const doc = document();
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(doc));
    const run = runner();
    let release: () => void = () => undefined;
    const typed = new Promise<void>((resolve) => (release = resolve));
    // The editor's form edit, still on its way when Generate is pressed.
    void queue.run(doc.uri, async () => {
      await typed;
      const edit = new vscode.WorkspaceEdit();
      const at = doc.getText().indexOf('a lighthouse');
      edit.replace(doc.uri, new vscode.Range(doc.positionAt(at), doc.positionAt(at + 'a lighthouse'.length)), 'a red fox');
      await vscode.workspace.applyEdit(edit);
    });
    const generated = run.generate(doc);
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    expect(await generated).toHaveLength(1);
    expect((await latestGeneration()).prompt).toBe('a red fox on a cliff at sunset, oil painting');
  });

  it('queues runs with their own values, runs them one after another and keeps each in the gallery', async () => {
    const doc = document('increment');
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(doc));
    const run = runner();
    const queues: string[][] = [];
    run.onDidChangeQueue(() => queues.push(run.queued(doc.uri).map((r) => r.state)));
    const firstSeed = JSON.parse(doc.getText()).nodes.find((n: { id: number }) => n.id === 3).widgets_values[0] as number;
    const runs = [run.generate(doc), run.generate(doc), run.generate(doc)];
    await vi.waitFor(() => expect(run.queued(doc.uri)).toHaveLength(3), SERVER_WAIT);
    expect(run.queued(doc.uri).map((r) => r.summary)).toEqual([1, 2, 3].map((n) => expect.stringContaining(`seed ${firstSeed + n}`)));
    const images = await Promise.all(runs);
    expect(images.every((i) => i.length === 1)).toBe(true);
    // Never two running at once.
    expect(queues.every((states) => states.filter((s) => s === 'running').length <= 1)).toBe(true);
    expect(run.queued(doc.uri)).toEqual([]);
    const entries = await gallery.entries(doc.uri);
    expect(entries.slice(0, 3).map((e) => e.seed)).toEqual([3, 2, 1].map((n) => firstSeed + n));
    expect(entries[0]).toMatchObject({ workflow: 'workflows/txt2img.comfy.json', server: { name: 'gpu-1', id: gpu.id, apiUrl: server.url }, prompt: 'a lighthouse on a cliff at sunset, oil painting', negativePrompt: 'blurry, low quality' });
    expect(entries[0]!.parameters).toMatchObject({ steps: 20, cfg: 8, sampler: 'euler' });
    expect(entries[0]!.images).toEqual([images[2]![0]!.path.split('/').pop()]);
    const file = JSON.parse(await readFile(join(workspace, 'comfy-outputs/txt2img/gallery.json'), 'utf8')) as { version: number; entries: unknown[] };
    expect(file.version).toBe(1);
  });

  it('cancels a queued run before it reaches the server, and leaves the others', async () => {
    const doc = document('increment');
    vi.mocked(vscode.workspace.applyEdit).mockImplementation(applyEditLikeVsCode(doc));
    const run = runner();
    const before = (await createClientApi(server.url, ADMIN_TOKEN).listGenerations(gpu.id)).length;
    // Cancelled the moment it is queued: a simulated run can end within a few milliseconds, too soon to poll for.
    let cancelled = false;
    run.onDidChangeQueue(() => {
      const queued = run.queued(doc.uri);
      if (cancelled || queued.length < 2) return;
      cancelled = true;
      run.cancel(doc.uri, queued[1]!.id);
    });
    const first = run.generate(doc);
    const second = run.generate(doc);
    expect(await second).toEqual([]);
    expect(await first).toHaveLength(1);
    expect((await createClientApi(server.url, ADMIN_TOKEN).listGenerations(gpu.id)).length).toBe(before + 1);
  });

  it('offers "Start it now" when the chosen server is stopped, and starts it', async () => {
    const stopped: ServerInfo = { ...gpu, status: 'stopped' };
    const api = createClientApi(server.url, ADMIN_TOKEN);
    await api.stopServer(gpu.id);
    for (let i = 0; (await api.listServers()).find((s) => s.id === gpu.id)!.status !== 'stopped' && i < 100; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    const real = new (await import('../../src/vscode/connection.js')).Connection({ get: async () => ADMIN_TOKEN, onDidChange: () => ({ dispose: () => undefined }) } as never, createClientApi);
    vi.mocked(vscode.workspace.getConfiguration).mockReturnValue({ get: (k: string, d: unknown) => (k === 'apiUrl' ? server.url : d) } as never);
    vi.mocked(vscode.window.showErrorMessage).mockResolvedValue('Start it now' as never);
    const run = new GenerationRunner(real, { require: async () => stopped } as unknown as ServerSelection, { queue: new DocumentQueue(), gallery: new GalleryStore(), clock });
    expect(await run.generate(document())).toEqual([]);
    await vi.waitFor(() => expect(vscode.window.showInformationMessage).toHaveBeenCalledWith(expect.stringContaining('starting "gpu-1"')), SERVER_WAIT);
    expect(vscode.window.showErrorMessage).toHaveBeenCalledWith(expect.stringContaining('not running'), 'Start it now');
    for (let i = 0; (await api.listServers()).find((s) => s.id === gpu.id)!.status !== 'running' && i < 200; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await api.listServers()).find((s) => s.id === gpu.id)!.status).toBe('running');
  }, 60_000);
});
