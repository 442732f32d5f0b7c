/** Fake ComfyUI servers (the testkit's, real HTTP and WebSocket) in their own process, apart from the API server. */
import { startFakeComfy, type FakeComfy } from '@comfy-vast/testkit';
import { serve } from '../lib/serve.js';

const { args, ready } = serve<{ count: number; nodeMs: number; stepMs: number; previews: boolean }>({
  urls: () => comfies.map((c) => c.url),
  exit: () => Promise.all(comfies.map((c) => c.close())),
});
const comfies: FakeComfy[] = await Promise.all(
  Array.from({ length: args.count }, () => startFakeComfy({ timing: { nodeMs: args.nodeMs, stepMs: args.stepMs }, previews: args.previews })),
);
ready();
