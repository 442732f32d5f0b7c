// The README's first command, as a new user runs it: the built server (not the sources the tests load) starts on
// its embedded defaults in a fresh data directory, answers /api/health, rents a simulated GPU server that launches
// ComfyUI, and stops cleanly on SIGTERM. Run after `npm run build`.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = await mkdtemp(join(tmpdir(), 'comfy-vast-smoke-'));
const env = { ...process.env, PORT: '0', COMFY_VAST_DATA: dataDir, COMFY_VAST_SIMULATION_SPEED: '100', COMFY_VAST_PROVIDER: 'simulated' };
delete env.VAST_API_KEY;
const child = spawn(process.execPath, [join(root, 'packages/server/dist/cli.js'), 'serve'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
let output = '';
child.stdout.on('data', (d) => (output += d));
child.stderr.on('data', (d) => (output += d));
const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));

function fail(message) {
  console.error(`smoke: ${message}\n--- server output ---\n${output}`);
  child.kill('SIGKILL');
  process.exit(1);
}

try {
  const deadline = Date.now() + 30_000;
  let url;
  while (!(url = /listening on (http:\/\/\S+)\/api/.exec(output)?.[1])) {
    if (Date.now() > deadline || child.exitCode !== null) fail('the built server did not start listening');
    await new Promise((r) => setTimeout(r, 100));
  }
  const token = (await readFile(join(dataDir, 'admin-token'), 'utf8')).trim();
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const health = await (await fetch(`${url}/api/health`)).json();
  if (health.status !== 'ok' || health.provider !== 'simulated') fail(`unexpected health ${JSON.stringify(health)}`);
  const created = await fetch(`${url}/api/vast-servers`, { method: 'POST', headers, body: JSON.stringify({ name: 'GPU Server 1', gpu: 'RTX 4090' }) });
  if (!created.ok) fail(`renting answered ${created.status}: ${await created.text()}`);
  const { id } = await created.json();
  let server;
  for (let i = 0; i < 100 && !server?.isLaunched; i++) {
    await new Promise((r) => setTimeout(r, 300));
    server = await (await fetch(`${url}/api/vast-servers/${id}`, { headers })).json();
  }
  if (!server?.isLaunched) fail(`the simulated server never launched: ${JSON.stringify(server)}`);
  child.kill('SIGTERM');
  const code = await exited;
  if (code !== 0) fail(`the server exited with ${code} on SIGTERM`);
  if (/Warning/.test(output)) fail('the server printed a process warning');
  console.log(`smoke: the built server started, rented simulated server ${id} (${server.status}, launched) and stopped cleanly`);
} finally {
  await rm(dataDir, { recursive: true, force: true });
}
