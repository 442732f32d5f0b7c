import { request, type Dispatcher } from 'undici';
import type { z } from 'zod';
import { ComfyVastError, describeIssues } from '../errors/index.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../util/index.js';
import { withTimeout } from '../util/timeout.js';
import { backoffDelay, DEFAULT_BACKOFF, thresholdMs, type BackoffOptions } from './backoff.js';
import { RequestSpacer, type VastEndpoint } from './spacing.js';
import { readVastErrorBody, vastApiError } from './vast-errors.js';
import {
  vastAckSchema,
  vastCreateResultSchema,
  vastInstanceListSchema,
  vastInstanceShowSchema,
  vastOfferListSchema,
  vastSshKeyCreatedSchema,
  vastSshKeyListSchema,
  vastUserSchema,
  type VastInstance,
  type VastOffer,
  type VastSshKey,
  type VastUser,
} from './schemas.js';

export interface VastClientOptions {
  apiKey: string;
  /** Default `https://console.vast.ai`. */
  baseUrl?: string;
  clock?: Clock;
  logger?: Logger;
  /** An undici dispatcher (proxy, custom pool); the global one by default. */
  dispatcher?: Dispatcher;
  /** Minimum spacing per endpoint, overriding Vast's published thresholds (tests use small ones). */
  minIntervalsMs?: Partial<Record<VastEndpoint, number>>;
  backoff?: BackoffOptions;
  /** Source of jitter, in [0, 1). */
  random?: () => number;
  /** Per-request timeout on the clock (default 120 s, as the CLI). */
  timeoutMs?: number;
}

/** The body of a rent request besides `client_id`. `env` is an object: a string is refused by Vast. */
export interface VastCreateRequest {
  image: string;
  disk: number;
  env: Record<string, string>;
  runtype: string;
  onstart?: string;
  label?: string;
  target_state?: 'running' | 'stopped';
  cancel_unavail?: boolean;
}

/** An offer search body: filter fields as `{op: value}` plus `order`, `type`, `limit`, `allocated_storage`. */
export type VastOfferQuery = Record<string, unknown>;

type Retry = 'transient' | 'rateLimitOnly';

interface Call<S extends z.ZodType> {
  endpoint: VastEndpoint;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Record<string, string>;
  body?: unknown;
  schema: S;
  /** Non-idempotent calls (rent) retry only on 429, which Vast answers before doing anything. */
  retry?: Retry;
}

type Outcome = { kind: 'response'; status: number; text: string } | { kind: 'unreachable'; error: Error };

const PAGE_SIZE = 25;
const RETRY_STATUSES = new Set([429, 502, 503, 504]);

/**
 * A typed client of Vast.ai's REST API. Calls to one endpoint are spaced by its minimum interval, transient
 * failures are retried with jittered backoff until a deadline, every answer is validated, and every failure
 * becomes a VAST_API_ERROR. The API key travels only in the Authorization header: it is never logged and is
 * scrubbed from every message that could echo it.
 */
export class VastClient {
  readonly #apiKey: string;
  readonly #baseUrl: string;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #dispatcher: Dispatcher | undefined;
  readonly #spacer: RequestSpacer;
  readonly #backoff: Required<BackoffOptions>;
  readonly #random: () => number;
  readonly #timeoutMs: number;

  constructor(options: VastClientOptions) {
    if (!options.apiKey?.trim()) throw new ComfyVastError('VALIDATION_ERROR', 'A Vast.ai API key is required');
    this.#apiKey = options.apiKey.trim();
    this.#baseUrl = (options.baseUrl ?? 'https://console.vast.ai').replace(/\/+$/, '');
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'vast' });
    this.#dispatcher = options.dispatcher;
    this.#spacer = new RequestSpacer(this.#clock, options.minIntervalsMs);
    this.#backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.#random = options.random ?? Math.random;
    this.#timeoutMs = options.timeoutMs ?? 120_000;
  }

  /** Offers matching `query` (`POST /api/v0/bundles/`), in Vast's order. */
  async searchOffers(query: VastOfferQuery): Promise<VastOffer[]> {
    const result = await this.#call({ endpoint: 'search', method: 'POST', path: '/api/v0/bundles/', body: query, schema: vastOfferListSchema });
    return result.offers;
  }

  /** Rents offer `offerId` and returns the new instance id (Vast's `new_contract`, not the offer id). */
  async createInstance(offerId: number, settings: VastCreateRequest): Promise<number> {
    const result = await this.#call({
      endpoint: 'create',
      method: 'PUT',
      path: `/api/v0/asks/${offerId}/`,
      body: { client_id: 'me', ...settings },
      schema: vastCreateResultSchema,
      retry: 'rateLimitOnly',
    });
    return result.new_contract;
  }

  /** Every instance of the account, following `next_token` over pages of 25 (`GET /api/v1/instances/`). */
  async listInstances(): Promise<VastInstance[]> {
    const all: VastInstance[] = [];
    let token: string | null | undefined;
    do {
      const query: Record<string, string> = { limit: String(PAGE_SIZE) };
      if (token) query.after_token = token;
      const page = await this.#call({ endpoint: 'list', method: 'GET', path: '/api/v1/instances/', query, schema: vastInstanceListSchema });
      all.push(...page.instances);
      token = page.next_token;
    } while (token);
    return all;
  }

  /** One instance, or null when Vast does not know it (destroyed or never ours). */
  async getInstance(id: number): Promise<VastInstance | null> {
    const result = await this.#call({ endpoint: 'show', method: 'GET', path: `/api/v0/instances/${id}/`, query: { owner: 'me' }, schema: vastInstanceShowSchema });
    return result.instances;
  }

  async startInstance(id: number): Promise<void> {
    await this.#manage(id, { state: 'running' });
  }

  /** Stops the container: the GPU stops billing, the disk keeps billing until destroy. */
  async stopInstance(id: number): Promise<void> {
    await this.#manage(id, { state: 'stopped' });
  }

  async setLabel(id: number, label: string): Promise<void> {
    await this.#manage(id, { label });
  }

  /** Destroys the instance and its disk, which ends all billing. Irreversible. */
  async destroyInstance(id: number): Promise<void> {
    await this.#call({ endpoint: 'destroy', method: 'DELETE', path: `/api/v0/instances/${id}/`, body: {}, schema: vastAckSchema });
  }

  async listSshKeys(): Promise<VastSshKey[]> {
    return this.#call({ endpoint: 'sshKeys', method: 'GET', path: '/api/v0/ssh/', schema: vastSshKeyListSchema });
  }

  /** Registers a public key (its text, not a path) with the account; new instances get it. */
  async addSshKey(publicKey: string): Promise<VastSshKey | null> {
    const result = await this.#call({ endpoint: 'sshKeys', method: 'POST', path: '/api/v0/ssh/', body: { ssh_key: publicKey }, schema: vastSshKeyCreatedSchema });
    return result.key ?? null;
  }

  /** Adds a public key to one instance, since account keys are not reliably copied to running ones. */
  async attachSshKey(instanceId: number, publicKey: string): Promise<void> {
    await this.#call({ endpoint: 'instanceSsh', method: 'POST', path: `/api/v0/instances/${instanceId}/ssh/`, body: { ssh_key: publicKey }, schema: vastAckSchema });
  }

  /** The account behind the key, with its credit. Only whitelisted fields are kept. */
  async getCurrentUser(): Promise<VastUser> {
    return this.#call({ endpoint: 'user', method: 'GET', path: '/api/v0/users/current/', schema: vastUserSchema });
  }

  async #manage(id: number, body: Record<string, string>): Promise<void> {
    await this.#call({ endpoint: 'manage', method: 'PUT', path: `/api/v0/instances/${id}/`, body, schema: vastAckSchema });
  }

  async #call<S extends z.ZodType>(call: Call<S>): Promise<z.infer<S>> {
    const started = this.#clock.now();
    for (let attempt = 0; ; attempt++) {
      await this.#spacer.acquire(call.endpoint);
      const outcome = await this.#send(call);
      if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) return this.#parse(call, outcome.status, outcome.text);
      const error = this.#failure(call, outcome);
      if (!this.#retryable(call, outcome)) throw error;
      let delay = backoffDelay(attempt, this.#backoff, this.#random);
      if (outcome.kind === 'response' && outcome.status === 429) delay = Math.max(delay, thresholdMs(outcome.text) ?? 0);
      if (this.#clock.now() + delay - started > this.#backoff.deadlineMs) throw error;
      this.#logger.warn({ method: call.method, path: call.path, status: outcome.kind === 'response' ? outcome.status : null, attempt, delayMs: delay }, 'Vast.ai call failed; retrying');
      this.#spacer.holdOff(call.endpoint, delay);
    }
  }

  async #send(call: Call<z.ZodType>): Promise<Outcome> {
    const url = new URL(this.#baseUrl + call.path);
    for (const [k, v] of Object.entries(call.query ?? {})) url.searchParams.set(k, v);
    try {
      return await withTimeout(this.#clock, this.#timeoutMs, async (signal) => {
        const res = await request(url, {
          method: call.method,
          headers: {
            authorization: `Bearer ${this.#apiKey}`,
            accept: 'application/json',
            'user-agent': 'comfy-vast',
            ...(call.body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: call.body === undefined ? undefined : JSON.stringify(call.body),
          dispatcher: this.#dispatcher,
          signal,
        });
        const text = await res.body.text();
        this.#logger.debug({ method: call.method, path: call.path, status: res.statusCode }, 'Vast.ai call');
        return { kind: 'response', status: res.statusCode, text };
      });
    } catch (error) {
      return { kind: 'unreachable', error: error instanceof Error ? error : new Error(String(error)) };
    }
  }

  #retryable(call: Call<z.ZodType>, outcome: Outcome): boolean {
    if (outcome.kind === 'unreachable') return call.retry !== 'rateLimitOnly';
    if (outcome.status === 429) return true;
    return call.retry !== 'rateLimitOnly' && RETRY_STATUSES.has(outcome.status);
  }

  #failure(call: Call<z.ZodType>, outcome: Outcome): ComfyVastError {
    if (outcome.kind === 'unreachable') {
      const code = (outcome.error as { code?: unknown }).code;
      return new ComfyVastError('VAST_API_ERROR', this.#scrub(`Could not reach Vast.ai at ${this.#baseUrl} (${call.method} ${call.path}): ${outcome.error.message}`), {
        details: { vastStatus: null, vastError: typeof code === 'string' ? code : 'connection_error', method: call.method, path: call.path },
      });
    }
    const body = readVastErrorBody(outcome.text);
    return vastApiError(outcome.status, { word: body.word, message: this.#scrub(body.message) }, call);
  }

  #parse<S extends z.ZodType>(call: Call<S>, status: number, text: string): z.infer<S> {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      // An empty or HTML answer is never "nothing there": treating it so once hid every instance of an account.
      throw vastApiError(status, { word: 'invalid_response', message: 'the answer is not JSON' }, call);
    }
    if (typeof json === 'object' && json !== null && (json as { success?: unknown }).success === false) {
      const body = readVastErrorBody(text);
      throw vastApiError(status, { word: body.word, message: this.#scrub(body.message) }, call);
    }
    const parsed = call.schema.safeParse(json);
    if (!parsed.success) {
      const fields = describeIssues(parsed.error);
      throw new ComfyVastError('VAST_API_ERROR', `Unexpected answer from Vast.ai to ${call.method} ${call.path}`, {
        details: { vastStatus: status, vastError: 'invalid_response', method: call.method, path: call.path, fields },
      });
    }
    return parsed.data;
  }

  #scrub(text: string): string {
    return text.split(this.#apiKey).join('[redacted]');
  }
}
