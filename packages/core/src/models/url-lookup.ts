import { request, type Dispatcher } from 'undici';
import { z } from 'zod';
import { ComfyVastError } from '../errors/index.js';
import { modelUrlSchema, sha256Schema } from '../remote/inputs.js';
import { silentLogger, type Logger } from '../util/logger.js';
import { tokenFor, type ModelCredentials } from './credentials.js';

/** What is fetched for a requested URL: the file's own URL, and its sha256 and size when the source says them. */
export interface ResolvedModelUrl {
  url: string;
  sha256: string | null;
  bytes: number | null;
}

export interface ModelUrlLookupOptions {
  /** An undici dispatcher (proxy, custom pool); the global one by default. */
  dispatcher?: Dispatcher;
  /** Where Hugging Face answers (default https://huggingface.co); requests keep the path of the model's URL. */
  huggingfaceOrigin?: string;
  /** Where Civitai's public API answers (default https://civitai.com). */
  civitaiOrigin?: string;
  /** Gives up on a lookup after this long (default 15 s). */
  timeoutMs?: number;
  logger?: Logger;
}

const within = (host: string, domain: string) => host === domain || host.endsWith(`.${domain}`);

// Civitai's answers, read only as far as needed (https://developer.civitai.com/site/reference/model-versions).
const civitaiFile = z.object({
  downloadUrl: z.string().optional(),
  primary: z.boolean().optional(),
  sizeKB: z.number().nonnegative().optional(),
  hashes: z.object({ SHA256: z.string().optional() }).partial().optional(),
});
const civitaiVersion = z.object({ id: z.number().int(), downloadUrl: z.string().optional(), files: z.array(civitaiFile).default([]) });
const civitaiModel = z.object({ modelVersions: z.array(civitaiVersion).default([]) });

/**
 * Looks model URLs up before a download: a Civitai model page (`https://civitai.com/models/<id>[/slug]
 * [?modelVersionId=<v>]`) becomes its file's download URL, with the sha256 Civitai lists; a Hugging Face
 * `resolve` URL gives its LFS sha256 from the `X-Linked-Etag` header of a HEAD request (not followed to the CDN).
 */
export class ModelUrlLookup {
  readonly #options: ModelUrlLookupOptions;
  readonly #logger: Logger;

  constructor(options: ModelUrlLookupOptions = {}) {
    this.#options = options;
    this.#logger = options.logger ?? silentLogger;
  }

  /** The URL to fetch and what is known of its file; `sha256` as requested wins over what a source says. */
  async resolve(url: string, sha256: string | undefined, credentials: ModelCredentials = {}): Promise<ResolvedModelUrl> {
    const parsed = new URL(url);
    const page = civitaiPage(parsed);
    if (page) {
      const file = await this.#civitaiFile(page, tokenFor(url, credentials));
      return { ...file, sha256: sha256 ?? file.sha256 };
    }
    if (sha256 === undefined && within(parsed.hostname, 'huggingface.co') && parsed.pathname.includes('/resolve/')) {
      return { url, ...(await this.#huggingFaceEtag(parsed, tokenFor(url, credentials))) };
    }
    return { url, sha256: sha256 ?? null, bytes: null };
  }

  async #civitaiFile(page: { modelId: string; versionId: string | null }, token: string | undefined): Promise<ResolvedModelUrl> {
    const origin = this.#options.civitaiOrigin ?? 'https://civitai.com';
    const version = page.versionId
      ? civitaiVersion.parse(await this.#json(`${origin}/api/v1/model-versions/${page.versionId}`, token, page))
      : civitaiModel.parse(await this.#json(`${origin}/api/v1/models/${page.modelId}`, token, page)).modelVersions[0];
    const file = version?.files.find((f) => f.primary) ?? version?.files[0];
    const found = modelUrlSchema.safeParse(file?.downloadUrl ?? version?.downloadUrl);
    if (!version || !found.success) {
      throw new ComfyVastError('MODEL_NOT_FOUND', 'Civitai lists no downloadable file for this model page', { details: { ...page } });
    }
    const sha = sha256Schema.safeParse(file?.hashes?.SHA256);
    return { url: found.data, sha256: sha.success ? sha.data : null, bytes: file?.sizeKB === undefined ? null : Math.round(file.sizeKB * 1024) };
  }

  async #json(url: string, token: string | undefined, page: object): Promise<unknown> {
    const answer = await this.#request(url, 'GET', token).catch((error: unknown) => {
      throw new ComfyVastError('SERVICE_UNAVAILABLE', 'Civitai cannot be reached to resolve the model page', { details: { ...page }, cause: error });
    });
    if (answer.statusCode === 404) {
      await answer.body.dump();
      throw new ComfyVastError('MODEL_NOT_FOUND', 'Civitai does not know this model or version', { details: { ...page } });
    }
    if (answer.statusCode !== 200) {
      await answer.body.dump();
      throw new ComfyVastError('SERVICE_UNAVAILABLE', `Civitai answered ${answer.statusCode} for the model page`, { details: { ...page, status: answer.statusCode } });
    }
    return answer.body.json().catch(() => {
      throw new ComfyVastError('SERVICE_UNAVAILABLE', 'Civitai answered something other than JSON', { details: { ...page } });
    });
  }

  /** The LFS sha256 and size of a Hugging Face file; nulls when it has none (a small file in git) or cannot be asked. */
  async #huggingFaceEtag(url: URL, token: string | undefined): Promise<Omit<ResolvedModelUrl, 'url'>> {
    const origin = this.#options.huggingfaceOrigin ?? 'https://huggingface.co';
    try {
      const answer = await this.#request(`${origin}${url.pathname}${url.search}`, 'HEAD', token);
      await answer.body.dump();
      if (answer.statusCode >= 400) return { sha256: null, bytes: null };
      const etag = header(answer.headers['x-linked-etag']) ?? header(answer.headers.etag);
      const sha = sha256Schema.safeParse(etag?.replace(/^W\//, '').replaceAll('"', ''));
      if (!sha.success) return { sha256: null, bytes: null };
      const size = Number(header(answer.headers['x-linked-size']));
      return { sha256: sha.data, bytes: Number.isSafeInteger(size) && size >= 0 ? size : null };
    } catch (error) {
      // Without the etag the download still has its size checked; only the checksum is skipped.
      this.#logger.warn({ host: url.hostname, err: (error as Error).message }, 'Hugging Face etag lookup failed');
      return { sha256: null, bytes: null };
    }
  }

  #request(url: string, method: 'GET' | 'HEAD', token: string | undefined): Promise<Dispatcher.ResponseData> {
    const timeout = this.#options.timeoutMs ?? 15_000;
    return request(url, {
      method,
      dispatcher: this.#options.dispatcher,
      headers: { accept: 'application/json', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
  }
}

/** The model and version a Civitai model page names, or null for any other URL. */
export function civitaiPage(url: URL): { modelId: string; versionId: string | null } | null {
  if (!within(url.hostname, 'civitai.com')) return null;
  const match = /^\/models\/(\d{1,12})(?:\/[^/]*)?\/?$/.exec(url.pathname);
  if (!match) return null;
  const version = url.searchParams.get('modelVersionId');
  return { modelId: match[1]!, versionId: version !== null && /^\d{1,12}$/.test(version) ? version : null };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
