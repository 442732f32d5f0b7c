import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactCredentials } from '../src/logger.js';
import { ADMIN_TOKEN, raw, startTestServer, type TestServer } from './helpers.js';
import { openSocket } from './ws-client.js';

/** Query parameter names that carry credentials, each with a value no log line may show. */
const CREDENTIAL_PARAMS = ['token', 'access_token', 'api_key', 'apikey', 'apiKey', 'key', 'password', 'passwd', 'secret', 'client_secret', 'auth', 'refresh_token', 'session', 'signature', 'access%5Ftoken'];
const secretFor = (name: string) => `s3cr3t-${name.replace(/\W/g, '')}-0f9e8d7c`;

describe('logs at trace', () => {
  let server: TestServer;
  let userToken: string;
  beforeAll(async () => {
    server = await startTestServer({ COMFY_VAST_LOG_LEVEL: 'trace', HF_TOKEN: 'hf_modeltoken4c3b2a', CIVITAI_TOKEN: 'civitai-token-5d6e7f' });
    userToken = (await server.admin.createUser({ body: { username: 'logged' } })).token;
  });
  afterAll(async () => server.stop());

  it('never show a credential, in whatever form it was sent, whether the request succeeded or not', async () => {
    const secrets = [ADMIN_TOKEN, userToken, 'basic-pw-7a6b5c', 'url-pw-1d2e3f', 'bogus-bearer-9z8y7x', 'hf_modeltoken4c3b2a', 'civitai-token-5d6e7f'];
    for (const name of CREDENTIAL_PARAMS) {
      const query = `?${name}=${secretFor(name)}&page=2`;
      secrets.push(secretFor(name));
      await raw(server, `/api/users/me${query}`); // 401
      await raw(server, `/api/users/me${query}`, { token: userToken }); // 200
      await raw(server, `/api/no-such-route${query}`, { token: userToken }); // 404
      await raw(server, `/api/comfy/images/%E0%A4%A${query}`); // framework error, anonymous
      await raw(server, `/api/comfy/images/%E0%A4%A${query}`, { token: userToken });
    }
    await raw(server, '/api/users/me', { token: 'bogus-bearer-9z8y7x' });
    await raw(server, '/api/users/me', { headers: { authorization: `Basic ${Buffer.from('admin:basic-pw-7a6b5c').toString('base64')}` } });
    secrets.push(Buffer.from('admin:basic-pw-7a6b5c').toString('base64'));
    // A ComfyUI address with credentials in it: nothing listens there, so attaching it fails and is logged.
    await raw(server, '/api/vast-servers', {
      method: 'POST',
      token: userToken,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'attached', comfyUrl: 'http://alice:url-pw-1d2e3f@127.0.0.1:9/' }),
    });
    const wsBase = server.url.replace('http', 'ws');
    const socket = await openSocket(`${wsBase}/?token=${userToken}`);
    await socket.next((m) => m.type === 'ready');
    socket.close();
    await openSocket(`${wsBase}/api/ws?access_token=${secretFor('ws')}&token=bogus-bearer-9z8y7x`).then(
      (s) => s.close(),
      () => undefined,
    );
    secrets.push(secretFor('ws'));

    const text = server.logs.text;
    expect(server.app.fastify.log.level).toBe('trace');
    expect(text).toContain('/api/users/me?token=[redacted]&page=2');
    expect(text).toContain('access_token=[redacted]');
    expect(text).toContain('access%5Ftoken=[redacted]');
    for (const secret of secrets) expect(text, secret).not.toContain(secret);
  });
});

describe('redactCredentials', () => {
  it('keeps ordinary parameters and valid JSON while removing every credential form', () => {
    const line = JSON.stringify({
      url: '/api/x?gpu=RTX%204090&apiKey=K1&limit=5&x-amz-signature=S1#frag',
      msg: 'could not reach https://bob:hunter2@example.com:8188/prompt?clientId=c1 with Bearer abc.def-ghi',
      nested: { err: 'GET /api/ws?token=T\\"1&b=2' },
    });
    const out = redactCredentials(line);
    expect(JSON.parse(out)).toEqual({
      url: '/api/x?gpu=RTX%204090&apiKey=[redacted]&limit=5&x-amz-signature=[redacted]#frag',
      msg: 'could not reach https://[redacted]@example.com:8188/prompt?clientId=c1 with Bearer [redacted]',
      nested: { err: 'GET /api/ws?token=[redacted]&b=2' },
    });
  });
});
