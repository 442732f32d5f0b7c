import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium, startCodeServer } from './code-server.mjs';

/**
 * Runs test/host/suite.ts inside code-server's real extension host, with the extension loaded from its
 * source folder as a development extension. Exits non-zero when any test fails or none ran.
 */
const extensionDir = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');

async function main(): Promise<void> {
  const results = join(process.env.TMPDIR ?? '/tmp', `comfy-vast-host-results-${process.pid}.json`);
  const server = await startCodeServer({ workspace: join(extensionDir, 'test/fixtures/workspace'), env: { COMFY_VAST_HOST_RESULTS: results } });
  const browser = await launchChromium();
  try {
    const payload = [
      ['extensionDevelopmentPath', `vscode-remote://${server.authority}${extensionDir}`],
      ['extensionTestsPath', `vscode-remote://${server.authority}${extensionDir}/dist/test/host-tests.cjs`],
    ];
    const page = await browser.newPage();
    await page.goto(`http://${server.authority}/?folder=${server.workspace}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
    for (let i = 0; i < 240 && !existsSync(results); i++) await new Promise((resolve) => setTimeout(resolve, 500));
    if (!existsSync(results)) throw new Error('the in-host tests wrote no results within 2 minutes');
    const outcomes = JSON.parse(readFileSync(results, 'utf8')) as { name: string; ok: boolean; error?: string }[];
    for (const o of outcomes) console.log(`${o.ok ? '✓' : '✗'} ${o.name}${o.error ? `\n    ${o.error.split('\n').join('\n    ')}` : ''}`);
    const failed = outcomes.filter((o) => !o.ok).length;
    console.log(`in-host tests: ${outcomes.length - failed} passed, ${failed} failed`);
    if (failed > 0 || outcomes.length === 0) process.exitCode = 1;
  } finally {
    await browser.close();
    await server.stop();
  }
}

await main();
