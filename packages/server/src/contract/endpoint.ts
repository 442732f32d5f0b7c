import type { z } from 'zod';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

/**
 * One operation of the API: where it lives, who may call it, and the zod schemas of everything that crosses
 * the wire. The same object drives request validation, the OpenAPI document, the typed client and the
 * contract tests.
 */
export interface Endpoint {
  method: HttpMethod;
  /** Under `/api`, in the router's `:param` form. */
  path: string;
  summary: string;
  /** The section of the API reference it belongs to. */
  tag: string;
  auth: 'none' | 'user' | 'admin';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** The success answer's JSON, or `binary` for a file download. */
  response: z.ZodType | 'binary';
  /** The success status (200 unless said). */
  status?: number;
}

export function defineEndpoint<const E extends Endpoint>(endpoint: E): E {
  return endpoint;
}

type Schema<E, K extends 'params' | 'query' | 'body'> = E extends Record<K, infer S extends z.ZodType> ? S : never;

/** What a client passes: only the parts the endpoint has, as they are written before parsing. */
export type EndpointInput<E extends Endpoint> = ([Schema<E, 'params'>] extends [never] ? unknown : { params: z.input<Schema<E, 'params'>> }) &
  ([Schema<E, 'query'>] extends [never] ? unknown : { query?: z.input<Schema<E, 'query'>> }) &
  ([Schema<E, 'body'>] extends [never] ? unknown : { body: z.input<Schema<E, 'body'>> });

/** What a handler receives: the parts after parsing. */
export interface ParsedInput<E extends Endpoint> {
  params: [Schema<E, 'params'>] extends [never] ? Record<string, never> : z.output<Schema<E, 'params'>>;
  query: [Schema<E, 'query'>] extends [never] ? Record<string, never> : z.output<Schema<E, 'query'>>;
  body: [Schema<E, 'body'>] extends [never] ? undefined : z.output<Schema<E, 'body'>>;
}

export type EndpointOutput<E extends Endpoint> = E['response'] extends z.ZodType ? z.output<E['response']> : ArrayBuffer;
