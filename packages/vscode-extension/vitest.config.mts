import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// 'vscode' exists only inside an extension host: it resolves to an empty stub that test/setup.ts replaces
// with jest-mock-vscode's mock. Two projects: `unit` (Node only, part of every test run) and `webview`
// (needs Chromium: run by scripts/heavy-tests.sh, which installs it).
const shared = {
  root: here('.'),
  resolve: { conditions: ['source'], alias: { vscode: here('./test/stubs/vscode.ts'), '@comfy-vast/core/workflow': here('../core/src/workflow/index.ts') } },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
};

export default defineConfig({
  test: {
    projects: [
      // Most unit files talk to a real API server (simulated GPUs): a loaded CI machine takes some past vitest's default 5 s.
      { ...shared, test: { name: 'unit', include: ['test/unit/**/*.test.ts'], setupFiles: ['test/setup.ts'], pool: 'forks', testTimeout: 30_000 } },
      { ...shared, test: { name: 'webview', include: ['test/webview/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000, pool: 'forks' } },
    ],
  },
});
