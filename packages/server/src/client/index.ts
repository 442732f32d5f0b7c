import type { z } from 'zod';
import { contract, type Contract, type Endpoint, type EndpointInput, type EndpointName, type EndpointOutput } from '../contract/index.js';
import { ApiError } from './api-error.js';
import { ApiEvents, type WebSocketConstructor } from './events.js';

export { ApiError } from './api-error.js';
export { ApiEvents, type ApiEvent, type SubscribeTarget, type UnsubscribeTarget, type WebSocketConstructor } from './events.js';
export { contract, type Contract, type EndpointName } from '../contract/index.js';
export type { ErrorBody } from '../contract/errors.js';

export interface ClientOptions {
  /** The server's address, e.g. `http://127.0.0.1:5000` (with or without `/api`). */
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
  /** A WebSocket class for `events()`; the global one when there is one, else the `ws` package. */
  WebSocket?: WebSocketConstructor;
  /** Check every answer against the contract's schema (on by default). */
  validate?: boolean;
}

type Args<E extends Endpoint> = object extends EndpointInput<E> ? [input?: EndpointInput<E>] : [input: EndpointInput<E>];

/** One method per operation of the API, named as in the contract, typed from its schemas. */
export type ApiClient = { [K in EndpointName]: (...args: Args<Contract[K]>) => Promise<EndpointOutput<Contract[K]>> } & {
  /** Opens the WebSocket event stream. */
  events(): Promise<ApiEvents>;
};

export function createClient(options: ClientOptions): ApiClient {
  const base = options.baseUrl.replace(/\/+$/, '').replace(/\/api$/, '');
  const doFetch = options.fetch ?? globalThis.fetch;
  const validate = options.validate ?? true;

  async function call(endpoint: Endpoint, input: { params?: Record<string, unknown>; query?: Record<string, unknown>; body?: unknown } = {}): Promise<unknown> {
    const path = endpoint.path.replace(/:(\w+)/g, (_m, name: string) => encodeURIComponent(String(input.params?.[name] ?? '')));
    const url = new URL(`${base}/api${path}`);
    for (const [k, v] of Object.entries(input.query ?? {})) if (v !== undefined && v !== null) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (input.body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await doFetch(url, { method: endpoint.method, headers, body: input.body === undefined ? undefined : JSON.stringify(input.body) });
    } catch (error) {
      throw new ApiError(0, { error: `Cannot reach ${base}: ${(error as Error).message}`, code: 'CONNECTION_FAILED', details: { url: base } });
    }
    if (!response.ok) {
      const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      const retry = response.headers.get('retry-after');
      throw new ApiError(response.status, body, retry === null ? null : Number(retry));
    }
    if (endpoint.response === 'binary') return response.arrayBuffer();
    const json: unknown = await response.json();
    if (!validate) return json;
    const parsed = (endpoint.response as z.ZodType).safeParse(json);
    if (!parsed.success) throw new ApiError(response.status, { error: `The answer of ${endpoint.method} ${endpoint.path} does not match the contract`, code: 'CONTRACT_MISMATCH', details: { issues: parsed.error.issues } });
    return parsed.data;
  }

  const client: Record<string, unknown> = {};
  for (const [name, endpoint] of Object.entries(contract)) client[name] = (input?: Parameters<typeof call>[1]) => call(endpoint, input);
  client.events = async () => {
    if (!options.token) throw new ApiError(401, { error: 'A token is needed for the event stream', code: 'UNAUTHORIZED' });
    const WebSocketImpl = options.WebSocket ?? ((globalThis as { WebSocket?: WebSocketConstructor }).WebSocket ?? ((await import('ws')).default as unknown as WebSocketConstructor));
    return ApiEvents.connect(`${base.replace(/^http/, 'ws')}/api/ws`, options.token, WebSocketImpl);
  };
  return client as ApiClient;
}
