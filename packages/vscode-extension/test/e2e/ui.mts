import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createClient } from '@comfy-vast/server/client';
import { launchChromium, startCodeServer } from './code-server.mjs';
import { activeWebview, answerQuickInput, openFromExplorer, runCommand, waitForNotification } from './workbench.mjs';
import { ADMIN_TOKEN, launchGpu, startApiServer } from '../support/api-server.js';

/**
 * End to end, as a person would: the packaged .vsix in code-server, the API server on the simulated provider,
 * sign in, pick the GPU server, open a workflow in the workflow editor, edit a parameter, press Generate,
 * watch the progress notification and the image appear, find the image file in the workspace. Screenshots
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

    const steps = webview.locator('#field-steps');
    const before = Number(await steps.inputValue());
    await steps.fill(String(before + 1));
    await steps.press('Tab');
    await page.locator('.tab.dirty', { hasText: 'txt2img.comfy.json' }).waitFor({ timeout: 10_000 });
    // The seed field changes only when the edited document comes back to the webview.
    const seed = await webview.locator('#field-seed').inputValue();
    await webview.locator('#randomize-seed').click();
    for (let i = 0; (await webview.locator('#field-seed').inputValue()) === seed; i++) {
      if (i > 50) throw new Error('the randomised seed never came back to the form');
      await page.waitForTimeout(200);
    }
    assert.equal(Number(await webview.locator('#field-steps').inputValue()), before + 1);
    console.log('✓ form edits changed the document (dirty tab) and came back to the form');
    await runCommand(page, 'Notifications: Hide Notifications');
    await page.screenshot({ path: join(shots, 'workflow-editor.png') });
    await webview.locator('#graph').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(shots, 'workflow-graph.png') });
    await webview.locator('body').evaluate(() => window.scrollTo(0, 0));

    await webview.locator('#generate').click();
    await waitForNotification(page, /generating txt2img on gpu-1.*\d+%/s, 60_000);
    await page.screenshot({ path: join(shots, 'generate-progress.png') });
    console.log('✓ the progress notification shows the percent');

    const image = webview.locator('#images img').first();
    await image.waitFor({ timeout: 120_000 });
    assert.ok(await image.evaluate((i: HTMLImageElement) => new Promise<boolean>((resolve) => (i.complete ? resolve(i.naturalWidth > 0) : (i.onload = () => resolve(i.naturalWidth > 0))))));
    await page.screenshot({ path: join(shots, 'generate-result.png') });
    console.log('✓ the image appears in the editor');

    const folder = join(code.workspace, 'comfy-outputs', 'txt2img');
    const files = readdirSync(folder).filter((f) => f.endsWith('.png'));
    assert.ok(files.length > 0, `no image in ${folder}`);
    assert.equal(readFileSync(join(folder, files[0]!)).subarray(1, 4).toString(), 'PNG');
    console.log(`✓ the image was saved as comfy-outputs/txt2img/${files[0]}`);
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
