import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { webviewHtml } from '../../src/editor/webview-html.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/** The webview script and the graph engine's stylesheet, bundled the way tsup ships them (IIFE for the browser, workspace sources). */
export async function bundleWebview(): Promise<{ script: string; style: string }> {
  const result = await build({
    entryPoints: [fileURLToPath(new URL('../../src/webview/main.ts', import.meta.url))],
    bundle: true,
    format: 'iife',
    platform: 'browser',
    conditions: ['source'],
    mainFields: ['module', 'main'],
    outdir: 'out',
    write: false,
  });
  const file = (ext: string) => result.outputFiles.find((f) => f.path.endsWith(ext))!.text;
  return { script: file('.js'), style: file('.css') };
}

/** A loopback HTTP server answering from a path → [content type, body] table. */
export async function serve(routes: Record<string, [string, string | Buffer]>): Promise<{ origin: string; server: Server }> {
  const server = createServer((req, res) => {
    const route = routes[req.url ?? ''];
    if (!route) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': route[0] }).end(route[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** A 2×2 red PNG. */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAEElEQVR4nGP4z8AARAwQCgAf7gP9i18U1AAAAABJRU5ErkJggg==',
  'base64',
);

export type Posted = { __posted: unknown[]; __violations: string[]; __errors: string[] };

export interface EditorPage {
  page: Page;
  /** The webview's resource origin (cspSource), also serving a PNG at /img.png. */
  origin: string;
  /** Another origin with the same PNG, which the policy must refuse. */
  foreignOrigin: string;
  send(message: unknown): Promise<void>;
  posted(): Promise<unknown[]>;
  close(): Promise<void>;
}

/**
 * The workflow editor's page as VS Code serves it (the page's policy, the extension's script and stylesheets from
 * the resource origin), with `acquireVsCodeApi` recording what the page posts and keeping its state across reloads.
 */
export async function openEditorPage(browser: Browser, viewport = { width: 1400, height: 1000 }): Promise<EditorPage> {
  const { script, style } = await bundleWebview();
  const css = readFileSync(new URL('../../media/workflow-editor.css', import.meta.url), 'utf8');
  const foreign = await serve({ '/img.png': ['image/png', PNG] });
  const own = await serve({ '/webview.js': ['text/javascript', script], '/webview.css': ['text/css', style], '/style.css': ['text/css', css], '/img.png': ['image/png', PNG] });
  const html = webviewHtml({ cspSource: own.origin, nonce: 'n0nce', scriptUri: `${own.origin}/webview.js`, styleUri: `${own.origin}/style.css`, graphStyleUri: `${own.origin}/webview.css`, title: 'txt2img' });
  const withPage = await serve({ '/': ['text/html', html] });
  const page = await browser.newPage({ viewport });
  await page.addInitScript(() => {
    const w = window as unknown as Posted & { acquireVsCodeApi: unknown };
    w.__posted = [];
    w.__violations = [];
    w.__errors = [];
    window.addEventListener('error', (e) => w.__errors.push(String(e.message)));
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
  return {
    page,
    origin: own.origin,
    foreignOrigin: foreign.origin,
    send: async (message) => void (await page.evaluate((m) => window.postMessage(m, '*'), message)),
    posted: () => page.evaluate(() => (window as unknown as Posted).__posted),
    close: async () => {
      await page.close();
      for (const s of [own.server, foreign.server, withPage.server]) s.close();
    },
  };
}
