import { ComfyVastError } from '@comfy-vast/core';
import type { FastifyInstance } from 'fastify';

/**
 * JSON bodies, where an empty body counts as none: the documented `POST /comfy/startup/{id}` sends
 * `Content-Type: application/json` with nothing after it.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    const source = typeof text === 'string' ? text : text.toString('utf8');
    if (source.trim() === '') return done(null, undefined);
    try {
      done(null, JSON.parse(source));
    } catch (error) {
      done(new ComfyVastError('VALIDATION_ERROR', `The request body is not valid JSON: ${(error as Error).message}`, { details: { field: 'body' } }), undefined);
    }
  });
}
