import type { IncomingMessage, ServerResponse } from 'node:http';
import { createHash } from 'node:crypto';
import { MODEL_FOLDERS } from './catalog.js';
import { fileKey, type Engine } from './engine.js';
import { parseJson, parseMultipart, readBody, sendEmpty, sendJson } from './http-util.js';
import { allJobIds, jobOf, type JobStatus } from './jobs.js';
import type { ApiPrompt } from './prompt.js';
import type { QueueItem } from './types.js';
import { validatePrompt } from './validate.js';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const MAX_UPLOAD = 100 * 1024 * 1024;
const MIME: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };

export interface RouteOptions {
  /** false mimics servers older than the jobs API (Dec 2025): `/api/jobs` is 404 and any prompt_id string is accepted. */
  jobsApi: boolean;
  comfyuiVersion: string;
  features: Record<string, unknown>;
}

const queueTuple = (i: QueueItem): unknown[] => [i.number, i.promptId, i.prompt, i.extraData, i.outputs];

/** ComfyUI's HTTP routes over the engine. Returns false when no route matched. */
export async function handle(engine: Engine, opts: RouteOptions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  if (opts.jobsApi && path.startsWith('/api/jobs')) return jobsRoute(engine, method, path, url, res);
  // Every main route also exists under /api (reference §1.1).
  const p = path.startsWith('/api/') ? path.slice(4) : path;
  const route = `${method} ${p}`;

  if (route === 'GET /prompt') return done(sendJson(res, 200, { exec_info: { queue_remaining: engine.queueRemaining() } }));
  if (route === 'POST /prompt') return done(await postPrompt(engine, opts, req, res));
  if (route === 'GET /queue') {
    return done(sendJson(res, 200, { queue_running: engine.running ? [queueTuple(engine.running.item)] : [], queue_pending: engine.pending.map(queueTuple) }));
  }
  if (route === 'POST /queue') {
    const body = (await jsonBody(req)) as { clear?: boolean; delete?: string[] } | undefined;
    if (body?.clear) engine.clearPending();
    if (Array.isArray(body?.delete)) engine.deletePending(body.delete);
    return done(sendEmpty(res, 200));
  }
  if (route === 'POST /interrupt') {
    const body = (await jsonBody(req)) as { prompt_id?: string } | undefined;
    engine.interrupt(body?.prompt_id);
    return done(sendEmpty(res, 200));
  }
  if (route === 'GET /history') {
    let entries = [...engine.history.entries()];
    const max = url.searchParams.get('max_items');
    const offset = Number(url.searchParams.get('offset') ?? -1);
    if (offset >= 0) entries = entries.slice(offset, max ? offset + Number(max) : undefined);
    else if (max) entries = entries.slice(-Number(max));
    return done(sendJson(res, 200, Object.fromEntries(entries)));
  }
  if (method === 'GET' && p.startsWith('/history/')) {
    const id = decodeURIComponent(p.slice('/history/'.length));
    const entry = engine.history.get(id);
    return done(sendJson(res, 200, entry ? { [id]: entry } : {}));
  }
  if (route === 'POST /history') {
    const body = (await jsonBody(req)) as { clear?: boolean; delete?: string[] } | undefined;
    if (body?.clear) engine.history.clear();
    if (Array.isArray(body?.delete)) engine.deleteHistory(body.delete);
    return done(sendEmpty(res, 200));
  }
  if (route === 'GET /view') return done(view(engine, url, req, res));
  if (route === 'POST /upload/image') return done(await upload(engine, req, res));
  if (route === 'GET /object_info') return done(sendJson(res, 200, engine.objectInfo));
  if (method === 'GET' && p.startsWith('/object_info/')) {
    const cls = decodeURIComponent(p.slice('/object_info/'.length));
    const info = engine.objectInfo[cls];
    return done(sendJson(res, 200, info ? { [cls]: info } : {}));
  }
  if (route === 'GET /models') return done(sendJson(res, 200, MODEL_FOLDERS));
  if (method === 'GET' && p.startsWith('/models/')) {
    const folder = decodeURIComponent(p.slice('/models/'.length));
    if (!(MODEL_FOLDERS as readonly string[]).includes(folder)) return done(sendEmpty(res, 404));
    return done(sendJson(res, 200, engine.listModels()[folder] ?? []));
  }
  if (route === 'GET /system_stats') return done(sendJson(res, 200, systemStats(opts.comfyuiVersion)));
  if (route === 'GET /features') return done(sendJson(res, 200, opts.features));
  if (route === 'GET /embeddings') return done(sendJson(res, 200, (engine.listModels().embeddings ?? []).map((n) => n.replace(/\.[^.]+$/, ''))));
  if (route === 'GET /extensions') return done(sendJson(res, 200, []));
  return false;
}

const done = (_: void): true => true;

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  const body = await readBody(req, MAX_UPLOAD);
  return body === 'too-large' ? undefined : parseJson(body);
}

async function postPrompt(engine: Engine, opts: RouteOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req, MAX_UPLOAD);
  if (raw === 'too-large') return sendEmpty(res, 413);
  const body = (parseJson(raw) ?? {}) as {
    prompt?: ApiPrompt;
    client_id?: string;
    prompt_id?: string | null;
    number?: number;
    front?: boolean;
    extra_data?: Record<string, unknown>;
  };
  const promptError = (type: string, message: string, details: string) => sendJson(res, 400, { error: { type, message, details, extra_info: {} }, node_errors: {} });
  if (!body.prompt || typeof body.prompt !== 'object') return promptError('no_prompt', 'No prompt provided', 'No prompt provided');
  const promptId = body.prompt_id ?? undefined;
  if (opts.jobsApi && promptId !== undefined && !UUID.test(promptId)) {
    return promptError('invalid_prompt_id', 'Invalid prompt_id', `prompt_id must be a canonical lowercase UUID, got '${promptId}'`);
  }
  const result = validatePrompt(body.prompt, engine.objectInfo);
  if (!result.ok) return sendJson(res, 400, { error: result.error, node_errors: result.nodeErrors });
  const extraData: Record<string, unknown> = { ...(body.extra_data ?? {}) };
  if (body.client_id) extraData.client_id = body.client_id;
  if (opts.jobsApi) extraData.create_time = Date.now();
  const item = engine.enqueue(body.prompt, result.outputs, promptId, body.client_id ?? null, extraData, body.front === true, body.number);
  sendJson(res, 200, { prompt_id: item.promptId, number: item.number, node_errors: result.nodeErrors });
}

function jobsRoute(engine: Engine, method: string, path: string, url: URL, res: ServerResponse): true {
  const cancel = /^\/api\/jobs\/([^/]+)\/cancel$/.exec(path);
  if (method === 'POST' && cancel) {
    const id = decodeURIComponent(cancel[1]!);
    const pending = engine.pending.some((i) => i.promptId === id);
    if (pending) engine.deletePending([id]);
    const interrupted = engine.interrupt(id);
    return done(sendJson(res, 200, { cancelled: pending || interrupted }));
  }
  const one = /^\/api\/jobs\/([^/]+)$/.exec(path);
  if (method === 'GET' && one) {
    const job = jobOf(engine, decodeURIComponent(one[1]!), true);
    return done(job ? sendJson(res, 200, job) : sendJson(res, 404, { error: 'Job not found' }));
  }
  if (method === 'GET' && path === '/api/jobs') {
    const statuses = url.searchParams.get('status')?.split(',') as JobStatus[] | undefined;
    const limit = url.searchParams.has('limit') ? Number(url.searchParams.get('limit')) : undefined;
    const offset = Number(url.searchParams.get('offset') ?? 0);
    if ((limit !== undefined && !(limit >= 0)) || !(offset >= 0)) return done(sendJson(res, 400, { error: 'limit and offset must be non-negative integers' }));
    const jobs = allJobIds(engine)
      .map((id) => jobOf(engine, id, false)!)
      .filter((j) => !statuses || statuses.includes(j.status as JobStatus))
      .sort((a, b) => Number(b.create_time ?? 0) - Number(a.create_time ?? 0));
    const page = jobs.slice(offset, limit === undefined ? undefined : offset + limit);
    return done(sendJson(res, 200, { jobs: page, pagination: { offset, limit: limit ?? null, total: jobs.length, has_more: offset + page.length < jobs.length } }));
  }
  return done(sendEmpty(res, 404));
}

function view(engine: Engine, url: URL, req: IncomingMessage, res: ServerResponse): void {
  let filename = url.searchParams.get('filename') ?? '';
  let type = url.searchParams.get('type') ?? 'output';
  const suffix = / \[(output|input|temp)\]$/.exec(filename);
  if (suffix) {
    type = suffix[1]!;
    filename = filename.slice(0, suffix.index);
  }
  const subfolder = url.searchParams.get('subfolder') ?? '';
  if (!filename || filename.startsWith('/') || filename.includes('..') || !['output', 'input', 'temp'].includes(type)) return sendEmpty(res, 400);
  if (subfolder.startsWith('/') || subfolder.split(/[\\/]/).includes('..')) return sendEmpty(res, 403);
  const file = engine.files.get(fileKey(type, subfolder, filename));
  if (!file) return sendEmpty(res, 404);
  const etag = `"${createHash('sha1').update(file.data).digest('hex').slice(0, 16)}-${file.data.length.toString(16)}"`;
  if (req.headers['if-none-match'] === etag) return sendEmpty(res, 304);
  res.writeHead(200, {
    'content-type': MIME[filename.split('.').pop()!.toLowerCase()] ?? 'application/octet-stream',
    'content-length': file.data.length,
    'content-disposition': `filename="${filename}"`,
    etag,
    'last-modified': new Date(file.mtime).toUTCString(),
    'accept-ranges': 'bytes',
  });
  res.end(file.data);
}

async function upload(engine: Engine, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const raw = await readBody(req, MAX_UPLOAD);
  if (raw === 'too-large') return sendEmpty(res, 413);
  const parts = parseMultipart(raw, req.headers['content-type'] ?? '');
  const image = parts.find((p) => p.name === 'image' && p.filename);
  const field = (name: string) => parts.find((p) => p.name === name)?.data.toString('utf8');
  const type = field('type') || 'input';
  const subfolder = field('subfolder') ?? '';
  const overwrite = ['true', '1'].includes(field('overwrite') ?? '');
  if (!image?.filename || image.filename.includes('/') || image.filename.includes('..') || subfolder.split(/[\\/]/).includes('..') || subfolder.startsWith('/')) {
    return sendEmpty(res, 400);
  }
  let name = image.filename;
  if (!overwrite) {
    const dot = name.lastIndexOf('.');
    const [stem, ext] = dot > 0 ? [name.slice(0, dot), name.slice(dot)] : [name, ''];
    // Same bytes reuse the name; different bytes get "name (1).ext", "name (2).ext"...
    for (let i = 1; ; i++) {
      const existing = engine.files.get(fileKey(type, subfolder, name));
      if (!existing || existing.data.equals(image.data)) break;
      name = `${stem} (${i})${ext}`;
    }
  }
  engine.files.set(fileKey(type, subfolder, name), { data: image.data, mtime: Date.now() });
  engine.invalidateObjectInfo();
  sendJson(res, 200, { name, subfolder, type });
}

function systemStats(version: string): unknown {
  const vram = 25_757_220_864;
  return {
    system: {
      os: 'posix',
      ram_total: 67_108_864_000,
      ram_free: 60_129_542_144,
      comfyui_version: version,
      required_frontend_version: '1.27.10',
      installed_templates_version: null,
      required_templates_version: '0.1.95',
      python_version: '3.11.2 (main, Apr 28 2025, 14:11:48) [GCC 12.2.0]',
      pytorch_version: '2.8.0+cu128',
      embedded_python: false,
      argv: ['main.py', '--listen', '127.0.0.1', '--port', '8188'],
    },
    devices: [{ name: 'cuda:0 NVIDIA GeForce RTX 4090 : cudaMallocAsync', type: 'cuda', index: 0, vram_total: vram, vram_free: vram - 1_073_741_824, torch_vram_total: 0, torch_vram_free: 0 }],
  };
}
