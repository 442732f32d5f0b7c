import { writeFileSync } from 'node:fs';
import * as vscode from 'vscode';
import { hostTests } from './suite.js';

interface Outcome {
  name: string;
  ok: boolean;
  error?: string;
}

/**
 * Entry point the extension host calls (`extensionTestsPath`). Results go to the file named by
 * COMFY_VAST_HOST_RESULTS: the host's exit code says 0 even when run() rejects.
 */
export async function run(): Promise<void> {
  const outcomes: Outcome[] = [];
  for (const [name, test] of hostTests) {
    try {
      await test();
      outcomes.push({ name, ok: true });
    } catch (error) {
      outcomes.push({ name, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
    }
  }
  const file = process.env.COMFY_VAST_HOST_RESULTS;
  if (file) writeFileSync(file, JSON.stringify(outcomes, null, 2));
  const failed = outcomes.filter((o) => !o.ok).length;
  console.log(`${outcomes.length - failed} passed, ${failed} failed`);
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}
