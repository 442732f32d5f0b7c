/**
 * Runs the fake Vast.ai on its own, to point a comfy-vast server at it as if it were the real one:
 *
 *   npx tsx --conditions=source packages/testkit/src/fake-vast/main.ts --port 7070 --speed 100
 *   COMFY_VAST_PROVIDER=vast VAST_API_URL=http://127.0.0.1:7070 VAST_API_KEY=<printed key> npx comfy-vast serve
 *
 * The first line printed is `VAST_API_URL=... VAST_API_KEY=...`; the fake stops on SIGINT or SIGTERM.
 */
import { parseArgs } from 'node:util';
import { startFakeVast } from './fake-vast.js';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    speed: { type: 'string', default: '1' },
    key: { type: 'string' },
  },
});

const fake = await startFakeVast({ port: Number(values.port), speed: Number(values.speed), apiKey: values.key });
process.stdout.write(`VAST_API_URL=${fake.url} VAST_API_KEY=${fake.apiKey}\n`);

const stop = () => {
  void fake.close().then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
