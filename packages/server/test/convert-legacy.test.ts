import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { raw, startTestServer, type TestServer } from './helpers.js';

/** The core conversion corpus: older files and the prompt ComfyUI's frontend makes of each. */
const corpus = new URL('../../core/test/workflow/corpus/', import.meta.url);
const read = (file: string): unknown => JSON.parse(readFileSync(new URL(file, corpus), 'utf8'));

let server: TestServer;
let token: string;

beforeAll(async () => {
  server = await startTestServer();
  ({ token } = await server.admin.createUser({ body: { username: 'alice' } }));
}, 60_000);
afterAll(async () => server.stop());

async function convert(workflow: unknown) {
  return raw(server, '/api/comfy/convert-workflow', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ workflow }) });
}

describe('POST /api/comfy/convert-workflow on files saved by older frontends', () => {
  for (const [name, what] of [
    ['legacy-seed-boolean', 'a seed control saved as a boolean is skipped and the other widgets stay aligned'],
    ['legacy-group-node-inputs', 'links from outside a legacy group node reach its inner nodes, also through inner reroutes'],
    ['widgets-added-later', 'widgets a node gained after the save are sent with their defaults'],
  ] as const) {
    it(`${name}: ${what}`, async () => {
      const response = await convert(read(`${name}.ui.json`));
      expect(response.status).toBe(200);
      expect(response.body.prompt).toEqual(read(`${name}.api.json`));
      expect(response.body.warnings).toEqual([]);
      // Defaults filled for widgets added later are told as notes, not warnings.
      const codes = (response.body.notes as { code: string }[]).map((n) => n.code);
      expect(codes.every((code) => code === 'widget_default_used')).toBe(true);
      expect(codes.length > 0).toBe(name === 'widgets-added-later');
    });
  }
});
