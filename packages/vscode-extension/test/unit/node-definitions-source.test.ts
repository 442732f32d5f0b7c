import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTextDocument } from 'jest-mock-vscode';
import * as vscode from 'vscode';
import { createClient } from '@comfy-vast/server/client';
import { createClientApi } from '../../src/api/client-api.js';
import type { ServerInfo } from '../../src/api/port.js';
import type { Connection } from '../../src/vscode/connection.js';
import { NodeDefinitionSource } from '../../src/vscode/node-definitions-source.js';
import type { ServerSelection } from '../../src/vscode/server-selection.js';
import { WorkflowInsight } from '../../src/vscode/workflow-insight.js';
import { CORE_OBJECT_INFO } from '../../src/workflow/core-adapter.js';
import { editorGraph } from '../../src/workflow/graph-model.js';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';
import { fixtureText } from './fixtures.js';

describe('the node definitions workflows are read with (real API server, simulated GPU provider)', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let gpu: ServerInfo;
  let checkpoints: string[];

  beforeAll(async () => {
    server = await startApiServer();
    const admin = createClient({ baseUrl: server.url, token: ADMIN_TOKEN });
    const id = await launchGpu(admin);
    gpu = (await createClientApi(server.url, ADMIN_TOKEN).listServers()).find((s) => s.id === id)!;
    checkpoints = (await admin.listModels({ params: { serverId: id } })).checkpoints!.map((m) => m.name);
  }, 120_000);
  afterAll(() => server?.stop());

  /** A connection to the test API and a selection of `selected`; `api` counts the clients made. */
  function world(selected: ServerInfo | undefined, signedIn = true) {
    const api = vi.fn(async () => createClientApi(server.url, ADMIN_TOKEN));
    const connection = { apiUrl: server.url, isSignedIn: async () => signedIn, api } as unknown as Connection;
    const selection = { selected } as unknown as ServerSelection;
    return { api, connection, selection };
  }

  it("takes the running server's object_info when signed in, asking once per server", async () => {
    const { api, connection, selection } = world(gpu);
    const source = new NodeDefinitionSource(connection, selection);
    const info = await source.current();
    expect(checkpoints.length).toBeGreaterThan(0);
    expect(info['CheckpointLoaderSimple']!.input.required!['ckpt_name']![0]).toEqual(checkpoints);
    expect(CORE_OBJECT_INFO['CheckpointLoaderSimple']!.input.required!['ckpt_name']![0]).toEqual([]);
    expect(await source.current()).toBe(info);
    expect(source.known()).toBe(info);
    expect(api).toHaveBeenCalledTimes(1);
  });

  it('takes the bundled definitions signed out, without a running server, and when the server cannot answer', async () => {
    const signedOut = world(gpu, false);
    expect(await new NodeDefinitionSource(signedOut.connection, signedOut.selection).current()).toBe(CORE_OBJECT_INFO);
    const stopped = world({ ...gpu, status: 'stopped' });
    expect(await new NodeDefinitionSource(stopped.connection, stopped.selection).current()).toBe(CORE_OBJECT_INFO);
    const none = world(undefined);
    expect(await new NodeDefinitionSource(none.connection, none.selection).current()).toBe(CORE_OBJECT_INFO);
    expect(signedOut.api).not.toHaveBeenCalled();

    // Another id answers 404: the bundled definitions, and the failure is not kept.
    const missing = world({ ...gpu, id: 99_999 });
    const source = new NodeDefinitionSource(missing.connection, missing.selection);
    expect(await source.current()).toBe(CORE_OBJECT_INFO);
    expect(await source.current()).toBe(CORE_OBJECT_INFO);
    expect(missing.api).toHaveBeenCalledTimes(2);
  });

  it("draws the graph editor's widgets from the server's definitions", async () => {
    const { connection, selection } = world(gpu);
    const document = createTextDocument(vscode.Uri.file('/ws/txt2img.comfy.json'), fixtureText('txt2img.comfy.json'), 'json');
    const inspection = (await new WorkflowInsight(connection, selection).inspect(document))!;
    const { definitions } = editorGraph(inspection.json, inspection.doc, inspection.objectInfo);
    expect(definitions['CheckpointLoaderSimple']!.widgets).toEqual([{ name: 'ckpt_name', kind: 'combo', options: checkpoints }]);
  });
});
