/**
 * The HTTP baseline: plain node:http answering the same bytes the API answers, after the same Bearer check
 * (the header parsed, the token hashed as tokens are stored, a map lookup), with nothing else.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { bearerCheck } from '../lib/bearer.js';
import { serve } from '../lib/serve.js';

const { args, ready } = serve<{ token: string; body: string; headers: Record<string, string> }>({
  url: () => `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
  exit: () => new Promise<void>((resolve) => server.close(() => resolve())),
});

const authorized = bearerCheck(args.token);
const body = Buffer.from(args.body);
const server = createServer((req, res) => {
  if (!authorized(req.headers.authorization)) {
    res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"unauthorized"}');
    return;
  }
  res.writeHead(200, { ...args.headers, 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 72_000;
server.listen(0, '127.0.0.1', () => ready());
