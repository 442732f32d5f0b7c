import { createServer, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import type { Duplex } from 'node:stream';
import { startFakeComfy } from '@comfy-vast/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiClient } from '@comfy-vast/server/client';
import { raw, startTestServer, until, type TestServer } from './helpers.js';
import { openSocket } from './ws-client.js';

let server: TestServer;
let alice: ApiClient;
let aliceToken: string;
beforeAll(async () => {
  server = await startTestServer({ COMFY_VAST_SIMULATION_SPEED: '100' });
  aliceToken = (await server.admin.createUser({ body: { username: 'alice' } })).token;
  alice = server.client(aliceToken);
});
afterAll(async () => server.stop());

describe('server lifecycle over REST on the simulated provider', () => {
  it('creates, runs with ComfyUI launched, stops, starts and deletes', async () => {
    const created = await alice.createServer({ body: { name: 'GPU Server 1', gpu: 'RTX 4090', gpuCount: 1, cpuCores: 8, ram: 32, disk: 100, location: 'US-East' } });
    expect(created).toMatchObject({ id: expect.any(Number), vastId: expect.stringMatching(/^\d+$/), name: 'GPU Server 1', status: 'creating', pricePerHour: expect.stringMatching(/^\d+\.\d{2}$/) });

    const running = await until(() => alice.listServers(), (list) => list[0]?.status === 'running' && list[0].isLaunched);
    expect(running[0]).toMatchObject({ id: created.id, gpu: 'RTX 4090', isLaunched: true });
    expect(Number.isNaN(Date.parse(running[0]!.createdAt))).toBe(false);

    expect(await alice.stopServer({ params: { id: created.id } })).toEqual({ success: true, message: 'Server stop initiated', status: 'stopping' });
    expect(await alice.stopServer({ params: { id: created.id } })).toMatchObject({ success: true, message: expect.stringMatching(/^Server is already (stopping|stopped)$/) });
    await until(() => alice.getServer({ params: { id: created.id } }), (s) => s.status === 'stopped');
    expect(await alice.startServer({ params: { id: created.id } })).toEqual({ success: true, message: 'Server start initiated', status: 'starting' });
    await until(() => alice.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched);
    expect(await alice.deleteServer({ params: { id: created.id } })).toMatchObject({ success: true, message: 'Server deletion initiated' });
    expect(await alice.listServers()).toEqual([]);
  }, 60_000);

  it("answers the library's server and offers as the spec writes them: the instance id and prices as text", async () => {
    const created = await alice.createServer({ body: { name: 'described', gpu: 'RTX 4090' } });
    const ready = await until(() => alice.getServer({ params: { id: created.id } }), (s) => s.status === 'running' && s.isLaunched);
    const aliceId = (await alice.me()).id;
    const { vastId, pricePerHour, storagePerHour, costSoFar, ...same } = server.comfyVast.getServer(aliceId, created.id);
    expect(ready).toEqual({
      ...same,
      vastId: String(vastId),
      pricePerHour: pricePerHour.toFixed(2),
      storagePricePerHour: storagePerHour.toFixed(4),
      costSoFar: expect.closeTo(costSoFar, 3),
    });
    const [offer] = await alice.listOffers({ query: { gpu: 'RTX 4090' } });
    const [domainOffer] = await server.comfyVast.findOffers({ gpu: 'RTX 4090' });
    expect(offer).toEqual({ ...domainOffer, pricePerHour: domainOffer!.pricePerHour.toFixed(2) });
    await alice.deleteServer({ params: { id: created.id } });
  }, 30_000);

  it("answers another user's server as missing, and never shows the key or the ComfyUI password", async () => {
    const created = await alice.createServer({ body: { name: 'private', gpu: 'RTX 4090' } });
    const bob = await server.admin.createUser({ body: { username: 'bob' } });
    for (const [method, path] of [
      ['GET', `/api/vast-servers/${created.id}`],
      ['POST', `/api/vast-servers/stop/${created.id}`],
      ['POST', `/api/vast-servers/start/${created.id}`],
      ['DELETE', `/api/vast-servers/${created.id}`],
    ] as const) {
      const foreign = await raw(server, path, { method, token: bob.token });
      const missing = await raw(server, path.replace(String(created.id), '99999'), { method, token: bob.token });
      expect(foreign.status).toBe(404);
      expect(foreign.body.code).toBe('SERVER_NOT_FOUND');
      expect(foreign.body.error.replace(/\d+/g, 'N')).toBe(missing.body.error.replace(/\d+/g, 'N'));
    }
    expect(await server.client(bob.token).listServers()).toEqual([]);
    const listed = JSON.stringify(await alice.listServers());
    expect(listed).not.toContain(server.simulation!.apiKey);
    const instance = server.simulation!.instance(Number(created.vastId))!;
    const password = (instance.extra_env as Array<[string, string]>).find(([k]) => k === 'WEB_PASSWORD')![1];
    expect(password.length).toBeGreaterThanOrEqual(16);
    expect(listed).not.toContain(password);
    expect(server.logs.text).not.toContain(server.simulation!.apiKey);
    expect(server.logs.text).not.toContain(password);
  }, 30_000);

  it('validates the create body and answers INSUFFICIENT_RESOURCES when nothing matches', async () => {
    const bad = await raw(server, '/api/vast-servers', { method: 'POST', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', gpu: 'RTX 4090', gpuCount: 'two' }) });
    expect(bad.status).toBe(400);
    expect(bad.body.code).toBe('VALIDATION_ERROR');
    const none = await raw(server, '/api/vast-servers', { method: 'POST', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'x', gpu: 'RTX 4090', gpuCount: 16 }) });
    expect(none.status).toBe(422);
    expect(none.body.code).toBe('INSUFFICIENT_RESOURCES');
  }, 30_000);

  it('lists offers before renting, cheapest first', async () => {
    const offers = await alice.listOffers({ query: { gpu: 'RTX 4090', location: 'US-East' } });
    expect(offers.length).toBeGreaterThan(0);
    const prices = offers.map((o) => Number(o.pricePerHour));
    expect([...prices].sort((a, b) => a - b)).toEqual(prices);
  });

  it('refuses an offer query for a place the library does not know, naming the field', async () => {
    // The contract takes any location; the library knows the regions, and its refusal is a 400, not a crash.
    const unknown = await raw(server, `/api/vast-offers?gpu=RTX%204090&location=${encodeURIComponent('<q/"')}`, { token: aliceToken });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: { location: expect.any(String) } } });
  });
});

function withoutAuthorization(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  return Object.fromEntries(Object.entries(headers).filter((entry): entry is [string, string | string[]] => entry[0] !== 'authorization' && entry[1] !== undefined));
}

/** A reverse proxy with basic auth in front of `target` (HTTP and WebSocket), as people put before a ComfyUI. */
async function basicAuthProxy(target: string, user: string, password: string) {
  const expected = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  const { hostname, port } = new URL(target);
  const seen = { requests: 0, upgrades: 0, refused: 0 };
  const proxy = createServer((req, res) => {
    if (req.headers.authorization !== expected) {
      seen.refused++;
      return void res.writeHead(401, { 'www-authenticate': 'Basic' }).end();
    }
    seen.requests++;
    const upstream = httpRequest({ host: hostname, port, method: req.method, path: req.url, headers: withoutAuthorization(req.headers) }, (answer) => {
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.on('upgrade', (req, socket, head) => {
    if (req.headers.authorization !== expected) {
      seen.refused++;
      return void socket.end('HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n');
    }
    seen.upgrades++;
    const upstream = connect(Number(port), hostname, () => {
      const lines = Object.entries(withoutAuthorization(req.headers)).map(([k, v]) => `${k}: ${String(v)}`);
      upstream.write(`${req.method} ${req.url} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  // Upgraded sockets are no longer the server's to close: they are ended by hand.
  const sockets = new Set<Duplex>();
  proxy.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const close = () => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => proxy.close(() => resolve()));
  };
  return { url, seen, close };
}

describe('credentials of an attached ComfyUI', () => {
  it('takes user:password out of comfyUrl, reaches ComfyUI with it, and never shows it', async () => {
    const comfy = await startFakeComfy({ timing: { speed: 100 } });
    const password = 'pr0xy-pw-5e4d3c';
    const proxy = await basicAuthProxy(comfy.url, 'comfy user', password);
    const encoded = Buffer.from(`comfy user:${password}`).toString('base64');
    const socket = await openSocket(`${server.url.replace('http', 'ws')}/api/ws?token=${aliceToken}`);
    const events: string[] = [];
    socket.ws.on('message', (data) => events.push(String(data)));
    await socket.next((m) => m.type === 'ready');
    try {
      const attached = await alice.createServer({ body: { name: 'behind a proxy', comfyUrl: `${proxy.url.replace('//', '//comfy%20user:' + password + '@')}/` } });
      expect(attached).toMatchObject({ provider: 'attached', status: 'running', isLaunched: true, comfyUrl: proxy.url, statusReason: null });
      socket.send({ type: 'subscribe', serverId: attached.id });
      await socket.next((m) => m.type === 'subscribed');

      // A generation runs through the proxy: its HTTP calls and its socket both carry the credential.
      const started = await alice.generate({ params: { serverId: attached.id }, body: { prompt: 'through the proxy', parameters: { steps: 2, seed: 3 } } });
      const done = await until(() => alice.getProgress({ params: { generationId: started.generationId } }), (p) => p.status === 'completed' || p.status === 'failed');
      expect(done.status).toBe('completed');
      expect(proxy.seen.upgrades).toBeGreaterThan(0);
      expect(proxy.seen.refused).toBe(0);
      // The reconciler's periodic probe carries the credential too, and so keeps the server running.
      await server.comfyVast.reconcile();
      expect(await alice.getServer({ params: { id: attached.id } })).toMatchObject({ status: 'running', statusReason: null });
      expect(proxy.seen.refused).toBe(0);

      const wrong = await alice.createServer({ body: { name: 'wrong password', comfyUrl: proxy.url.replace('//', '//comfy:wrong-pw-0a9b8c@') } });
      expect(wrong).toMatchObject({ status: 'error', comfyUrl: proxy.url });
      expect(wrong.statusReason).toBe(`ComfyUI at ${proxy.url} did not answer /system_stats`);
      await alice.deleteServer({ params: { id: wrong.id } });

      const both = await raw(server, '/api/vast-servers', { method: 'POST', token: aliceToken, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'both', comfyUrl: proxy.url.replace('//', '//u:p@'), comfyToken: 'tok' }) });
      expect(both.status).toBe(400);
      expect(both.body).toMatchObject({ code: 'VALIDATION_ERROR', details: { fields: { comfyToken: expect.any(String) } } });

      const shown = [JSON.stringify(await alice.listServers()), JSON.stringify(await alice.getServer({ params: { id: attached.id } })), server.logs.text, events.join('\n')];
      for (const text of shown) {
        for (const secret of [password, encoded, 'wrong-pw-0a9b8c']) expect(text).not.toContain(secret);
      }
      await alice.deleteServer({ params: { id: attached.id } });
    } finally {
      socket.close();
      await proxy.close();
      await comfy.close();
    }
  }, 60_000);

  it("answers attaching another user's instance exactly as a missing one", async () => {
    const created = await alice.createServer({ body: { name: 'rented by alice', gpu: 'RTX 4090' } });
    const bob = await server.admin.createUser({ body: { username: 'bob-attacher' } });
    const attach = (token: string, vastId: string) =>
      raw(server, '/api/vast-servers', { method: 'POST', token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'mine now', vastId }) });
    const foreign = await attach(bob.token, created.vastId!);
    const missing = await attach(bob.token, '987654321');
    expect(foreign.status).toBe(404);
    expect(foreign.body.code).toBe(missing.body.code);
    expect(foreign.body.error.replace(/\d+/g, 'N')).toBe(missing.body.error.replace(/\d+/g, 'N'));
    expect(Object.keys(foreign.body.details)).toEqual(Object.keys(missing.body.details));
    // Its owner is told it is already theirs.
    expect((await attach(aliceToken, created.vastId!)).status).toBe(409);
    await alice.deleteServer({ params: { id: created.id } });
  }, 30_000);
});
