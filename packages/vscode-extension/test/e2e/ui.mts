import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@comfy-vast/server/client';
import { launchChromium, startCodeServer } from './code-server.mjs';
import { activeWebview, answerQuickInput, openFromExplorer, recordNotifications, runCommand, waitForNotification } from './workbench.mjs';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';

/**
 * End to end, as a person would: the packaged .vsix in code-server, the API server on the simulated provider,
 * sign in, pick the GPU server, open a workflow in the workflow editor, edit a widget on the graph, undo it, pan
 * and zoom, edit the form, queue three variations, watch them land in the gallery, compare two and restore one,
 * find the images and the gallery file in the workspace. Screenshots
 * go to a temporary folder, or to docs/ for the README with UPDATE_SCREENSHOTS=1, so that a test run leaves the
 * checkout as it was.
 */
const extensionDir = fileURLToPath(new URL('../..', import.meta.url));
const vsix = join(extensionDir, 'dist/comfy-vast.vsix');
const shots = process.env.UPDATE_SCREENSHOTS === '1' ? join(extensionDir, 'docs') : mkdtempSync(join(tmpdir(), 'comfy-vast-screenshots-'));

async function main(): Promise<void> {
  assert.ok(existsSync(vsix), `build the .vsix first (npm run package): ${vsix}`);
  console.log(`screenshots go to ${shots}`);
  const api = await startApiServer();
  const admin = createClient({ baseUrl: api.url, token: ADMIN_TOKEN });
  await launchGpu(admin);
  const code = await startCodeServer({ workspace: join(extensionDir, 'test/fixtures/workspace'), vsix, settings: { 'comfyVast.apiUrl': api.url, 'workbench.startupEditor': 'none', 'workbench.secondarySideBar.defaultVisibility': 'hidden', 'chat.disableAIFeatures': true, 'workbench.colorTheme': 'Default Dark Modern' } });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
    page.on('console', (m) => m.type() === 'error' && process.env.E2E_DEBUG && console.error(`[page] ${m.text()}`));
    await page.goto(`http://${code.authority}/?folder=${code.workspace}`);
    await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
    mkdirSync(shots, { recursive: true });
    // The secondary side bar (chat) opens empty in code-server; the screenshots are better without it.
    if (await page.locator('.part.auxiliarybar').isVisible()) await page.keyboard.press('Control+Alt+KeyB');

    await runCommand(page, 'Comfy-Vast: Sign In');
    await answerQuickInput(page, 'Comfy-Vast: Sign In', { type: ADMIN_TOKEN });
    await waitForNotification(page, 'signed in to');
    console.log('✓ signed in through the input box');

    await runCommand(page, 'Comfy-Vast: Select Server');
    await answerQuickInput(page, 'Comfy-Vast: Select Server', { pick: 'gpu-1' });
    await page.locator('.statusbar-item', { hasText: 'gpu-1' }).first().waitFor({ timeout: 20_000 });
    console.log('✓ server picked; the status bar shows it');

    await openFromExplorer(page, 'workflows', 'txt2img.comfy.json');
    const webview = activeWebview(page);
    await webview.locator('#graph[data-nodes="8"]').waitFor({ timeout: 30_000 });
    assert.equal(await webview.locator('#graph').getAttribute('data-links'), '9');
    console.log('✓ the workflow editor shows the graph (litegraph)');

    // The graph (litegraph): select the sampler by its title, change a widget, and the file changes by that value.
    const original = readFileSync(join(code.workspace, 'workflows/txt2img.comfy.json'), 'utf8');
    const graph = webview.locator('#graph');
    const canvasPoint = async (x: number, y: number) => {
      const box = (await graph.boundingBox())!;
      const scale = Number(await graph.getAttribute('data-scale'));
      const [ox, oy] = (await graph.getAttribute('data-offset'))!.split(',').map(Number) as [number, number];
      return { x: box.x + (x + ox) * scale, y: box.y + (y + oy) * scale };
    };
    const title = await canvasPoint(863 + 60, 186 - 15);
    // Now and then a first click right after a load selects nothing: click until the panel shows the node.
    for (let i = 0; !(await webview.locator('#inspector h3', { hasText: 'KSampler #3' }).isVisible()); i++) {
      if (i > 10) throw new Error('clicking the KSampler title never selected it');
      await page.mouse.click(title.x, title.y);
      await webview.locator('#inspector h3', { hasText: 'KSampler #3' }).waitFor({ timeout: 2_000 }).catch(() => undefined);
    }
    await webview.locator('#inspector [data-widget="steps"]').fill('21');
    await webview.locator('#inspector [data-widget="steps"]').press('Tab');
    await page.locator('.tab.dirty', { hasText: 'txt2img.comfy.json' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Control+s');
    await page.locator('.tab.dirty', { hasText: 'txt2img.comfy.json' }).waitFor({ state: 'detached', timeout: 10_000 });
    const saved = readFileSync(join(code.workspace, 'workflows/txt2img.comfy.json'), 'utf8');
    assert.equal(saved, original.replace('"randomize",\n        20,', '"randomize",\n        21,'));
    console.log('✓ a widget edited on the graph changed the file by exactly that value');
    await runCommand(page, 'Notifications: Hide Notifications');
    await page.screenshot({ path: join(shots, 'graph-editor.png') });

    // Undo in VS Code puts the value back, in the file and on the graph.
    await webview.locator('#inspector h3').click();
    await page.keyboard.press('Control+z');
    for (let i = 0; (await webview.locator('#inspector [data-widget="steps"]').inputValue()) !== '20'; i++) {
      if (i > 50) throw new Error('undo never reached the graph');
      await page.waitForTimeout(200);
    }
    await page.keyboard.press('Control+s');
    await page.locator('.tab.dirty', { hasText: 'txt2img.comfy.json' }).waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(readFileSync(join(code.workspace, 'workflows/txt2img.comfy.json'), 'utf8'), original);
    console.log('✓ undo restored the file and the graph');

    // ComfyUI's key to bypass the selected node (still the sampler) reaches the graph inside VS Code.
    await page.mouse.click(title.x, title.y);
    await webview.locator('#inspector h3', { hasText: 'KSampler #3' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Control+b');
    await page.locator('.tab.dirty', { hasText: 'txt2img.comfy.json' }).waitFor({ timeout: 10_000 });
    await page.keyboard.press('Control+s');
    await page.locator('.tab.dirty', { hasText: 'txt2img.comfy.json' }).waitFor({ state: 'detached', timeout: 10_000 });
    const bypassed = readFileSync(join(code.workspace, 'workflows/txt2img.comfy.json'), 'utf8');
    assert.equal((JSON.parse(bypassed) as { nodes: { id: number; mode: number }[] }).nodes.find((n) => n.id === 3)!.mode, 4);
    await webview.locator('#inspector h3').click();
    await page.keyboard.press('Control+z');
    await page.keyboard.press('Control+s');
    for (let i = 0; readFileSync(join(code.workspace, 'workflows/txt2img.comfy.json'), 'utf8') !== original; i++) {
      if (i > 50) throw new Error('undo never took the bypass back');
      await page.waitForTimeout(200);
    }
    console.log('✓ Ctrl+B bypassed the selected node in the file, and undo took it back');

    // Pan and zoom.
    const scale = Number(await graph.getAttribute('data-scale'));
    const box = (await graph.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height - 30);
    await page.mouse.wheel(0, -400);
    for (let i = 0; Number(await graph.getAttribute('data-scale')) <= scale; i++) {
      if (i > 50) throw new Error('the wheel never zoomed the graph');
      await page.waitForTimeout(100);
    }
    const offset = await graph.getAttribute('data-offset');
    await page.mouse.move(box.x + box.width - 30, box.y + box.height - 30);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width - 200, box.y + box.height - 90, { steps: 8 });
    await page.mouse.up();
    assert.notEqual(await graph.getAttribute('data-offset'), offset);
    console.log('✓ the graph pans and zooms');

    // The form next to the graph still edits the file.
    const steps = webview.locator('#field-steps');
    // 100 steps keep each simulated run going for about two seconds, long enough to watch its progress.
    const wanted = Number(await steps.inputValue()) === 100 ? 99 : 100;
    await steps.fill(String(wanted));
    await steps.press('Tab');
    await page.locator('.tab.dirty', { hasText: 'txt2img.comfy.json' }).waitFor({ timeout: 10_000 });
    assert.equal(Number(await webview.locator('#field-steps').inputValue()), wanted);
    console.log('✓ form edits changed the document (dirty tab) and came back to the form');
    await page.screenshot({ path: join(shots, 'workflow-editor.png') });

    // Three variations: the workflow randomizes its seed after each run, so each queued run has its own.
    const seen = await recordNotifications(page);
    for (let i = 0; i < 3; i++) await webview.locator('#generate').click();
    await webview.locator('#queue li.run').nth(1).waitFor({ timeout: 15_000 });
    await webview.locator('#queue-section').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'generate-queue.png') });
    console.log(`✓ Generate queued runs: ${(await webview.locator('#queue li.run').allTextContents()).join(' | ')}`);
    await runCommand(page, 'Notifications: Show Notifications');

    const cards = webview.locator('#gallery .card');
    for (let i = 0; (await cards.count()) < 3; i++) {
      if (i > 600) throw new Error(`the gallery has ${await cards.count()} run(s) after two minutes`);
      await page.waitForTimeout(200);
    }
    assert.equal(await webview.locator('#queue li.run').count(), 0);
    const progressShown = (await seen()).find((text) => /generating txt2img on gpu-1.*\d+%/s.test(text));
    assert.ok(progressShown, `a progress notification with a percent among ${JSON.stringify(await seen())}`);
    console.log(`✓ the progress notification shows the percent: ${progressShown}`);
    const seeds = (await webview.locator('#gallery figcaption').allTextContents()).map((c) => /seed (\d+)/.exec(c)?.[1]);
    assert.equal(new Set(seeds).size, 3, `three different seeds: ${seeds.join(', ')}`);
    const image = cards.first().locator('img.thumb');
    assert.ok(await image.evaluate((i: HTMLImageElement) => new Promise<boolean>((resolve) => (i.complete ? resolve(i.naturalWidth > 0) : (i.onload = () => resolve(i.naturalWidth > 0))))));
    await runCommand(page, 'Notifications: Hide Notifications');
    await webview.locator('#gallery').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'gallery.png') });
    console.log(`✓ three runs in the gallery, seeds ${seeds.join(', ')}`);

    await cards.nth(0).locator('.compare-tick').check();
    await cards.nth(1).locator('.compare-tick').check();
    await webview.locator('#compare').click();
    await webview.locator('#overlay .enlarged').nth(1).waitFor();
    assert.deepEqual(await webview.locator('#overlay .enlarged dd.differs').count() >= 2, true);
    await page.screenshot({ path: join(shots, 'gallery-compare.png') });
    await webview.locator('#overlay-close').click();
    console.log('✓ two runs compared side by side');

    const seedOf = async () => webview.locator('#field-seed').inputValue();
    await cards.nth(2).locator('button.restore').click();
    for (let i = 0; (await seedOf()) !== seeds[2]; i++) {
      if (i > 50) throw new Error(`restore never set the seed to ${seeds[2]} (form: ${await seedOf()})`);
      await page.waitForTimeout(200);
    }
    console.log('✓ "Restore these parameters" put the run’s seed back into the file');

    const folder = join(code.workspace, 'comfy-outputs', 'txt2img');
    const files = readdirSync(folder).filter((f) => f.endsWith('.png'));
    assert.equal(files.length, 3, `three images in ${folder}`);
    assert.equal(readFileSync(join(folder, files[0]!)).subarray(1, 4).toString(), 'PNG');
    const gallery = JSON.parse(readFileSync(join(folder, 'gallery.json'), 'utf8')) as { entries: { images: string[]; workflow: string }[] };
    assert.deepEqual(gallery.entries.flatMap((e) => e.images).sort(), files.sort());
    assert.ok(gallery.entries.every((e) => e.workflow === 'workflows/txt2img.comfy.json'));
    console.log(`✓ the images and the gallery are saved under comfy-outputs/txt2img/ (${files.join(', ')})`);
  } catch (error) {
    const page = browser.contexts()[0]?.pages()[0];
    const shot = join(tmpdir(), `comfy-vast-e2e-failure-${process.pid}.png`);
    await page?.screenshot({ path: shot }).catch(() => undefined);
    const toasts = await page?.locator('.notification-toast, .notification-list-item').allInnerTexts().catch(() => []);
    console.error(`failed; screenshot ${shot}; notifications: ${JSON.stringify(toasts)}`);
    throw error;
  } finally {
    await browser.close();
    await code.stop();
    await api.stop();
  }
}

await main();
