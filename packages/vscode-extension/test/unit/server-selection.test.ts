import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as vscode from 'vscode';
import { createClient, type ApiClient } from '@comfy-vast/server/client';
import { createClientApi } from '../../src/api/client-api.js';
import type { ServerInfo } from '../../src/api/port.js';
import { NotSignedIn, type Connection } from '../../src/vscode/connection.js';
import { ServerSelection, type Schedule } from '../../src/vscode/server-selection.js';
import { ADMIN_TOKEN, launchGpu, startApiServer, waitForStatus } from '../support/api-server.js';

/** Workspace state kept in memory. */
class MemoryState implements vscode.Memento {
  readonly #values = new Map<string, unknown>();
  keys() {
    return [...this.#values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return (this.#values.has(key) ? this.#values.get(key) : fallback) as T | undefined;
  }
  async update(key: string, value: unknown) {
    if (value === undefined) this.#values.delete(key);
    else this.#values.set(key, value);
  }
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; !(await condition()); i++) {
    if (i > 300) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the selected server over the real API server', () => {
  let server: Awaited<ReturnType<typeof startApiServer>>;
  let admin: ApiClient;
  let gpu: ServerInfo;

  beforeAll(async () => {
    server = await startApiServer();
    admin = createClient({ baseUrl: server.url, token: ADMIN_TOKEN });
    await launchGpu(admin);
    gpu = (await createClientApi(server.url, ADMIN_TOKEN).listServers())[0]!;
  }, 120_000);
  afterAll(() => server?.stop());

  it('follows its status as it changes, in the status bar too', async () => {
    const connection = { api: async () => createClientApi(server.url, ADMIN_TOKEN) } as unknown as Connection;
    const selection = new ServerSelection(new MemoryState(), connection);
    const bar = lastStatusBarItem();
    const seen: string[] = [];
    selection.onDidChange((s) => s && seen.push(s.status));
    await selection.set({ ...gpu, status: 'stale' });
    await until(() => selection.selected?.status === 'running', 'the current status arrives');

    await admin.stopServer({ params: { id: gpu.id } });
    await until(() => selection.selected?.status === 'stopped', 'the stop arrives');
    expect(seen[0]).toBe('stale');
    expect(seen).toContain('running');
    expect(bar.text).toBe('$(server) gpu-1: stopped');

    selection.dispose();
    await admin.startServer({ params: { id: gpu.id } });
    await waitForStatus(admin, gpu.id, 'running');
    expect(selection.selected?.status).toBe('stopped');
  }, 120_000);

  it('keeps the live status over a list requested before it, and takes a newer list whole', async () => {
    const connection = { api: async () => createClientApi(server.url, ADMIN_TOKEN) } as unknown as Connection;
    const selection = new ServerSelection(new MemoryState(), connection);
    const requestedAt = selection.listRequested();
    await selection.set({ ...gpu, status: 'stale' });
    await until(() => selection.selected?.status === 'running', 'the status is followed');
    await selection.refreshFrom([{ ...gpu, name: 'renamed', status: 'starting' }], requestedAt);
    expect(selection.selected).toMatchObject({ name: 'renamed', status: 'running' });
    // No event since this request: the list is newer (a silent stream must not keep an old status).
    await selection.refreshFrom([{ ...gpu, name: 'renamed', status: 'stopped' }], selection.listRequested());
    expect(selection.selected?.status).toBe('stopped');
    selection.dispose();
  }, 60_000);

  it('does not follow anything when signed out, and follows once signed in', async () => {
    const secrets: { token?: string } = {};
    const connection = {
      api: async () => {
        if (!secrets.token) throw new NotSignedIn();
        return createClientApi(server.url, secrets.token);
      },
    } as unknown as Connection;
    const selection = new ServerSelection(new MemoryState(), connection);
    await selection.set({ ...gpu, status: 'stale' });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(selection.selected?.status).toBe('stale');
    secrets.token = ADMIN_TOKEN;
    await selection.restart();
    await until(() => selection.selected?.status === 'running', 'the status arrives after signing in');
    selection.dispose();
  }, 60_000);
});

describe('the selected server, with a counting API', () => {
  it('opens no event stream once disposed, and closes one that opens while disposing', async () => {
    let opened = 0;
    let stopped = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const api = {
      watchServer: async () => {
        opened++;
        await gate;
        return () => void stopped++;
      },
    };
    const connection = { api: async () => api } as unknown as Connection;
    const selection = new ServerSelection(new MemoryState(), connection);
    await selection.set({ id: 1, name: 'a', status: 'running' });
    await until(() => opened === 1, 'the first stream opens');
    selection.dispose();
    release();
    await until(() => stopped === 1, 'the stream that opened while disposing is closed');
    await selection.set({ id: 2, name: 'b', status: 'running' });
    await selection.refreshFrom([{ id: 2, name: 'b', status: 'stopped' }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect([opened, stopped]).toEqual([1, 1]);
  });
});

describe('the selected server when its event stream ends', () => {
  /** Retries run when the test says, and their waits are recorded. */
  function manualSchedule() {
    const waits: number[] = [];
    let due: (() => void) | undefined;
    const schedule: Schedule = (retry, ms) => {
      waits.push(ms);
      due = retry;
      return () => (due = undefined);
    };
    return { schedule, waits, run: () => due?.() };
  }

  it('follows again after a drop, waiting longer after each failure and afresh after an event', async () => {
    const ends: ((reason: 'closed' | 'not-found') => void)[] = [];
    const statuses: ((status: string) => void)[] = [];
    const api = {
      watchServer: async (_id: number, listener: (status: string) => void, onEnd: (reason: 'closed' | 'not-found') => void) => {
        statuses.push(listener);
        ends.push(onEnd);
        return () => undefined;
      },
    };
    const retries = manualSchedule();
    const selection = new ServerSelection(new MemoryState(), { api: async () => api } as unknown as Connection, retries.schedule);
    await selection.set({ id: 1, name: 'a', status: 'running' });
    await until(() => ends.length === 1, 'the stream opens');
    ends[0]!('closed');
    retries.run();
    await until(() => ends.length === 2, 'it follows again');
    ends[1]!('closed');
    retries.run();
    await until(() => ends.length === 3, 'and again');
    statuses[2]!('stopped');
    await until(() => selection.selected?.status === 'stopped', 'the status arrives');
    ends[2]!('closed');
    expect(retries.waits).toEqual([2_000, 4_000, 2_000]);
    selection.dispose();
    retries.run();
    expect(ends).toHaveLength(3);
  });

  it('forgets a server that is gone, and waits for signing in without retrying', async () => {
    let onEnd: ((reason: 'closed' | 'not-found') => void) | undefined;
    const api = {
      watchServer: async (_id: number, _listener: unknown, end: typeof onEnd) => {
        onEnd = end;
        return () => undefined;
      },
      listServers: async () => [],
    };
    const retries = manualSchedule();
    const selection = new ServerSelection(new MemoryState(), { api: async () => api } as unknown as Connection, retries.schedule);
    await selection.set({ id: 1, name: 'a', status: 'running' });
    await until(() => onEnd !== undefined, 'the stream opens');
    onEnd!('not-found');
    await until(() => selection.selected === undefined, 'the deleted server is forgotten');
    selection.dispose();

    const signedOut = manualSchedule();
    const outside = new ServerSelection(new MemoryState(), { api: async () => Promise.reject(new NotSignedIn()) } as unknown as Connection, signedOut.schedule);
    await outside.set({ id: 1, name: 'a', status: 'running' });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(signedOut.waits).toEqual([]);
    outside.dispose();
  });
});

/** The status bar item the last ServerSelection made (jest-mock-vscode records every call). */
function lastStatusBarItem(): vscode.StatusBarItem {
  const results = (vscode.window.createStatusBarItem as unknown as { mock: { results: { value: vscode.StatusBarItem }[] } }).mock.results;
  return results[results.length - 1]!.value;
}

describe('the selected server per API address', () => {
  /** Two API servers whose lists the test sets; the connection points at one of them. */
  function twoApis() {
    const lists: Record<string, ServerInfo[]> = {
      'http://a': [{ id: 1, name: 'a-gpu', status: 'running' }, { id: 2, name: 'a-spare', status: 'stopped' }],
      'http://b': [{ id: 1, name: 'b-gpu', status: 'stopped' }],
    };
    const connection = {
      apiUrl: 'http://a',
      api: async () => ({ listServers: async () => lists[connection.apiUrl] ?? [], watchServer: async () => () => undefined }),
    };
    return { lists, connection, asConnection: connection as unknown as Connection };
  }

  it('keeps one selection per API address, so changing the address never changes the target silently', async () => {
    const { connection, asConnection, lists } = twoApis();
    const state = new MemoryState();
    const selection = new ServerSelection(state, asConnection);
    await selection.set(lists['http://a']![1]!);
    connection.apiUrl = 'http://b';
    await selection.restart();
    // Server 1 on "b" is another machine than server 1 on "a": nothing is selected there.
    expect(selection.selected).toBeUndefined();
    expect(lastStatusBarItem().text).toBe('$(server) Comfy-Vast: no server');
    connection.apiUrl = 'http://a';
    await selection.restart();
    expect(selection.selected).toMatchObject({ id: 2, name: 'a-spare' });
    selection.dispose();
  });

  it('forgets the selection when that server is not on the API any more', async () => {
    const { connection, asConnection, lists } = twoApis();
    const selection = new ServerSelection(new MemoryState(), asConnection);
    await selection.set(lists['http://a']![1]!);
    lists['http://a'] = [lists['http://a']![0]!, { id: 3, name: 'new', status: 'running' }];
    connection.apiUrl = 'http://a';
    await selection.restart();
    expect(selection.selected).toBeUndefined();
    selection.dispose();
  });

  it('selects the only running server when none is selected', async () => {
    const { asConnection } = twoApis();
    const selection = new ServerSelection(new MemoryState(), asConnection);
    await until(() => selection.selected !== undefined, 'the running server is selected');
    expect(selection.selected).toMatchObject({ id: 1, name: 'a-gpu' });
    expect(lastStatusBarItem().text).toBe('$(server) a-gpu: running');
    selection.dispose();
  });

  it('leaves the choice to the user when several servers run', async () => {
    const { asConnection, lists } = twoApis();
    lists['http://a']![1]!.status = 'running';
    vi.mocked(vscode.window.showQuickPick).mockResolvedValue(undefined);
    const selection = new ServerSelection(new MemoryState(), asConnection);
    expect(await selection.require()).toBeUndefined();
    expect(vscode.window.showQuickPick).toHaveBeenCalledTimes(1);
    selection.dispose();
  });
});
