/**
 * The framework's floor: fastify with nothing of this project, answering the same bytes as the API after the same
 * Bearer check as the raw baseline, in a callback `onRequest` hook. What the API spends above this is this project's
 * code; what this spends above raw node:http is fastify's.
 */
import { createHash } from 'node:crypto';
import Fastify from 'fastify';
import { serve } from '../lib/serve.js';

const { args, ready } = serve<{ token: string; body: string; headers: Record<string, string> }>({
  url: () => url,
  exit: () => app.close(),
});

const hash = (token: string) => createHash('sha256').update(token, 'utf8').digest('hex');
const users = new Map([[hash(args.token), { id: 1 }]]);
const app = Fastify({ logger: false });
app.addHook('onRequest', (request, reply, done) => {
  const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
  if (!token || !users.get(hash(token))) return void reply.code(401).send({ error: 'unauthorized' });
  done();
});
app.get('/api/vast-servers', (_request, reply) => {
  reply.headers(args.headers).send(args.body);
});
const url = await app.listen({ port: 0, host: '127.0.0.1' });
ready();
