import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORE_OBJECT_INFO } from '../../src/workflow/core-adapter.js';
import { findParameters } from '../../src/workflow/parameters.js';
import { editorGraph } from '../../src/workflow/graph-model.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import type { ToWebview } from '../../src/protocol/messages.js';
import { readFileSync } from 'node:fs';
import { PNG, launchChromium, openEditorPage, type EditorPage, type Posted } from './harness.js';

const text = readFileSync(new URL('../fixtures/txt2img.comfy.json', import.meta.url), 'utf8');
const doc = readWorkflowDocument(text)!;
const workflowMessage: ToWebview = {
  type: 'workflow',
  name: 'txt2img',
  format: 'ui',
  ...editorGraph(JSON.parse(text), doc, CORE_OBJECT_INFO),
  parameters: findParameters(JSON.parse(text), doc, CORE_OBJECT_INFO).map((p) => p.field),
  problems: [{ message: '"steps" is -5, below its minimum 1.', severity: 'error', nodeId: '3', span: { offset: 120, length: 2 } }],
};

describe('the workflow editor page in Chromium', () => {
  let browser: Browser;
  let editor: EditorPage;
  let page: Page;
  const own = { origin: '' };
  const foreign = { origin: '' };

  beforeAll(async () => {
    browser = await launchChromium();
    editor = await openEditorPage(browser);
    page = editor.page;
    own.origin = editor.origin;
    foreign.origin = editor.foreignOrigin;
  });

  afterAll(async () => {
    await editor?.close();
    await browser?.close();
  });

  const send = (message: unknown) => editor.send(message);
  const posted = () => editor.posted();

  it('draws the graph and the form from a message, and ignores a message that does not validate', async () => {
    expect(await posted()).toEqual([{ type: 'ready' }]);
    await send({ type: 'workflow', name: 'evil', format: 'ui', graph: 'not a graph', parameters: [], problems: [] });
    await send(workflowMessage);
    await page.waitForFunction(() => document.getElementById('graph')!.dataset['nodes'] === '8');
    expect(await page.locator('#graph').getAttribute('data-links')).toBe('9');
    expect(await page.locator('#graph canvas').count()).toBe(1);
    expect(await page.locator('#name').textContent()).toBe('txt2img');
    expect(await page.locator('#field-prompt').inputValue()).toBe('a lighthouse on a cliff at sunset, oil painting');
    expect(await page.locator('#field-sampler option').allTextContents()).toContain('dpmpp_2m');
    expect(await page.locator('#field-sampler').inputValue()).toBe('euler');
  });

  it('posts typed form edits, seed randomising and Generate', async () => {
    await page.locator('#field-steps').fill('31');
    await page.keyboard.press('Tab');
    await page.locator('#field-sampler').selectOption('dpmpp_2m');
    await page.locator('#randomize-seed').click();
    await page.locator('#generate').click();
    expect((await posted()).slice(1)).toEqual([
      { type: 'setParameter', name: 'steps', value: 31 },
      { type: 'setParameter', name: 'sampler', value: 'dpmpp_2m' },
      { type: 'randomizeSeed' },
      { type: 'generate' },
    ]);
  });

  it('shows progress with a data: preview, loads images from its own origin and the policy refuses a foreign one', async () => {
    const preview = `data:image/png;base64,${PNG.toString('base64')}`;
    await send({ type: 'progress', progress: { status: 'executing', percent: 40, currentNode: 'KSampler', preview } });
    expect(await page.locator('#run-status').textContent()).toBe('executing 40% · KSampler');
    await page.waitForFunction(() => (document.getElementById('preview') as HTMLImageElement).naturalWidth > 0);
    await send({
      type: 'result',
      images: [
        { src: `${own.origin}/img.png`, label: 'own.png' },
        { src: `${foreign.origin}/img.png`, label: 'foreign.png' },
      ],
    });
    const widths = async () => page.locator('#images img').evaluateAll((imgs) => imgs.map((i) => (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth));
    await page.waitForFunction(() => [...document.querySelectorAll('#images img')].every((i) => (i as HTMLImageElement).complete));
    expect(await widths()).toEqual([2, 0]);
    const violations = await page.evaluate(() => (window as unknown as Posted).__violations);
    expect(violations).toEqual([`img-src ${foreign.origin}/img.png`]);
    expect(await page.locator('#run-status').textContent()).toBe('Done: 2 image(s) saved');
  });

  it('refuses a value outside the node definition’s limits before anything is posted', async () => {
    const before = (await posted()).length;
    expect(await page.locator('#field-steps').getAttribute('min')).toBe('1');
    expect(await page.locator('#field-denoise').getAttribute('max')).toBe('1');
    await page.locator('#field-steps').fill('-5');
    await page.keyboard.press('Tab');
    expect(await page.locator('#field-steps').evaluate((i) => (i as HTMLInputElement).validationMessage)).toBe('Steps must be at least 1.');
    await page.locator('#field-steps').fill('12');
    await page.keyboard.press('Tab');
    expect((await posted()).slice(before)).toEqual([{ type: 'setParameter', name: 'steps', value: 12 }]);
  });

  it('reveals a problem’s node in the graph (selected, its values in the inspector), and opens the text at its characters', async () => {
    const before = (await posted()).length;
    await page.locator('#problems li').first().click();
    await expect.poll(() => page.locator('#inspector h3').textContent()).toBe('KSampler #3');
    await page.locator('#problems li button').first().click();
    expect((await posted()).slice(before)).toEqual([{ type: 'openText', span: { offset: 120, length: 2 } }]);
  });

  it('starts a run with nothing of the last one, keeps Generate in place and shows the preview large', async () => {
    const generateAt = async () => (await page.locator('#generate').boundingBox())!.x;
    // The last test ended with a result on screen.
    expect(await page.locator('#images img').count()).toBe(2);
    const idle = await generateAt();
    await send({ type: 'started', server: 'gpu-1' });
    expect(await page.locator('#images img').count()).toBe(0);
    expect(await page.locator('#run-status').textContent()).toBe('queued on gpu-1');
    expect(await page.locator('#preview').isHidden()).toBe(true);
    const preview = `data:image/png;base64,${PNG.toString('base64')}`;
    await send({ type: 'progress', progress: { status: 'executing', percent: 10, currentNode: 'KSampler', preview } });
    expect(await page.locator('#cancel').isVisible()).toBe(true);
    expect(await generateAt()).toBe(idle);
    expect((await page.locator('#preview').boundingBox())!.width).toBeGreaterThanOrEqual(256);
  });

  it('shows the last run again after the page is reloaded (a tab switched away and back)', async () => {
    await send({ type: 'result', images: [{ src: `${own.origin}/img.png`, label: 'comfy-outputs/txt2img/a.png' }] });
    await page.reload();
    await page.locator('#images img').first().waitFor();
    expect(await page.locator('#images figcaption').allTextContents()).toEqual(['comfy-outputs/txt2img/a.png']);
    expect(await page.locator('#field-prompt').inputValue()).toBe('a lighthouse on a cliff at sunset, oil painting');
    expect(await page.locator('#run-status').textContent()).toBe('Done: 1 image(s) saved');
  });

  it('offers to download a missing model to the selected server', async () => {
    await send({
      type: 'models',
      models: [
        { name: 'v1-5-pruned-emaonly.safetensors', folder: 'checkpoints', state: 'available' },
        { name: 'dreamshaper_8.safetensors', folder: 'checkpoints', state: 'missing' },
      ],
      note: 'Checked on gpu-1.',
      server: 'gpu-1',
    });
    await page.locator('#models button.download-to').waitFor();
    expect(await page.locator('#models button.download-to').allTextContents()).toEqual(['Download to gpu-1']);
    const before = (await posted()).length;
    await page.locator('#models button.download-to').click();
    expect((await posted()).slice(before)).toEqual([{ type: 'downloadModel', name: 'dreamshaper_8.safetensors' }]);
  });
});
