/**
 * The framework's floor: fastify with nothing of this project, answering the same bytes as the API after the same
 * Bearer check as the raw baseline, in a callback `onRequest` hook. What this spends above raw node:http is
 * fastify's; what the API spends above this is its own code and the work that code asks of fastify, V8 and the
 * kernel (docs/performance.md splits it).
 */
import Fastify from 'fastify';
import { bearerCheck } from '../lib/bearer.js';
import { serve } from '../lib/serve.js';

const { args, ready } = serve<{ token: string; body: string; headers: Record<string, string> }>({
  url: () => url,
  exit: () => app.close(),
});

const authorized = bearerCheck(args.token);
const app = Fastify({ logger: false });
app.addHook('onRequest', (request, reply, done) => {
  if (!authorized(request.headers.authorization)) return void reply.code(401).send({ error: 'unauthorized' });
  done();
});
app.get('/api/vast-servers', (_request, reply) => {
  reply.headers(args.headers).send(args.body);
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
ready();
