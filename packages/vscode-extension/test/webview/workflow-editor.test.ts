import type { Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webviewHtml } from '../../src/editor/webview-html.js';
import { CORE_OBJECT_INFO } from '../../src/workflow/core-adapter.js';
import { findParameters } from '../../src/workflow/parameters.js';
import { graphModel } from '../../src/workflow/graph-model.js';
import { readWorkflowDocument } from '../../src/workflow/workflow-doc.js';
import type { ToWebview } from '../../src/protocol/messages.js';
import { readFileSync } from 'node:fs';
import { PNG, bundleWebviewScript, launchChromium, serve } from './harness.js';

type Posted = { __posted: unknown[]; __violations: string[] };

const text = readFileSync(new URL('../fixtures/txt2img.comfy.json', import.meta.url), 'utf8');
const doc = readWorkflowDocument(text)!;
const workflowMessage: ToWebview = {
  type: 'workflow',
  name: 'txt2img',
  format: 'ui',
  graph: graphModel(doc),
  parameters: findParameters(JSON.parse(text), doc, CORE_OBJECT_INFO).map((p) => p.field),
  problems: [{ message: '"steps" is -5, below its minimum 1.', severity: 'error', nodeId: '3', span: { offset: 120, length: 2 } }],
};

describe('the workflow editor page in Chromium', () => {
  let browser: Browser;
  let page: Page;
  let own: { origin: string; server: Server };
  let foreign: { origin: string; server: Server };

  beforeAll(async () => {
    const script = await bundleWebviewScript();
    const css = readFileSync(new URL('../../media/workflow-editor.css', import.meta.url), 'utf8');
    foreign = await serve({ '/img.png': ['image/png', PNG] });
    own = await serve({ '/webview.js': ['text/javascript', script], '/style.css': ['text/css', css], '/img.png': ['image/png', PNG] });
    // The page is served by the same server that plays the webview's resource origin (cspSource).
    const html = webviewHtml({ cspSource: own.origin, nonce: 'n0nce', scriptUri: `${own.origin}/webview.js`, styleUri: `${own.origin}/style.css`, title: 'txt2img' });
    const withPage = await serve({ '/': ['text/html', html] });
    own.server.on('close', () => withPage.server.close());
    browser = await launchChromium();
    page = await browser.newPage();
    await page.addInitScript(() => {
      const w = window as unknown as Posted & { acquireVsCodeApi: unknown };
      w.__posted = [];
      w.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
      // VS Code keeps a webview's state while its tab is hidden; sessionStorage plays that across a reload.
      w.acquireVsCodeApi = () => ({
        postMessage: (m: unknown) => w.__posted.push(m),
        getState: () => JSON.parse(sessionStorage.getItem('state') ?? 'null') ?? undefined,
        setState: (state: unknown) => sessionStorage.setItem('state', JSON.stringify(state)),
      });
    });
    await page.goto(`${withPage.origin}/`);
    await page.waitForFunction(() => (window as unknown as Posted).__posted.length > 0);
  });

  afterAll(async () => {
    await browser?.close();
    own?.server.close();
    foreign?.server.close();
  });

  const send = (message: unknown) => page.evaluate((m) => window.postMessage(m, '*'), message);
  const posted = () => page.evaluate(() => (window as unknown as Posted).__posted);

  it('draws the graph and the form from a message, and ignores a message that does not validate', async () => {
    expect(await posted()).toEqual([{ type: 'ready' }]);
    await send({ type: 'workflow', name: 'evil', format: 'ui', graph: 'not a graph', parameters: [], problems: [] });
    await send(workflowMessage);
    await page.locator('svg.graph g.node').first().waitFor();
    expect(await page.locator('svg.graph g.node').count()).toBe(8);
    expect(await page.locator('svg.graph path.link').count()).toBe(9);
    expect(await page.locator('g.node.bypassed').getAttribute('data-id')).toBe('10');
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

  it('reveals a problem’s node in the graph, and opens the text at its characters', async () => {
    const before = (await posted()).length;
    await page.locator('#problems li').first().click();
    expect(await page.locator('g.node.revealed').getAttribute('data-id')).toBe('3');
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
});
