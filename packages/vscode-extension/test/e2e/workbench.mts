import type { FrameLocator, Locator, Page } from 'playwright-core';

/** Runs a command from the palette; retries while the remote extension host is still registering commands. */
export async function runCommand(page: Page, title: string): Promise<void> {
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
    if (await row.isVisible({ timeout: 1000 }).catch(() => false)) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('Escape');
    await page.waitForTimeout(1000);
  }
  throw new Error(`command never appeared: ${title}`);
}

/**
 * Answers the input box or quick pick titled `title` with a value (typed) or a row (clicked). Waiting for the
 * title matters: the palette that ran the command uses the same widget and may still be showing.
 */
export async function answerQuickInput(page: Page, title: string, answer: { type: string } | { pick: string }): Promise<void> {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible', timeout: 20_000 });
  const input = page.locator('.quick-input-widget input');
  if ('type' in answer) {
    await input.fill(answer.type);
    // Enter is ignored while the extension host is still validating the value: press until the box closes.
    for (let i = 0; i < 20 && (await input.isVisible()); i++) {
      await page.keyboard.press('Enter');
      await page.waitForTimeout(300);
    }
    return;
  }
  await page.locator('.quick-input-list .monaco-list-row', { hasText: answer.pick }).first().click();
}

/** Opens a file from the Explorer by double-click (quick open depends on the search index and is flaky). */
export async function openFromExplorer(page: Page, folder: string, file: string): Promise<void> {
  const rows = page.locator('.explorer-folders-view .monaco-list-row');
  const fileRow = rows.filter({ hasText: file }).first();
  if (!(await fileRow.isVisible().catch(() => false))) await rows.filter({ hasText: folder }).first().click();
  await fileRow.dblclick();
}

/** The DOM of the active webview: two iframes deep. */
export function activeWebview(page: Page): FrameLocator {
  return page.frameLocator('iframe.webview.ready').frameLocator('#active-frame');
}

/**
 * Waits for a notification, as a toast or in the notification center: code-server in a headless browser
 * often files notifications in the center without a toast, so the center is opened when the toast is not there.
 */
export async function waitForNotification(page: Page, text: string | RegExp, timeoutMs = 30_000): Promise<Locator> {
  const item = page.locator('.notification-toast, .notifications-center .notification-list-item', { hasText: text }).first();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await item.isVisible().catch(() => false)) return item;
    if (!(await page.locator('.notifications-center.visible').isVisible().catch(() => false))) await runCommand(page, 'Notifications: Show Notifications');
    await page.waitForTimeout(500);
  }
  throw new Error(`no notification ${String(text)} within ${timeoutMs} ms`);
}

/**
 * Records the text of every notification shown from now on, as a toast or in the notification center, so that a
 * short-lived one (a progress notification of a fast run) is not missed between two polls; resolves with a reader.
 */
export async function recordNotifications(page: Page): Promise<() => Promise<string[]>> {
  // A string, not a function: the test runner's transform would add helpers the page does not have.
  await page.evaluate(`(() => {
    const seen = new Set();
    window.comfyVastNotifications = seen;
    new MutationObserver(() => {
      for (const item of document.querySelectorAll('.notification-toast, .notifications-center .notification-list-item')) {
        const text = item.textContent.trim();
        if (text) seen.add(text);
      }
    }).observe(document.body, { subtree: true, childList: true, characterData: true });
  })()`);
  return () => page.evaluate<string[]>('[...window.comfyVastNotifications]');
}
