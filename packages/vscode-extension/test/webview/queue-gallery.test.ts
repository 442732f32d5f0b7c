import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GalleryEntryView } from '../../src/protocol/messages.js';
import { launchChromium, openEditorPage, type EditorPage } from './harness.js';

describe('the queue and the gallery in Chromium', () => {
  let browser: Browser;
  let editor: EditorPage;
  const entry = (n: number, seed: number, steps: number): GalleryEntryView => ({
    id: `2026-11-27T14:2${n}:00.000Z#${n}`,
    time: `2026-11-27T14:2${n}:00.000Z`,
    server: 'gpu-1',
    seed,
    prompt: 'a lighthouse',
    parameters: { steps, cfg: 8 },
    cost: 0.0021,
    images: [{ src: `${editor.origin}/img.png`, label: `run-${n}.png` }],
  });

  beforeAll(async () => {
    browser = await launchChromium();
    editor = await openEditorPage(browser);
  });
  afterAll(async () => {
    await editor?.close();
    await browser?.close();
  });

  const postedSince = async (from: number) => (await editor.posted()).slice(from);

  it('lists the queued runs, each with its own Cancel', async () => {
    await editor.send({
      type: 'queue',
      runs: [
        { id: 4, state: 'running', server: 'gpu-1', summary: 'seed 1 · a lighthouse' },
        { id: 5, state: 'queued', server: 'gpu-1', summary: 'seed 2 · a lighthouse' },
      ],
    });
    await editor.page.locator('#queue li.run').nth(1).waitFor();
    expect(await editor.page.locator('#queue li.run').allTextContents()).toEqual(['running seed 1 · a lighthouse · gpu-1 Cancel', 'queued seed 2 · a lighthouse · gpu-1 Cancel']);
    const before = (await editor.posted()).length;
    await editor.page.locator('#queue li[data-run="5"] .cancel-run').click();
    expect(await postedSince(before)).toEqual([{ type: 'cancel', runId: 5 }]);
  });

  it('shows each run with its seed, server and cost; enlarges one; restores, opens and reveals it', async () => {
    await editor.send({ type: 'gallery', entries: [entry(3, 30, 25), entry(2, 20, 20), entry(1, 10, 20)] });
    await editor.page.locator('#gallery .card').nth(2).waitFor();
    expect(await editor.page.locator('#gallery .card figcaption').first().innerText()).toMatch(/seed 30 · gpu-1 · \$0\.0021/);
    await editor.page.locator('#gallery .card img.thumb').first().click();
    await editor.page.locator('#overlay .enlarged img').waitFor();
    expect(await editor.page.locator('#overlay .enlarged').count()).toBe(1);
    await editor.page.keyboard.press('Escape');
    expect(await editor.page.locator('#overlay').isHidden()).toBe(true);
    const before = (await editor.posted()).length;
    const card = editor.page.locator('#gallery .card').nth(1);
    await card.locator('button.restore').click();
    await card.locator('button.open').click();
    await card.locator('button.reveal').click();
    const id = entry(2, 20, 20).id;
    expect(await postedSince(before)).toEqual([
      { type: 'restore', entryId: id },
      { type: 'openImage', entryId: id, index: 0 },
      { type: 'revealImage', entryId: id, index: 0 },
    ]);
  });

  it('compares two runs side by side, marking the values that differ', async () => {
    expect(await editor.page.locator('#compare').isHidden()).toBe(true);
    await editor.page.locator('#gallery .card').nth(0).locator('.compare-tick').check();
    await editor.page.locator('#gallery .card').nth(2).locator('.compare-tick').check();
    await editor.page.locator('#compare').click();
    await editor.page.locator('#overlay .enlarged').nth(1).waitFor();
    const columns = editor.page.locator('#overlay .enlarged');
    expect(await columns.count()).toBe(2);
    const [a, b] = await Promise.all([0, 1].map((i) => columns.nth(i).locator('dd.differs').allInnerTexts()));
    expect(a).toEqual(['30', '25']);
    expect(b).toEqual(['10', '20']);
    const boxes = await Promise.all([0, 1].map(async (i) => (await columns.nth(i).boundingBox())!));
    expect(boxes[1]!.x).toBeGreaterThan(boxes[0]!.x + boxes[0]!.width - 1);
    await editor.page.locator('#overlay-close').click();
  });
});
