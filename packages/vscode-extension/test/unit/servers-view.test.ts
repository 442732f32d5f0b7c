import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createClient } from '@comfy-vast/server/client';
import { createClientApi } from '../../src/api/client-api.js';
import { generateInput } from '../../src/generate/generate-input.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { ServersView, openWorkflowOf, serverAction } from '../../src/vscode/servers-view.js';
import { createServer, describeOffer } from '../../src/vscode/create-server.js';
import { GenerationLinks } from '../../src/vscode/generation-links.js';
import type { Connection } from '../../src/vscode/connection.js';
import type { ServerSelection } from '../../src/vscode/server-selection.js';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';
import { fixtureText } from './fixtures.js';

type Item = Parameters<ServersView['getTreeItem']>[0];

describe('the Servers view over the real API server', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let connection: Connection;
  let generationId: number;
  const written = new Map<string, Uint8Array>();
  const selection = { selected: undefined, listRequested: () => 0, refreshFrom: vi.fn() } as unknown as ServerSelection;

  beforeAll(async () => {
    server = await startApiServer();
    const admin = createClient({ baseUrl: server.url, token: ADMIN_TOKEN });
    const id = await launchGpu(admin);
    const api = createClientApi(server.url, ADMIN_TOKEN);
    const text = fixtureText('txt2img.comfy.json');
    ({ generationId } = await api.generate(id, generateInput(JSON.parse(text), readWorkflowDocument(text)!, 'txt2img')));
    await new Promise<void>((resolve) => void api.watch(generationId, (e) => e.type !== 'progress' && resolve()));
    connection = { isSignedIn: async () => true, api: async () => api, apiUrl: server.url, report: vi.fn() } as unknown as Connection;
  }, 120_000);
  afterAll(() => server?.stop());

  beforeEach(() => {
    vi.mocked(vscode.workspace.fs.stat).mockRejectedValue(new Error('not cached'));
    vi.mocked(vscode.workspace.fs.createDirectory).mockResolvedValue();
    vi.mocked(vscode.workspace.fs.writeFile).mockImplementation(async (uri, bytes) => void written.set(uri.path, bytes));
  });

  const view = () => new ServersView(connection, selection, vscode.Uri.file('/storage/thumbnails'));

  it('shows each server with status, GPU, price and cost, and a context value for its actions', async () => {
    const [item] = await view().getChildren();
    const tree = await view().getTreeItem(item!);
    expect(tree.label).toBe('gpu-1');
    expect(tree.description).toMatch(/^running · RTX 4090 · \$\d+\.\d+\/h · spent \$\d+\.\d\d$/);
    expect(tree.contextValue).toBe('server.running');
  });

  it('lists recent generations under a server with a thumbnail that opens the image', async () => {
    const servers = view();
    const [serverItem] = await servers.getChildren();
    const [generation] = await servers.getChildren(serverItem);
    const tree = await servers.getTreeItem(generation as Item);
    expect(tree.description).toBe('completed · 1 image(s)');
    expect((tree.iconPath as vscode.Uri).path).toMatch(/^\/storage\/thumbnails\/[0-9a-f]{16}\/\d+_\d+\.png$/);
    expect(Buffer.from(written.get((tree.iconPath as vscode.Uri).path)!.subarray(1, 4)).toString()).toBe('PNG');
    expect(tree.command).toMatchObject({ command: 'comfyVast.openImage', arguments: [tree.iconPath] });
  });

  it('caches thumbnails per API address: the same generation id elsewhere is another image', async () => {
    const icon = async (apiUrl: string) => {
      const servers = new ServersView({ ...connection, apiUrl } as Connection, selection, vscode.Uri.file('/storage/thumbnails'));
      const [serverItem] = await servers.getChildren();
      const [generation] = await servers.getChildren(serverItem);
      return ((await servers.getTreeItem(generation as Item)).iconPath as vscode.Uri).path;
    };
    const here = await icon(server.url);
    const elsewhere = await icon('http://other-api.test:5000');
    expect(here).not.toBe(elsewhere);
    expect(here.split('/').pop()).toBe(elsewhere.split('/').pop());
  });

  it('asks before deleting and does nothing when the user declines', async () => {
    const [item] = await view().getChildren();
    vi.mocked(vscode.window.showWarningMessage).mockResolvedValue(undefined);
    expect(await serverAction(connection, 'delete', item)).toBe(false);
    expect(vi.mocked(vscode.window.showWarningMessage).mock.calls[0]![0]).toContain('Delete the GPU server "gpu-1"?');
    expect((await view().getChildren()).length).toBe(1);
  });

  it('stops a server from the context menu', async () => {
    const [item] = await view().getChildren();
    expect(await serverAction(connection, 'stop', item)).toBe(true);
    const [after] = await view().getChildren();
    expect((await view().getTreeItem(after!)).description).toMatch(/^(stopping|stopped)/);
  });

  it('leads a generation started here back to its workflow file', async () => {
    const state = new Map<string, unknown>();
    const memento = { get: (key: string, fallback: unknown) => (state.has(key) ? state.get(key) : fallback), update: async (key: string, value: unknown) => void state.set(key, value), keys: () => [...state.keys()] } as unknown as vscode.Memento;
    const links = new GenerationLinks(memento);
    const workflow = vscode.Uri.file('/ws/workflows/txt2img.comfy.json');
    await links.remember(server.url, generationId, workflow);
    // The same id on another API server is another generation.
    expect(links.find('http://other-api.test:5000', generationId)).toBeUndefined();
    vi.mocked(vscode.workspace.asRelativePath).mockImplementation((p) => String(typeof p === 'string' ? p : p.path).replace('/ws/', ''));
    const servers = new ServersView(connection, selection, vscode.Uri.file('/storage/thumbnails'), links);
    const [serverItem] = await servers.getChildren();
    const [generation] = await servers.getChildren(serverItem);
    const tree = await servers.getTreeItem(generation as Item);
    expect(tree.description).toBe('completed · 1 image(s) · workflows/txt2img.comfy.json');
    expect(tree.contextValue).toBe('generation.linked');
    await openWorkflowOf(generation as Item);
    const [command, uri] = vi.mocked(vscode.commands.executeCommand).mock.calls.at(-1)!;
    expect([command, String(uri)]).toEqual(['vscode.open', workflow.toString()]);
  });

  it('creates a server from an offer: GPU, region, the offer’s price as the highest accepted, a name', async () => {
    const picks: unknown[] = [];
    vi.mocked(vscode.window.showQuickPick).mockImplementation(async (items) => {
      const list = (await items) as unknown as (string | { offer: unknown })[];
      picks.push(list);
      // The GPU, any region, then the cheapest offer.
      return (picks.length === 1 ? 'RTX 4090' : picks.length === 2 ? 'Any region' : list[0]) as never;
    });
    vi.mocked(vscode.window.showInputBox).mockResolvedValue('render-box');
    vi.mocked(vscode.window.withProgress).mockImplementation(async (_o, task) => task({ report: () => undefined }, {} as vscode.CancellationToken));
    const created = await createServer(connection);
    expect(created).toMatchObject({ name: 'render-box' });
    expect(connection.report).not.toHaveBeenCalled();
    const offers = picks[2] as { label: string; description: string; offer: { pricePerHour: string } }[];
    expect(offers.length).toBeGreaterThan(0);
    expect(offers[0]).toMatchObject(describeOffer(offers[0]!.offer as never));
    expect(offers[0]!.label).toMatch(/^\$\d+\.\d+\/h$/);
    const names = await Promise.all((await view().getChildren()).map(async (i) => (await view().getTreeItem(i)).label));
    expect(names).toContain('render-box');
  });
});
