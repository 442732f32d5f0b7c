import { readFileSync, readdirSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphChange, ToWebview } from '../../src/protocol/messages.js';
import { CORE_OBJECT_INFO } from '../../src/workflow/core-adapter.js';
import { graphEdits } from '../../src/workflow/graph-edit.js';
import { editorGraph } from '../../src/workflow/graph-model.js';
import { findParameters } from '../../src/workflow/parameters.js';
import { applyEdit } from '../../src/workflow/value-edit.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import { launchChromium, openEditorPage, type EditorPage, type Posted } from './harness.js';
import { difference } from '../support/text-difference.js';

const CORPUS = new URL('../../../core/test/workflow/corpus/', import.meta.url);
const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url), 'utf8');

/** The message the extension sends for a file (workflow-editor.ts builds it the same way). */
function workflowMessage(text: string): ToWebview {
  const doc = readWorkflowDocument(text)!;
  const json: unknown = JSON.parse(text);
  return { type: 'workflow', name: 'w', format: doc.format, ...editorGraph(json, doc, CORE_OBJECT_INFO), parameters: findParameters(json, doc, CORE_OBJECT_INFO).map((p) => p.field), problems: [] };
}

/** The file after the page's changes, written the way the extension writes them. */
function applied(text: string, changes: GraphChange[]): string {
  const { edits, refused } = graphEdits(text, changes, CORE_OBJECT_INFO);
  expect(refused).toEqual([]);
  return [...edits].sort((a, b) => b.offset - a.offset).reduce(applyEdit, text);
}


describe('the graph editor (litegraph) in Chromium', () => {
  let browser: Browser;
  let editor: EditorPage;
  const text = fixture('txt2img.comfy.json');

  beforeAll(async () => {
    browser = await launchChromium();
    editor = await openEditorPage(browser);
  });
  afterAll(async () => {
    await editor?.close();
    await browser?.close();
  });

  const graph = () => editor.page.locator('#graph');
  const data = async (key: string) => (await graph().getAttribute(`data-${key}`)) ?? '';
  const load = async (source: string) => {
    await editor.page.evaluate(() => document.getElementById('graph')!.removeAttribute('data-nodes'));
    await editor.send(workflowMessage(source));
    await editor.page.waitForFunction(() => document.getElementById('graph')!.dataset['nodes'] !== undefined);
    // litegraph finds a node under the pointer by the bounds its last drawing measured: wait for a drawing.
    await editor.page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  };
  /** Where a graph point is on the screen, by the view the page publishes (offset and scale). */
  const onScreen = async (x: number, y: number) => {
    const box = (await graph().boundingBox())!;
    const scale = Number(await data('scale'));
    const [ox, oy] = (await data('offset')).split(',').map(Number) as [number, number];
    return { x: box.x + (x + ox) * scale, y: box.y + (y + oy) * scale };
  };
  /** Clicks a node's title until the inspector shows it: now and then a first click right after a load selects nothing. */
  const select = async (x: number, y: number, heading: string | RegExp) => {
    const at = await onScreen(x, y);
    for (let i = 0; ; i++) {
      await editor.page.mouse.click(at.x, at.y);
      const pattern = typeof heading === 'string' ? `^${heading.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$` : heading.source;
      const shown = await editor.page
        .waitForFunction((p) => new RegExp(p).test(document.querySelector('#inspector h3')?.textContent ?? ''), pattern, { timeout: 2000 })
        .then(() => true, () => false);
      if (shown) return;
      if (i === 4) throw new Error(`no node ${String(heading)} at ${x}, ${y}`);
    }
  };
  const editsPosted = async (from: number) => ((await editor.posted()).slice(from) as { type: string; changes?: GraphChange[] }[]).filter((m) => m.type === 'editGraph');
  const settle = () => editor.page.waitForTimeout(150);

  it('loads every sample workflow (ComfyUI’s examples in both formats) with its nodes and links, without an error', async () => {
    const files = readdirSync(CORPUS).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(30);
    for (const file of files) {
      const source = readFileSync(new URL(file, CORPUS), 'utf8');
      if (!readWorkflowDocument(source)) continue;
      const message = workflowMessage(source) as Extract<ToWebview, { type: 'workflow' }>;
      await load(source);
      expect(Number(await data('nodes')), file).toBe(message.graph.nodes.length);
    }
    expect(await editor.page.evaluate(() => (window as unknown as Posted).__errors)).toEqual([]);
    expect(await editor.page.evaluate(() => (window as unknown as Posted).__violations)).toEqual([]);
  });

  it('selects a node by its title and edits a widget: the file changes by exactly that value', async () => {
    await load(text);
    expect(await data('nodes')).toBe('8');
    expect(await data('links')).toBe('9');
    await select(863 + 60, 186 - 15, 'KSampler #3');
    const before = (await editor.posted()).length;
    await editor.page.locator('#inspector [data-widget="steps"]').fill('31');
    await editor.page.keyboard.press('Tab');
    await expect.poll(() => editsPosted(before)).toHaveLength(1);
    const [message] = await editsPosted(before);
    expect(message!.changes).toEqual([{ kind: 'widget', nodeId: '3', index: 2, value: 31 }]);
    expect(difference(text, applied(text, message!.changes!))).toEqual(['20', '31']);
  });

  it('drags a node by its title: the file changes by its two coordinates only', async () => {
    await load(text);
    const before = (await editor.posted()).length;
    const scale = Number(await data('scale'));
    const from = await onScreen(26 + 60, 474 - 15);
    await editor.page.mouse.move(from.x, from.y);
    await editor.page.mouse.down();
    await editor.page.mouse.move(from.x + 50 * scale, from.y + 20 * scale, { steps: 5 });
    await editor.page.mouse.up();
    await expect.poll(() => editsPosted(before)).toHaveLength(1);
    const changes = (await editsPosted(before))[0]!.changes!;
    expect(changes.map((c) => c.kind)).toEqual(['position']);
    const moved = JSON.parse(applied(text, changes)) as { nodes: { id: number; pos: number[] }[] };
    const [x, y] = moved.nodes.find((n) => n.id === 4)!.pos as [number, number];
    // litegraph starts a drag after a few pixels of travel: the node follows the rest.
    expect(x).toBeGreaterThan(26 + 30);
    expect(y).toBeGreaterThan(474 + 10);
  });

  it('drags a group with the nodes in it: one change set for the group’s box and their positions', async () => {
    const grouped = JSON.stringify({ ...JSON.parse(text), groups: [{ title: 'Loader', bounding: [0, 400, 400, 220], color: '#3f789e', font_size: 24, flags: {} }] }, null, 2);
    await load(grouped);
    const before = (await editor.posted()).length;
    const scale = Number(await data('scale'));
    const from = await onScreen(200, 412);
    await editor.page.mouse.move(from.x, from.y);
    await editor.page.mouse.down();
    await editor.page.mouse.move(from.x + 60 * scale, from.y, { steps: 6 });
    await editor.page.mouse.up();
    await expect.poll(() => editsPosted(before)).toHaveLength(1);
    const changes = (await editsPosted(before))[0]!.changes!;
    expect(changes.map((c) => c.kind).sort()).toEqual(['group', 'position']);
    const after = JSON.parse(applied(grouped, changes)) as { groups: { bounding: number[] }[]; nodes: { id: number; pos: number[] }[] };
    const dx = after.groups[0]!.bounding[0]!;
    expect(dx).toBeGreaterThan(20);
    expect(after.nodes.find((n) => n.id === 4)!.pos[0]).toBeCloseTo(26 + dx, 0);
  });

  it('bypasses the selected node with Ctrl+B and mutes it with Ctrl+M, as ComfyUI does', async () => {
    await load(text);
    await select(863 + 60, 186 - 15, 'KSampler #3');
    const before = (await editor.posted()).length;
    await editor.page.keyboard.press('Control+b');
    await expect.poll(() => editsPosted(before)).toHaveLength(1);
    const changes = (await editsPosted(before))[0]!.changes!;
    expect(changes).toEqual([{ kind: 'mode', nodeId: '3', value: 4 }]);
    expect(JSON.parse(applied(text, changes)).nodes.find((n: { id: number }) => n.id === 3).mode).toBe(4);
    // Ctrl+M mutes it instead; again puts it back.
    const next = (await editor.posted()).length;
    await editor.page.keyboard.press('Control+m');
    await expect.poll(() => editsPosted(next)).toHaveLength(1);
    await editor.page.keyboard.press('Control+m');
    await expect.poll(() => editsPosted(next)).toHaveLength(2);
    expect((await editsPosted(next)).map((m) => m.changes)).toEqual([[{ kind: 'mode', nodeId: '3', value: 2 }], [{ kind: 'mode', nodeId: '3', value: 0 }]]);
  });

  it('undoes a change of links or nodes (those are edited as text) and posts nothing', async () => {
    await load(text);
    await select(26 + 60, 474 - 15, 'Load Checkpoint #4');
    const before = (await editor.posted()).length;
    await editor.page.keyboard.press('Delete');
    await settle();
    expect(await data('nodes')).toBe('8');
    expect(await editsPosted(before)).toEqual([]);
  });

  it('shows the file again when it changes (an undo in VS Code), keeping the view', async () => {
    await load(text);
    const view = [await data('scale'), await data('offset')];
    const edited = applied(text, [{ kind: 'widget', nodeId: '3', index: 2, value: 31 }]);
    await load(edited);
    await select(863 + 60, 186 - 15, 'KSampler #3');
    await expect.poll(() => editor.page.locator('#inspector [data-widget="steps"]').inputValue()).toBe('31');
    await load(text);
    await expect.poll(() => editor.page.locator('#inspector [data-widget="steps"]').inputValue()).toBe('20');
    expect([await data('scale'), await data('offset')]).toEqual(view);
  });

  it('pans with a drag on the background and zooms with the wheel; the view survives a reload', async () => {
    await load(text);
    const box = (await graph().boundingBox())!;
    const offset = await data('offset');
    // Below the nodes: empty canvas.
    const start = { x: box.x + box.width - 40, y: box.y + box.height - 40 };
    await editor.page.mouse.move(start.x, start.y);
    await editor.page.mouse.down();
    await editor.page.mouse.move(start.x - 120, start.y - 60, { steps: 6 });
    await editor.page.mouse.up();
    await expect.poll(() => data('offset')).not.toBe(offset);
    const scale = Number(await data('scale'));
    await editor.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await editor.page.mouse.wheel(0, -300);
    await expect.poll(async () => Number(await data('scale'))).toBeGreaterThan(scale);
    const view = [await data('scale'), await data('offset')];
    // The kept state is written once the view settles.
    await editor.page.waitForTimeout(400);
    await editor.page.reload();
    await editor.page.waitForFunction(() => document.getElementById('graph')!.dataset['nodes'] === '8');
    expect([await data('scale'), await data('offset')]).toEqual(view);
  });

  it('highlights the running node with its progress, and clears it at the end', async () => {
    await load(text);
    await editor.send({ type: 'progress', progress: { status: 'executing', percent: 40, currentNode: 'KSampler' } });
    await expect.poll(() => data('running')).toBe('KSampler');
    await editor.send({ type: 'result', images: [] });
    await expect.poll(() => data('running')).toBe('');
  });

  it('highlights only the running one of two nodes of a class, by its id; all of the class when the id is not a node of the graph', async () => {
    const source = readFileSync(new URL('bypass.ui.json', CORPUS), 'utf8');
    const samplers = (JSON.parse(source).nodes as Array<{ id: number; type: string }>).filter((n) => n.type === 'KSampler').map((n) => String(n.id));
    expect(samplers).toHaveLength(2);
    await load(source);
    await editor.send({ type: 'progress', progress: { status: 'executing', percent: 40, currentNode: 'KSampler', currentNodeId: samplers[1] } });
    await expect.poll(() => data('running-nodes')).toBe(samplers[1]);
    await editor.send({ type: 'progress', progress: { status: 'executing', percent: 60, currentNode: 'KSampler', currentNodeId: samplers[0] } });
    await expect.poll(() => data('running-nodes')).toBe(samplers[0]);
    // A node inside a subgraph runs under a prompt id of its own ("<instance>:<inner>"): the class is all there is.
    await editor.send({ type: 'progress', progress: { status: 'executing', percent: 70, currentNode: 'KSampler', currentNodeId: `${samplers[0]}:5` } });
    await expect.poll(async () => (await data('running-nodes')).split(',').sort()).toEqual([...samplers].sort());
    await editor.send({ type: 'result', images: [] });
    await expect.poll(() => data('running-nodes')).toBe('');
  });

  it('opens a subgraph from its instance and comes back', async () => {
    const source = readFileSync(new URL('subgraph.ui.json', CORPUS), 'utf8');
    const id = JSON.parse(source).definitions.subgraphs[0].id as string;
    // A page of its own (each file has one): the graph is fitted to the view on its first load.
    await editor.page.evaluate(() => sessionStorage.clear());
    await editor.page.reload();
    await load(source);
    expect(await data('subgraph')).toBe('');
    await select(100 + 150, -15, 'Prompt encoder #10');
    await editor.page.locator('#open-subgraph').click();
    await expect.poll(() => data('subgraph')).toBe(id);
    expect(await data('nodes')).toBe('7');
    await editor.page.locator('#graph-back').click();
    await expect.poll(() => data('subgraph')).toBe('');
  });

  it('edits a node inside a subgraph: the change names the subgraph and lands in its definition', async () => {
    // The corpus piles the subgraph's nodes on its input node: spread out, the encoder's title can be clicked.
    const spread = JSON.parse(readFileSync(new URL('subgraph.ui.json', CORPUS), 'utf8')) as { definitions: { subgraphs: { inputNode: { bounding: number[] }; nodes: { pos: number[] }[] }[] } };
    const inside = spread.definitions.subgraphs[0]!;
    inside.inputNode.bounding = [-300, 0, 120, 60];
    inside.nodes[1]!.pos = [500, 300];
    const source = JSON.stringify(spread, null, 2);
    await load(source);
    await select(100 + 150, -15, 'Prompt encoder #10');
    await editor.page.locator('#open-subgraph').click();
    await expect.poll(() => data('subgraph')).not.toBe('');
    // The encoder inside, at [10, 0] in the subgraph.
    await select(10 + 60, -15, /#1$/);
    const before = (await editor.posted()).length;
    await editor.page.locator('#inspector [data-widget="text"]').fill('a fox, edited inside');
    await editor.page.keyboard.press('Tab');
    await expect.poll(() => editsPosted(before)).toHaveLength(1);
    const changes = (await editsPosted(before))[0]!.changes!;
    expect(changes).toEqual([{ kind: 'widget', graph: await data('subgraph'), nodeId: '1', index: 0, value: 'a fox, edited inside' }]);
    expect(JSON.parse(applied(source, changes)).definitions.subgraphs[0].nodes[0].widgets_values).toEqual(['a fox, edited inside']);
    await editor.page.locator('#graph-back').click();
  });

  it('edits an API-format file through the same graph: the input’s value changes and nothing else', async () => {
    const source = fixture('txt2img-api.json');
    const message = workflowMessage(source) as Extract<ToWebview, { type: 'workflow' }>;
    const sampler = message.graph.nodes.find((n) => n.id === '3') as unknown as { pos: [number, number] };
    await editor.page.evaluate(() => sessionStorage.clear());
    await editor.page.reload();
    await load(source);
    await select(sampler.pos[0] + 60, sampler.pos[1] - 15, 'KSampler #3');
    const before = (await editor.posted()).length;
    await editor.page.locator('#inspector [data-widget="cfg"]').fill('6.5');
    await editor.page.keyboard.press('Tab');
    await expect.poll(() => editsPosted(before)).toHaveLength(1);
    const changes = (await editsPosted(before))[0]!.changes!;
    expect(changes).toEqual([{ kind: 'widget', nodeId: '3', index: 3, value: 6.5 }]);
    expect(difference(source, applied(source, changes))).toEqual(['8', '6.5']);
  });
});
