import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILTIN_WORKFLOWS, LowdbStore, ManualClock, MemoryStore, WorkflowLibrary, WorkflowRecord, type ComfyVastError } from '../../src/index.js';
import { faultyFs } from '../store/helpers.js';

const sdxl = BUILTIN_WORKFLOWS.find((w) => w.id === 1)!.workflow as Record<string, unknown>;
const clock = new ManualClock(Date.UTC(2026, 0, 1));

/** The SDXL workflow carrying `padding` bytes more, as a note in its `extra`. */
function workflowOf(padding: number): Record<string, unknown> {
  return { ...sdxl, extra: { note: 'x'.repeat(padding) } };
}

async function library(quota: { count: number; bytes: number }): Promise<WorkflowLibrary> {
  const workflows = new WorkflowLibrary({ store: new MemoryStore(), clock, quota });
  await workflows.seedBuiltins();
  return workflows;
}

async function refusal(promise: Promise<unknown>): Promise<ComfyVastError> {
  return promise.then(
    () => expect.fail('the write was accepted'),
    (error: ComfyVastError) => error,
  );
}

describe('the quota on saved workflows', () => {
  it('refuses the workflow past the count with QUOTA_EXCEEDED, per user, and takes one again after a delete', async () => {
    const workflows = await library({ count: 3, bytes: 10 * 1024 * 1024 });
    for (let n = 0; n < 3; n++) await workflows.create(1, { name: `w${n}`, workflow: sdxl });
    const error = await refusal(workflows.create(1, { name: 'one too many', workflow: sdxl }));
    expect(error).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'count', limit: 3, used: 3 } });
    expect(error.message).toMatch(/at most 3 saved workflows/);
    expect(workflows.usage(1).count).toBe(3);

    // Another user's room is their own, and the built-ins count against nobody.
    await workflows.create(2, { name: 'bob', workflow: sdxl });
    await workflows.delete(1, workflows.list(1).find((w) => w.name === 'w0')!.id);
    await workflows.create(1, { name: 'again', workflow: sdxl });
    expect(workflows.usage(1).count).toBe(3);
  });

  it('refuses a create or a replace that would pass the total size, and allows one that shrinks', async () => {
    const base = (await library({ count: 100, bytes: 1e9 })).usage(1);
    expect(base).toMatchObject({ count: 0, bytes: 0 });
    const workflows = await library({ count: 100, bytes: 200 * 1024 });
    const first = await workflows.create(1, { name: 'big', workflow: workflowOf(120 * 1024) });
    const used = workflows.usage(1).bytes;
    expect(used).toBeGreaterThan(120 * 1024);

    const tooBig = await refusal(workflows.create(1, { name: 'bigger', workflow: workflowOf(100 * 1024) }));
    expect(tooBig).toMatchObject({ code: 'QUOTA_EXCEEDED', details: { quota: 'bytes', limit: 200 * 1024, used } });
    const grown = await refusal(workflows.replace(1, first.id, { name: 'big', workflow: workflowOf(199 * 1024) }));
    expect(grown.details.quota).toBe('bytes');
    expect(workflows.get(1, first.id).workflow).toEqual(first.workflow);

    await workflows.replace(1, first.id, { name: 'small', workflow: workflowOf(10) });
    expect(workflows.usage(1).bytes).toBeLessThan(used);
    await workflows.create(1, { name: 'fits now', workflow: workflowOf(100 * 1024) });
    expect(workflows.usage(1).count).toBe(2);
  });

  it('holds against a burst of creates made at once', async () => {
    const workflows = await library({ count: 5, bytes: 10 * 1024 * 1024 });
    const results = await Promise.allSettled(Array.from({ length: 12 }, (_, n) => workflows.create(1, { name: `w${n}`, workflow: sdxl })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    expect(workflows.usage(1).count).toBe(5);
  });
});

describe('saved workflows on disk', () => {
  const dirs: string[] = [];
  afterEach(async () => Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true }))));

  it('appends a new workflow instead of rewriting every saved one, and reads an old whole-file workflows.json', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'comfy-vast-workflows-'));
    dirs.push(dir);
    // The layout before: workflows as a document collection, rewritten whole on each change.
    const old = await LowdbStore.open({ dir });
    const asDocument = old.collection({ name: 'workflows', schema: WorkflowRecord, kind: 'document' });
    const now = new Date(clock.now()).toISOString();
    for (let n = 0; n < 40; n++) {
      await asDocument.insert({ userId: 1 + (n % 4), builtinKey: null, name: `w${n}`, description: '', tags: [], format: 'ui', workflow: workflowOf(50 * 1024), requiredModels: [], createdAt: now, updatedAt: now });
    }
    await old.close();
    const whole = join(dir, 'collections', 'workflows.json');
    const before = await stat(whole);

    const fs = faultyFs(() => undefined);
    const store = await LowdbStore.open({ dir, fs });
    const workflows = new WorkflowLibrary({ store, clock });
    await workflows.seedBuiltins();
    expect(workflows.list(1).filter((w) => w.userId === 1)).toHaveLength(10);
    const created = await workflows.create(1, { name: 'new', workflow: sdxl });
    await workflows.replace(2, 2, { name: 'renamed', workflow: sdxl });
    await store.close();

    const touchedWhole = fs.calls.filter((c) => c.path.startsWith(`${whole}.tmp-`) || (c.op === 'rename' && c.path === whole));
    expect(touchedWhole).toEqual([]);
    expect((await stat(whole)).mtimeMs).toBe(before.mtimeMs);
    const appended = fs.calls.filter((c) => c.op === 'write' && c.path.endsWith('.jsonl'));
    expect(appended.length).toBeGreaterThan(0);

    const reopened = await LowdbStore.open({ dir });
    const again = new WorkflowLibrary({ store: reopened, clock });
    expect(again.get(1, created.id).name).toBe('new');
    expect(again.get(2, 2).name).toBe('renamed');
    expect(again.usage(3).count).toBe(10);
    await reopened.close();
  });
});
