import { ComfyVastError } from '@comfy-vast/core';
import type { FastifyInstance } from 'fastify';

/** Deeper JSON than any workflow needs; beyond it, recursive code further in (conversion, storage) could overflow. */
export const MAX_JSON_DEPTH = 256;

function invalidBody(message: string, details: Record<string, unknown> = {}): ComfyVastError {
  return new ComfyVastError('VALIDATION_ERROR', message, { details: { field: 'body', ...details } });
}

/**
 * Refuses a parsed body nested deeper than MAX_JSON_DEPTH or carrying a prototype-poisoning key (`__proto__`,
 * or `constructor.prototype`), which `Object.assign` or a merge further in would turn into a prototype change.
 * Walks with an explicit stack: the value may be a million levels deep.
 */
export function checkJsonValue(value: unknown): void {
  const stack: Array<{ value: unknown; depth: number }> = [{ value, depth: 1 }];
  while (stack.length > 0) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current !== 'object' || current === null) continue;
    if (depth > MAX_JSON_DEPTH) throw invalidBody(`The request body is nested deeper than ${MAX_JSON_DEPTH} levels`, { maxDepth: MAX_JSON_DEPTH });
    if (Array.isArray(current)) {
      for (const item of current) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(current)) {
      const child = (current as Record<string, unknown>)[key];
      const poisoned = key === '__proto__' || (key === 'constructor' && typeof child === 'object' && child !== null && Object.hasOwn(child, 'prototype'));
      if (poisoned) throw invalidBody(`The request body may not carry a "${key}" key`, { key });
      stack.push({ value: child, depth: depth + 1 });
    }
  }
}

/** Parses a JSON body, with the checks of checkJsonValue; an empty body is none. */
export function parseJsonBody(source: string): unknown {
  if (source.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(source);
  } catch (error) {
    throw invalidBody(`The request body is not valid JSON: ${(error as Error).message}`);
  }
  checkJsonValue(value);
  return value;
}

/**
 * The one JSON body parser. An empty body counts as none: the documented `POST /comfy/startup/{id}` sends
 * `Content-Type: application/json` with nothing after it.
 */
export function registerJsonParser(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, text, done) => {
    try {
      done(null, parseJsonBody(typeof text === 'string' ? text : text.toString('utf8')));
    } catch (error) {
      done(error as Error, undefined);
    }
  });
}
