import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import { listenOnLoopback } from '../listen.js';
import { startFakeComfy, type ModelFiles } from '../fake-comfy/index.js';
import { sshKeyPair, startFakeSsh, VirtualHost, type FakeSsh, type VirtualHostOptions } from '../fake-ssh/index.js';
import { defaultCatalogue, type FakeOffer } from './catalogue.js';
import { matchesOps } from './filters.js';
import { instanceView, pricing, type FakeInstance } from './instances.js';
import { FakeRateLimits, type FakeVastEndpoint } from './rate-limits.js';
import { StateFile, type FakeSshKey } from './state-file.js';
import { imageDisk } from './image-disk.js';

/**
 * `port` is the one the instance's ComfyUI served on before a restart: worth trying, since records point at it.
 * `modelFiles` tells the complete files on the instance's disk, which its ComfyUI lists.
 */
export type StartComfy = (opts: { token: string; port?: number; modelFiles?: () => ModelFiles }) => Promise<{ url: string; close(): Promise<void> }>;

export interface FakeVastOptions {
  /** The key the fake accepts (random by default). */
  apiKey?: string;
  /** Port on 127.0.0.1 (default 0: an ephemeral one). */
  port?: number;
  /** Divides every delay (loading, stopping): 1 is Vast-like, 1000 makes a 30 s load take 30 ms. */
  speed?: number;
  /** How long an instance loads before it runs, before the speed factor (default 30 s). */
  loadingMs?: number;
  /** How long a stop takes, before the speed factor (default 5 s). */
  stoppingMs?: number;
  /** Minimum interval per endpoint; 0 turns the limit off. Defaults are Vast's thresholds. */
  intervalsMs?: Partial<Record<FakeVastEndpoint, number>>;
  offers?: FakeOffer[];
  /** The fake's time source, so tests can share a manual clock with the client (default Date.now). */
  now?: () => number;
  /** Starts the ComfyUI a running instance serves (default: the testkit's fake ComfyUI). */
  startComfy?: StartComfy;
  /**
   * The disk behind each instance's SSH server (see `VirtualHostOptions`): what URLs serve, progress lines per
   * download (default 20), free space. `tickMs`, the time between two lines of a job, is before the speed factor
   * (default 2 s).
   */
  sshHosts?: Pick<VirtualHostOptions, 'tickMs' | 'remoteFiles' | 'defaultBytes' | 'progressSteps' | 'freeBytes'>;
  /** Adds stray whitespace and newlines around strings, as Vast's answers sometimes have. */
  messyStrings?: boolean;
  /**
   * A JSON file that keeps the instances, the SSH keys and the id counter across restarts, as Vast keeps them
   * across ours: loaded on start (running instances serve a ComfyUI again), saved before each change is answered.
   * Without it everything lives in memory.
   */
  stateFile?: string;
}

/** A response a test forces on the next call(s) to an endpoint. */
export interface InjectedResponse {
  status: number;
  /** JSON body; `text` sends a plain-text body instead. */
  body?: unknown;
  text?: string;
  /** How many calls get it (default 1). */
  times?: number;
}

export interface FakeVast {
  url: string;
  apiKey: string;
  close(): Promise<void>;
  /** Forces the next call(s) to `endpoint` to answer `response`. */
  inject(endpoint: FakeVastEndpoint, response: InjectedResponse): void;
  setSpeed(speed: number): void;
  setInterval(endpoint: FakeVastEndpoint, ms: number): void;
  /** Answer searches with the whole catalogue, as Vast has been seen to drop filters. */
  ignoreFilters(on: boolean): void;
  /** Marks an offer taken by someone else: renting it answers 404 `no_such_ask`. */
  takeOffer(offerId: number): void;
  /** The offers still rentable: not taken, on a machine with enough free GPUs. */
  offers(): FakeOffer[];
  /** Rents directly, as another client of the account would (no rate limit, no ComfyUI). */
  addInstance(options?: { label?: string | null; env?: Record<string, string>; running?: boolean }): number;
  /** The instance as the API shows it now, or undefined once destroyed. */
  instance(id: number): Record<string, unknown> | undefined;
  instanceIds(): number[];
  /** Forces an instance's status (`exited`, `unknown`, `offline`, ...) with a message; null goes back to normal. */
  forceStatus(id: number, status: { actual_status: string; status_msg: string } | null): void;
  /** Every call received, in order: method, path (no query) and whether its key was right. */
  calls(): Array<{ method: string; path: string; authorized: boolean }>;
  /**
   * The SSH server of an instance while it serves one (its virtual host, commands, connections), for tests to
   * cut connections, fail downloads, change free space or line speed; undefined while the instance is not served.
   */
  ssh(id: number): FakeSsh | undefined;
}

interface Ctx {
  req: IncomingMessage;
  res: ServerResponse;
  params: string[];
  query: URLSearchParams;
  body: Record<string, unknown>;
}

interface Route {
  method: string;
  pattern: RegExp;
  endpoint: FakeVastEndpoint | null;
  handle: (ctx: Ctx) => Promise<void> | void;
}

const CONTROL_KEYS = new Set(['order', 'type', 'limit', 'allocated_storage', 'disable_bundling']);

/** Starts a fake Vast.ai REST API on 127.0.0.1 with an ephemeral port, true to the shapes recorded from the real one. */
export async function startFakeVast(options: FakeVastOptions = {}): Promise<FakeVast> {
  const apiKey = options.apiKey ?? randomBytes(32).toString('hex');
  const now = options.now ?? Date.now;
  // The instance's disk holds its models: its ComfyUI has none of its own.
  const startComfy: StartComfy = options.startComfy ?? ((o) => startFakeComfy({ token: o.token, port: o.port, models: {}, modelFiles: o.modelFiles }));
  const limits = new FakeRateLimits(options.intervalsMs ?? {});
  const injected = new Map<FakeVastEndpoint, InjectedResponse[]>();
  const catalogue = new Map<number, FakeOffer>((options.offers ?? defaultCatalogue()).map((o) => [o.id, o]));
  // A machine has as many GPUs as its largest offer; each rented instance holds its offer's GPUs until destroyed.
  const machineGpus = new Map<number, number>();
  for (const o of catalogue.values()) machineGpus.set(o.machine_id, Math.max(machineGpus.get(o.machine_id) ?? 0, o.num_gpus));
  const takenByOthers = new Set<number>();
  const stateFile = options.stateFile === undefined ? undefined : new StateFile(options.stateFile);
  const saved = await stateFile?.load();
  const instances = new Map<number, FakeInstance>(saved?.instances.map((i) => [i.id, i]));
  const comfies = new Map<number, { url: string; close(): Promise<void> }>();
  // Hosts outlive their servers: a stopped instance keeps its disk.
  const hosts = new Map<number, VirtualHost>();
  const sshServers = new Map<number, FakeSsh>();
  const sshKeys: FakeSshKey[] = saved?.sshKeys ?? [];
  const callLog: Array<{ method: string; path: string; authorized: boolean }> = [];
  let speed = options.speed ?? 1;
  let filtersIgnored = false;
  let lastInstanceId = saved?.lastInstanceId ?? 20_000_000;
  let lastPort = saved?.lastPort ?? 41_000;
  const loadingMs = () => (options.loadingMs ?? 30_000) / speed;
  const stoppingMs = () => (options.stoppingMs ?? 5_000) / speed;
  const sshTickMs = () => (options.sshHosts?.tickMs ?? 2_000) / speed;
  const pad = (s: string) => (options.messyStrings ? ` ${s}\n ` : s);

  const instanceOr404 = (ctx: Ctx): FakeInstance | undefined => {
    const instance = instances.get(Number(ctx.params[0]));
    if (!instance) send(ctx.res, 404, { success: false, error: 'no_such_instance', msg: `Instance ${ctx.params[0]} not found.` });
    return instance;
  };

  const token = (i: FakeInstance) => i.env.WEB_PASSWORD ?? i.env.OPEN_BUTTON_TOKEN ?? 'token';

  const freeGpus = (machineId: number) =>
    [...instances.values()].reduce((free, i) => (i.offer.machine_id === machineId ? free - i.offer.num_gpus : free), machineGpus.get(machineId) ?? 0);
  const available = (offer: FakeOffer) => !takenByOthers.has(offer.id) && freeGpus(offer.machine_id) >= offer.num_gpus;

  const persist = () =>
    stateFile?.save({
      version: 2,
      lastInstanceId,
      lastPort,
      instances: [...instances.values()].map((i) => ({ ...i, host: hosts.get(i.id)?.snapshot() ?? i.host })),
      sshKeys,
    }) ?? Promise.resolve();

  const hostOf = (instance: FakeInstance): VirtualHost => {
    let host = hosts.get(instance.id);
    if (!host) {
      const state = instance.host ?? imageDisk(options.sshHosts?.freeBytes);
      // A failed save is reported by the next change answered over the API, which saves too.
      // Twenty steps make a download's progress visible for a while at any speed.
      host = new VirtualHost({ progressSteps: 20, ...options.sshHosts, tickMs: sshTickMs(), state, onChange: () => void persist().catch(() => undefined) });
      hosts.set(instance.id, host);
    }
    return host;
  };

  // The port it had may be someone else's by now: then any port will do.
  const onPortOr = <T>(port: number | undefined, start: (port?: number) => Promise<T>): Promise<T> =>
    start(port).catch((error: unknown) => {
      if (port === undefined) throw error;
      return start();
    });

  async function startServing(instance: FakeInstance, ports: { comfy?: number; ssh?: number } = {}): Promise<void> {
    if (comfies.has(instance.id)) return;
    const host = hostOf(instance);
    host.start();
    const comfy = await onPortOr(ports.comfy, (port) => startComfy({ token: token(instance), port, modelFiles: () => host.modelFiles() }));
    comfies.set(instance.id, comfy);
    instance.comfyPort = Number(new URL(comfy.url).port);
    instance.sshHostKey ??= sshKeyPair().private;
    const hostKey = instance.sshHostKey;
    const authorizedKeys = () => [...sshKeys.map((k) => k.public_key), ...(instance.sshKeys ?? [])];
    const ssh = await onPortOr(ports.ssh, (port) => startFakeSsh({ host, hostKey, authorizedKeys, port }));
    sshServers.set(instance.id, ssh);
    instance.sshPort = ssh.port;
  }

  async function stopServing(instance: FakeInstance): Promise<void> {
    const comfy = comfies.get(instance.id);
    const ssh = sshServers.get(instance.id);
    comfies.delete(instance.id);
    sshServers.delete(instance.id);
    instance.comfyPort = null;
    hosts.get(instance.id)?.halt();
    await Promise.all([comfy?.close(), ssh?.close()]);
  }

  function newInstance(offer: FakeOffer, fields: Pick<FakeInstance, 'label' | 'image' | 'runtype' | 'env' | 'onstart' | 'disk'>, running: boolean): FakeInstance {
    const instance: FakeInstance = {
      id: ++lastInstanceId,
      offer,
      ...fields,
      intended: 'running',
      settlesAt: running ? now() : now() + loadingMs(),
      forced: null,
      createdAt: now(),
      comfyPort: null,
      sshPort: (lastPort += 100),
    };
    instances.set(instance.id, instance);
    return instance;
  }

  const routes: Route[] = [
    {
      method: 'POST',
      pattern: /^\/api\/v0\/bundles\/$/,
      endpoint: 'search',
      handle: ({ res, body }) => {
        const disk = typeof body.allocated_storage === 'number' ? body.allocated_storage : 8;
        let offers = [...catalogue.values()].filter(available);
        if (!filtersIgnored) offers = offers.filter((o) => matchesQuery(o, body, disk));
        offers.sort(byOrder(body.order, disk));
        const limit = typeof body.limit === 'number' ? body.limit : 64;
        send(res, 200, { offers: offers.slice(0, limit).map((o) => offerView(o, disk, pad)) });
      },
    },
    {
      method: 'PUT',
      pattern: /^\/api\/v0\/asks\/(\d+)\/$/,
      endpoint: 'create',
      handle: async ({ res, params, body }) => {
        const offer = catalogue.get(Number(params[0]));
        if (!offer || !available(offer)) {
          return send(res, 404, { success: false, error: 'no_such_ask', msg: `error 404/3603: no_such_ask Instance type by id ${params[0]} is not available.` });
        }
        if (typeof body.image !== 'string' || body.image.trim() === '') return send(res, 400, { success: false, error: 'invalid_args', msg: 'image is required' });
        if (body.env !== undefined && (typeof body.env !== 'object' || body.env === null || Array.isArray(body.env))) {
          return send(res, 400, { success: false, error: 'invalid_args', msg: 'env must be a dict' });
        }
        const instance = newInstance(
          offer,
          {
            label: typeof body.label === 'string' ? body.label : null,
            image: body.image,
            runtype: typeof body.runtype === 'string' ? body.runtype : 'ssh',
            env: stringRecord(body.env),
            onstart: typeof body.onstart === 'string' ? body.onstart : null,
            disk: typeof body.disk === 'number' ? body.disk : 10,
          },
          false,
        );
        await startServing(instance);
        await persist();
        send(res, 200, { success: true, new_contract: instance.id, instance_api_key: randomBytes(16).toString('hex') });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v0\/instances\/$/,
      endpoint: 'list',
      handle: ({ res }) =>
        send(res, 410, { success: false, error: 'deprecated_endpoint', msg: 'This endpoint is deprecated. Use /api/v1/instances/ instead.' }),
    },
    {
      method: 'GET',
      pattern: /^\/api\/v1\/instances\/$/,
      endpoint: 'list',
      handle: ({ res, query }) => {
        const limit = Math.min(25, Math.max(1, Number(query.get('limit') ?? 25) || 25));
        const after = query.get('after_token');
        let afterId = 0;
        if (after !== null) {
          const decoded = Buffer.from(after, 'base64url').toString('utf8');
          if (!/^\d+$/.test(decoded)) return send(res, 400, { success: false, error: 'invalid_token', msg: 'Invalid pagination token.' });
          afterId = Number(decoded);
        }
        const all = [...instances.values()].sort((a, b) => a.id - b.id);
        const page = all.filter((i) => i.id > afterId).slice(0, limit);
        const last = page.at(-1);
        const more = last !== undefined && all.some((i) => i.id > last.id);
        send(res, 200, {
          success: true,
          instances_found: page.length,
          total_instances: all.length,
          label_counts: {},
          next_token: more ? Buffer.from(String(last.id)).toString('base64url') : null,
          instances: page.map((i) => instanceView(i, now(), pad)),
        });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v0\/instances\/(\d+)\/$/,
      endpoint: 'show',
      handle: ({ res, params }) => {
        const instance = instances.get(Number(params[0]));
        send(res, 200, { instances: instance ? instanceView(instance, now(), pad) : null });
      },
    },
    {
      method: 'PUT',
      pattern: /^\/api\/v0\/instances\/(\d+)\/$/,
      endpoint: 'manage',
      handle: async (ctx) => {
        const instance = instanceOr404(ctx);
        if (!instance) return;
        const { body, res } = ctx;
        if (typeof body.label === 'string') instance.label = body.label;
        if (body.state === 'running' && instance.intended !== 'running') {
          instance.intended = 'running';
          instance.forced = null;
          instance.settlesAt = now() + loadingMs();
          await startServing(instance);
        } else if (body.state === 'stopped' && instance.intended !== 'stopped') {
          instance.intended = 'stopped';
          instance.settlesAt = now() + stoppingMs();
          await stopServing(instance);
        } else if (body.state !== undefined && body.state !== 'running' && body.state !== 'stopped') {
          return send(res, 400, { success: false, error: 'invalid_args', msg: `Invalid state ${String(body.state)}` });
        }
        await persist();
        send(res, 200, { success: true });
      },
    },
    {
      method: 'DELETE',
      pattern: /^\/api\/v0\/instances\/(\d+)\/$/,
      endpoint: 'destroy',
      handle: async (ctx) => {
        const instance = instanceOr404(ctx);
        if (!instance) return;
        instances.delete(instance.id);
        await stopServing(instance);
        hosts.delete(instance.id);
        await persist();
        send(ctx.res, 200, { success: true, msg: 'Instance destroyed.' });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v0\/ssh\/$/,
      endpoint: 'sshKeys',
      handle: ({ res }) => send(res, 200, { ssh_keys: sshKeys }),
    },
    {
      method: 'POST',
      pattern: /^\/api\/v0\/ssh\/$/,
      endpoint: 'sshKeys',
      handle: async ({ res, body }) => {
        if (typeof body.ssh_key !== 'string' || !/^ssh-\S+ \S+/.test(body.ssh_key.trim())) {
          return send(res, 400, { success: false, error: 'invalid_args', msg: 'ssh_key must be the text of a public key' });
        }
        const key = { id: sshKeys.length + 1, user_id: 1, public_key: body.ssh_key, created_at: Math.floor(now() / 1000), deleted_at: null };
        sshKeys.push(key);
        await persist();
        send(res, 200, { success: true, key });
      },
    },
    {
      method: 'POST',
      pattern: /^\/api\/v0\/instances\/(\d+)\/ssh\/$/,
      endpoint: 'instanceSsh',
      handle: async (ctx) => {
        const instance = instanceOr404(ctx);
        if (!instance) return;
        if (typeof ctx.body.ssh_key !== 'string') return send(ctx.res, 400, { success: false, error: 'invalid_args', msg: 'ssh_key is required' });
        instance.sshKeys = [...(instance.sshKeys ?? []), ctx.body.ssh_key];
        await persist();
        send(ctx.res, 200, { success: true, msg: 'SSH key added to instance.' });
      },
    },
    {
      method: 'GET',
      pattern: /^\/api\/v0\/users\/current\/$/,
      endpoint: 'user',
      // The real answer has carried the key; the fake keeps it so clients prove they drop it.
      handle: ({ res }) =>
        send(res, 200, { id: 1, username: 'tester', email: 'tester@example.com', fullname: 'Test User', credit: 25.5, balance: 0, can_pay: true, email_verified: true, api_key: apiKey }),
    },
  ];

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const authorized = req.headers.authorization === `Bearer ${apiKey}`;
    callLog.push({ method: req.method ?? 'GET', path: url.pathname, authorized });
    const route = routes.find((r) => r.method === req.method && r.pattern.test(url.pathname));
    if (!route) return send(res, 404, { success: false, error: 'not_found', msg: `No route ${req.method} ${url.pathname}` });
    if (!authorized) {
      // Show-one answers a bad key with 404, as Vast does on some endpoints.
      const status = route.endpoint === 'show' ? 404 : 401;
      return send(res, status, { success: false, error: 'auth_error', msg: 'Invalid user key' });
    }
    if (route.endpoint) {
      const forced = injected.get(route.endpoint)?.[0];
      if (forced) {
        forced.times = (forced.times ?? 1) - 1;
        if (forced.times <= 0) injected.get(route.endpoint)!.shift();
        return forced.text !== undefined ? sendText(res, forced.status, forced.text) : send(res, forced.status, forced.body ?? {});
      }
      const refusal = limits.check(route.endpoint, now());
      if (refusal) return sendText(res, 429, refusal);
    }
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    if (raw.trim() !== '') {
      try {
        body = JSON.parse(raw) as Record<string, unknown>;
      } catch {
        return send(res, 400, { success: false, error: 'invalid_args', msg: 'Invalid json_body' });
      }
    }
    await route.handle({ req, res, params: route.pattern.exec(url.pathname)!.slice(1), query: url.searchParams, body });
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) send(res, 500, { success: false, error: 'server_error', msg: String(error) });
    });
  });
  const url = await listenOnLoopback(server, options.port);
  const close = async () => {
    // Like our server going down, not the boxes: jobs stay running in the saved state and go on at the next start.
    await Promise.all([...comfies.values(), ...sshServers.values()].map((c) => c.close()));
    comfies.clear();
    sshServers.clear();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await stateFile?.idle();
  };
  // Instances that ran before the restart run on: their ComfyUI and SSH come back, on their old ports when free.
  try {
    for (const instance of instances.values()) {
      const comfy = instance.comfyPort ?? undefined;
      instance.comfyPort = null;
      if (instance.intended === 'running') await startServing(instance, { comfy, ssh: instance.sshPort });
    }
  } catch (error) {
    await close();
    throw error;
  }

  return {
    url,
    apiKey,
    close,
    inject(endpoint, response) {
      const queue = injected.get(endpoint) ?? [];
      queue.push({ ...response });
      injected.set(endpoint, queue);
    },
    setSpeed(value) {
      speed = value;
      for (const host of hosts.values()) host.setTickMs(sshTickMs());
    },
    setInterval(endpoint, ms) {
      limits.set(endpoint, ms);
    },
    ignoreFilters(on) {
      filtersIgnored = on;
    },
    takeOffer(offerId) {
      takenByOthers.add(offerId);
    },
    offers: () => [...catalogue.values()].filter(available),
    addInstance(opts = {}) {
      const offer = [...catalogue.values()].find(available);
      if (!offer) throw new Error('The fake catalogue has no free offer left');
      const instance = newInstance(
        offer,
        { label: opts.label ?? null, image: 'vastai/comfy:@vastai-automatic-tag', runtype: 'ssh_direc ssh_proxy', env: opts.env ?? {}, onstart: null, disk: 20 },
        opts.running ?? true,
      );
      void persist();
      return instance.id;
    },
    instance(id) {
      const instance = instances.get(id);
      return instance ? instanceView(instance, now(), (s) => s) : undefined;
    },
    instanceIds: () => [...instances.keys()],
    forceStatus(id, status) {
      const instance = instances.get(id);
      if (!instance) throw new Error(`No fake instance ${id}`);
      instance.forced = status;
      void persist();
    },
    calls: () => [...callLog],
    ssh: (id) => sshServers.get(id),
  };
}

function matchesQuery(offer: FakeOffer, query: Record<string, unknown>, disk: number): boolean {
  const fields: Record<string, unknown> = { ...offer, ...pricing(offer, disk), rented: false, geolocation: offer.geolocation.split(',').at(-1)?.trim() };
  for (const [key, ops] of Object.entries(query)) {
    if (CONTROL_KEYS.has(key)) continue;
    if (!matchesOps(fields[key], ops)) return false;
  }
  return true;
}

function byOrder(order: unknown, disk: number): (a: FakeOffer, b: FakeOffer) => number {
  const pairs = Array.isArray(order) ? (order as unknown[]).filter((p): p is [string, string] => Array.isArray(p) && typeof p[0] === 'string') : [['score', 'desc'] as [string, string]];
  return (a, b) => {
    const fa: Record<string, unknown> = { ...a, ...pricing(a, disk), score: a.reliability / a.dph_base };
    const fb: Record<string, unknown> = { ...b, ...pricing(b, disk), score: b.reliability / b.dph_base };
    for (const [field, dir] of pairs) {
      const x = Number(fa[field] ?? 0);
      const y = Number(fb[field] ?? 0);
      if (x !== y) return dir === 'desc' ? y - x : x - y;
    }
    return a.id - b.id;
  };
}

function offerView(offer: FakeOffer, disk: number, pad: (s: string) => string): Record<string, unknown> {
  const price = pricing(offer, disk);
  return {
    ...offer,
    ...price,
    gpu_name: pad(offer.gpu_name),
    geolocation: pad(offer.geolocation),
    public_ipaddr: pad(offer.public_ipaddr),
    ask_contract_id: offer.id,
    bundle_id: offer.id + 1_000_000,
    rented: false,
    verification: offer.verified ? 'verified' : 'unverified',
    is_bid: false,
    min_bid: Math.round(offer.dph_base * 0.6 * 10000) / 10000,
    score: offer.reliability / offer.dph_base,
    search: { gpuCostPerHour: offer.dph_base, diskHour: price.storage_total_cost, totalHour: price.dph_total },
  };
}

function stringRecord(value: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) out[k] = String(v);
  return out;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
