import { z } from 'zod';
import { EventEmitter } from 'eventemitter3';
import { ComfyVastError, parseOrThrow } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { silentLogger, systemClock, type Clock, type Logger } from '../util/index.js';
import {
  buildLaunchSettings,
  DIRECT_PORTS_NEEDED,
  findOffers,
  generateWebPassword,
  instanceEnv,
  rentCheapestOffer,
  serverRequirementsSchema,
  type LaunchOptions,
  type ServerRequirementsInput,
  type VastClient,
} from '../vast/index.js';
import { systemStatsProbe, type ComfyProbe } from './comfy-probe.js';
import { splitComfyUrl } from './comfy-url.js';
import type { ServerEvents } from './events.js';
import { patchFromInstance } from './instance-patch.js';
import { ServerReconciler } from './reconciler.js';
import { parseServerRequest, type ParsedServerRequest } from './requests.js';
import { comfyTargetOf, type Server, type ServerRecord } from './server-record.js';
import { ServerRecords, type NewServer } from './server-records.js';
import type { ServerStatus } from './status.js';
import type { RemoteHost } from '../remote/ssh-runner.js';

export interface ServerServiceOptions {
  store: Store;
  /** Without a client only attached ComfyUIs can be used; renting answers NOT_SUPPORTED. */
  vast?: VastClient;
  clock?: Clock;
  logger?: Logger;
  /** The installation's public key, registered with the account and attached to every new instance. */
  sshPublicKey?: string;
  launch?: LaunchOptions;
  /** Lowest host reliability accepted (default 0.98). */
  reliabilityFloor?: number;
  /** Offers tried when the chosen one is taken before renting (default 3). */
  maxRentAttempts?: number;
  /** Reconciler pass interval (default 30 s). */
  pollIntervalMs?: number;
  probe?: ComfyProbe;
  /** Owner of labelled instances found without a record (default 1). */
  adoptUserId?: number;
  /** `vast` is the simulated Vast.ai: its servers report provider `simulated`. */
  simulated?: boolean;
}

/** What a start or stop did: `initiated` is false when the server was already on its way there (its status says where). */
export interface ServerTransition {
  status: ServerStatus;
  initiated: boolean;
}

/** What the generation service needs to reach a server's ComfyUI. The credentials are for core's own use, never shown. */
export interface ComfyTargetInfo {
  url: string;
  /** Bearer token (the instance's WEB_PASSWORD); absent for an attached ComfyUI without one. */
  token?: string;
  /** `user:password` of a basic-auth proxy in front of an attached ComfyUI. */
  basicAuth?: string;
  status: ServerStatus;
}

/** An offer as shown before renting, built from the Vast.ai payload that its schema already checked. */
export interface OfferSummary {
  offerId: number;
  gpu: string | null;
  gpuCount: number | null;
  cpuCores: number | null;
  ramGb: number | null;
  diskGb: number | null;
  location: string | null;
  reliability: number | null;
  /** `dph_total`: $/hour while running, disk included. */
  pricePerHour: number;
}

/**
 * Servers per user: rent on Vast.ai, attach an existing instance or any ComfyUI, start, stop, delete, and keep
 * records true to Vast through the reconciler. Events (`server:status`, ...) follow the store writes.
 */
export class ServerService extends EventEmitter<ServerEvents> {
  readonly #records: ServerRecords;
  readonly #vast: VastClient | undefined;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #options: ServerServiceOptions;
  readonly #probe: ComfyProbe;
  readonly #reconciler: ServerReconciler;
  #keyRegistered: Promise<void> | null = null;

  constructor(options: ServerServiceOptions) {
    super();
    this.#options = options;
    this.#vast = options.vast;
    this.#clock = options.clock ?? systemClock;
    this.#logger = (options.logger ?? silentLogger).child({ component: 'servers' });
    this.#probe = options.probe ?? systemStatsProbe();
    this.#records = new ServerRecords(options.store, this.#clock, this, { simulated: options.simulated });
    this.#reconciler = new ServerReconciler({
      records: this.#records,
      vast: this.#vast,
      probe: this.#probe,
      clock: this.#clock,
      logger: this.#logger,
      events: this,
      intervalMs: options.pollIntervalMs,
      adoptUserId: options.adoptUserId,
    });
  }

  /** Starts the periodic reconciliation (a first pass runs at once, repairing what a crash left). */
  startReconciler(): void {
    this.#reconciler.start();
  }

  stopReconciler(): void {
    this.#reconciler.stop();
  }

  /** One reconciliation pass now. */
  reconcile(): Promise<void> {
    return this.#reconciler.runOnce();
  }

  list(userId: number): Server[] {
    return this.#records
      .live()
      .filter((r) => r.userId === userId)
      .map((r) => this.#records.describe(r));
  }

  get(userId: number, serverId: number): Server {
    return this.#records.describe(this.#records.owned(userId, serverId));
  }

  /** Every running server of every user, for the scheduler's idle and schedule checks. */
  listRunning(): Array<{ userId: number; server: Server }> {
    return this.listAll().filter((s) => s.server.status === 'running');
  }

  /** One live server of any user with its owner, for the scheduler and budgets; undefined when gone. */
  find(serverId: number): { userId: number; server: Server } | undefined {
    const record = this.#records.get(serverId);
    return record && record.status !== 'deleted' ? { userId: record.userId, server: this.#records.describe(record) } : undefined;
  }

  /** Every live server of every user with its owner, for the scheduler and budgets. */
  listAll(): Array<{ userId: number; server: Server }> {
    return this.#records.live().map((r) => ({ userId: r.userId, server: this.#records.describe(r) }));
  }

  /** Where the server's ComfyUI answers; SERVER_NOT_RUNNING until it runs with a known URL. */
  getComfyTarget(userId: number, serverId: number): ComfyTargetInfo {
    const record = this.#records.owned(userId, serverId);
    const target = record.status === 'running' ? comfyTargetOf(record) : null;
    if (!target) {
      throw new ComfyVastError('SERVER_NOT_RUNNING', `Server ${serverId} is ${record.status}, not running`, { details: { serverId, status: record.status } });
    }
    return { ...target, status: record.status };
  }

  /**
   * Where the server's SSH daemon answers, for setup and models. NOT_SUPPORTED for an attached ComfyUI (comfy-vast
   * has no shell there), SERVER_NOT_RUNNING until the instance runs with a known SSH port.
   */
  getRemoteHost(userId: number, serverId: number): RemoteHost {
    const record = this.#records.owned(userId, serverId);
    if (record.provider === 'attached') {
      throw new ComfyVastError('NOT_SUPPORTED', `Server ${serverId} is an attached ComfyUI: comfy-vast has no SSH access to it`, { details: { serverId, provider: 'attached' } });
    }
    if (record.status !== 'running' || !record.ssh) {
      throw new ComfyVastError('SERVER_NOT_RUNNING', `Server ${serverId} is ${record.status}, not running`, { details: { serverId, status: record.status } });
    }
    return { server: String(record.id), ...record.ssh };
  }

  /** ComfyUI is taken down on purpose (a reset): the server is not launched until the probe sees it answer again. */
  async comfyTakenDown(userId: number, serverId: number): Promise<void> {
    const record = this.#records.owned(userId, serverId);
    if (record.isLaunched) await this.#records.update(record, { isLaunched: false });
  }

  /** Offers that meet a request, cheapest first, to look before renting. */
  async findOffers(input: ServerRequirementsInput): Promise<OfferSummary[]> {
    const req = parseOrThrow(serverRequirementsSchema, input, 'offer query');
    const offers = await findOffers(this.#requireVast(), req, { reliabilityFloor: this.#options.reliabilityFloor, directPorts: DIRECT_PORTS_NEEDED });
    return offers.map((o) => ({
      offerId: o.id,
      gpu: o.gpu_name ?? null,
      gpuCount: o.num_gpus ?? null,
      cpuCores: o.cpu_cores_effective ?? null,
      ramGb: o.cpu_ram === null || o.cpu_ram === undefined ? null : Math.floor(o.cpu_ram / 1000),
      diskGb: o.disk_space ?? null,
      location: o.geolocation ?? null,
      reliability: o.reliability ?? null,
      pricePerHour: o.dph_total,
    }));
  }

  /**
   * A new server, in any of the request's three forms: rent `{name, gpu, ...}`, attach an instance
   * `{name, vastId}` or attach a ComfyUI `{name, comfyUrl, comfyToken?}`.
   */
  async create(userId: number, body: unknown): Promise<Server> {
    const request = parseServerRequest(body);
    const record = await this.#create(userId, request);
    const server = this.#records.describe(record);
    this.emit('server:created', { userId, server });
    return server;
  }

  async start(userId: number, serverId: number): Promise<ServerTransition> {
    const record = this.#controllable(userId, serverId, 'started');
    if (record.status === 'running' || record.status === 'starting' || record.status === 'creating') return { status: record.status, initiated: false };
    await this.#requireVast().startInstance(record.vastId!);
    await this.#records.update(record, { status: 'starting', statusReason: null, isLaunched: false });
    return { status: 'starting', initiated: true };
  }

  /** Stops the GPU billing; the disk keeps billing until the server is deleted. */
  async stop(userId: number, serverId: number): Promise<ServerTransition> {
    const record = this.#controllable(userId, serverId, 'stopped');
    if (record.status === 'stopped' || record.status === 'stopping') return { status: record.status, initiated: false };
    await this.#requireVast().stopInstance(record.vastId!);
    await this.#records.update(record, { status: 'stopping', statusReason: null, isLaunched: false, comfyUrl: null, ssh: null });
    return { status: 'stopping', initiated: true };
  }

  /** Destroys a rented instance (all billing ends, its disk is gone) or forgets an attached server. */
  async delete(userId: number, serverId: number): Promise<void> {
    const record = this.#records.owned(userId, serverId);
    if (record.provider === 'vast' && record.vastId !== null) await this.#destroy(record.vastId);
    await this.#records.update(record, { status: 'deleted', statusReason: null, isLaunched: false, comfyUrl: null, comfyToken: null, comfyBasicAuth: null, ssh: null });
  }

  async #create(userId: number, request: ParsedServerRequest): Promise<ServerRecord> {
    const base: Omit<NewServer, 'provider' | 'status' | 'comfyUrl' | 'comfyToken'> = {
      userId,
      name: request.body.name,
      vastId: null,
      gpu: null,
      gpuCount: null,
      location: null,
      statusReason: null,
      isLaunched: false,
      pricePerHour: 0,
      storagePerHour: 0,
      ssh: null,
    };
    if (request.kind === 'attachComfy') {
      const { comfyToken } = request.body;
      // The URL is shown and put into reasons; a `user:password@` in it is kept apart and only ever sent to ComfyUI.
      const { url: comfyUrl, basicAuth } = splitComfyUrl(request.body.comfyUrl);
      if (basicAuth && comfyToken) {
        throw new ComfyVastError('VALIDATION_ERROR', 'Give the ComfyUI credential either as comfyToken or as user:password in comfyUrl, not both', {
          details: { fields: { comfyToken: 'not allowed with a user and password in comfyUrl' } },
        });
      }
      const ok = await this.#probe({ url: comfyUrl, token: comfyToken ?? null, basicAuth });
      return this.#records.insert({
        ...base,
        provider: 'attached',
        status: ok ? 'running' : 'error',
        statusReason: ok ? null : `ComfyUI at ${comfyUrl} did not answer /system_stats`,
        isLaunched: ok,
        comfyUrl,
        comfyToken: comfyToken ?? null,
        comfyBasicAuth: basicAuth,
      });
    }
    const vast = this.#requireVast();
    if (request.kind === 'attachVast') {
      const vastId = request.body.vastId;
      const existing = this.#records.findByVastId(vastId);
      const taken = existing !== undefined && existing.status !== 'deleted';
      // Asked even when taken, so that another user's instance is answered exactly as a missing one, in time too.
      const instance = await vast.getInstance(vastId);
      if (!instance || (taken && existing.userId !== userId)) throw new ComfyVastError('NOT_FOUND', `No Vast.ai instance ${vastId} on this account`, { details: { vastId } });
      if (taken) throw new ComfyVastError('CONFLICT', `Vast.ai instance ${vastId} is already your server ${existing.id}`, { details: { vastId, serverId: existing.id } });
      const blank = { ...base, provider: 'vast' as const, status: 'creating' as const, comfyUrl: null, comfyToken: instanceEnv(instance, 'WEB_PASSWORD') ?? null };
      return this.#records.insert({ ...blank, ...patchFromInstance(blank, instance) });
    }
    return this.#rent(vast, request.body, base);
  }

  async #rent(vast: VastClient, body: Extract<ParsedServerRequest, { kind: 'create' }>['body'], base: Omit<NewServer, 'provider' | 'status' | 'comfyUrl' | 'comfyToken'>): Promise<ServerRecord> {
    await this.#ensureAccountKey(vast);
    const webPassword = generateWebPassword();
    // Recorded before renting, so the instance's label names a record even if we crash right after the rent.
    const record = await this.#records.insert({ ...base, provider: 'vast', status: 'creating', gpu: body.gpu, gpuCount: body.gpuCount, comfyUrl: null, comfyToken: webPassword });
    const settings = buildLaunchSettings({ serverId: record.id, disk: body.disk, webPassword }, this.#options.launch);
    let rented;
    try {
      rented = await rentCheapestOffer(vast, body, settings, {
        reliabilityFloor: this.#options.reliabilityFloor,
        directPorts: DIRECT_PORTS_NEEDED,
        maxAttempts: this.#options.maxRentAttempts,
        logger: this.#logger,
      });
    } catch (error) {
      await this.#afterFailedRent(record, error);
      throw error;
    }
    const { offer, instanceId } = rented;
    const storage = offer.storage_total_cost ?? ((offer.storage_cost ?? 0) * body.disk) / 720;
    const current = this.#records.get(record.id) ?? record;
    const saved = await this.#records.update(current, { vastId: instanceId, gpu: offer.gpu_name ?? body.gpu, gpuCount: offer.num_gpus ?? body.gpuCount, location: offer.geolocation ?? null, pricePerHour: offer.dph_total, storagePerHour: storage });
    this.#logger.info({ serverId: record.id, vastId: instanceId, offerId: offer.id, pricePerHour: offer.dph_total }, 'Rented a Vast.ai instance');
    if (this.#options.sshPublicKey) {
      await vast.attachSshKey(instanceId, this.#options.sshPublicKey).catch((error: unknown) => {
        this.#logger.warn({ vastId: instanceId, err: (error as Error).message }, 'Could not attach the SSH key to the instance');
      });
    }
    return saved;
  }

  /**
   * A rent that failed before Vast acted (no offer, refused) leaves nothing: the record goes. One whose answer was
   * lost (5xx, connection) may have rented: the record stays in error, and the reconciler links the instance by
   * its label if it exists.
   */
  async #afterFailedRent(record: ServerRecord, error: unknown): Promise<void> {
    const status = error instanceof ComfyVastError ? error.details.vastStatus : undefined;
    const unknownOutcome = error instanceof ComfyVastError && error.code === 'VAST_API_ERROR' && (status === null || (typeof status === 'number' && status >= 500));
    if (!unknownOutcome) return this.#records.discard(record.id);
    await this.#records.update(record, { status: 'error', statusReason: 'The rent answer was lost; the instance is linked here if Vast.ai created it' });
  }

  async #ensureAccountKey(vast: VastClient): Promise<void> {
    const key = this.#options.sshPublicKey;
    if (!key) return;
    this.#keyRegistered ??= (async () => {
      const existing = await vast.listSshKeys();
      const text = key.trim().split(/\s+/).slice(0, 2).join(' ');
      if (existing.some((k) => (k.public_key ?? k.key ?? '').includes(text))) return;
      await vast.addSshKey(key);
    })().catch((error: unknown) => {
      this.#keyRegistered = null;
      this.#logger.warn({ err: (error as Error).message }, 'Could not register the SSH key with the Vast.ai account');
    });
    await this.#keyRegistered;
  }

  async #destroy(vastId: number): Promise<void> {
    try {
      await this.#requireVast().destroyInstance(vastId);
    } catch (error) {
      // Already gone is what we wanted; a bad key is not "gone".
      const gone = error instanceof ComfyVastError && error.details.vastStatus === 404 && !error.details.auth;
      if (!gone) throw error;
    }
  }

  #controllable(userId: number, serverId: number, verb: string): ServerRecord & { vastId: number } {
    const record = this.#records.owned(userId, serverId);
    if (record.provider === 'attached') {
      throw new ComfyVastError('NOT_SUPPORTED', `Server ${serverId} is an attached ComfyUI: it is ${verb} where it runs, not by comfy-vast`, { details: { serverId, provider: 'attached' } });
    }
    if (record.vastId === null) {
      throw new ComfyVastError('CONFLICT', `Server ${serverId} has no Vast.ai instance yet`, { details: { serverId, status: record.status } });
    }
    return record as ServerRecord & { vastId: number };
  }

  #requireVast(): VastClient {
    if (!this.#vast) throw new ComfyVastError('NOT_SUPPORTED', 'No Vast.ai API key is configured: only attached ComfyUI servers can be used');
    return this.#vast;
  }
}
