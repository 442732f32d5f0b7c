import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { DEFAULT_LIMITS, DEFAULT_QUOTAS, SlidingWindowLimiter, type LimitsConfig, type QuotasConfig } from './limits/index.js';
import { LowdbStore, MemoryStore } from './store/index.js';
import type { Store } from './store/store.js';
import { UserService } from './users/index.js';
import { ComfyConnectionPool, type ComfyClient } from './comfy/index.js';
import { GenerationService, type GenerateResult, type GenerationEvent } from './generations/index.js';
import { BudgetService, CostLedger, ScheduleService, SchedulerRunner, ServerScheduleTarget, ServerWatchers, type BudgetStatus, type SchedulerHistoryRecord } from './scheduler/index.js';
import { ServerService, type ServerActionResult, type ServerApi, type ServerStatusEvent } from './servers/index.js';
import { toApiPrompt, type AnalyzeOptions } from './workflow/index.js';
import { AnalysisLog, WorkflowLibrary } from './workflow-library/index.js';
import { InstallationKeys, VastClient, type LaunchOptions } from './vast/index.js';
import { systemClock, type Clock } from './util/clock.js';
import { silentLogger, type Logger } from './util/logger.js';

export interface ComfyVastOptions {
  /** Where records, images and keys live. Without it records stay in memory and images go to a temporary folder. */
  dataDir?: string;
  /** A store of your own; by default the lowdb store in `dataDir`. */
  store?: Store;
  clock?: Clock;
  logger?: Logger;
  /** Overrides of the API contract's rate limits, by limiter. */
  limits?: Partial<LimitsConfig>;
  /** Overrides of what each user may keep stored (default: 500 saved workflows taking at most 50 MiB). */
  quotas?: Partial<QuotasConfig>;
  /** Your Vast.ai account. Without it only attached ComfyUIs can be used. */
  vast?: {
    apiKey: string;
    /** Default `https://console.vast.ai`. */
    baseUrl?: string;
    /** Lowest host reliability accepted when renting (default 0.98). */
    reliabilityFloor?: number;
    /** How often the reconciler asks Vast for every instance (default 30 s). */
    pollIntervalMs?: number;
    /** Docker image and launch settings of new servers. */
    launch?: LaunchOptions;
    /** The account is the simulated Vast.ai (the testkit's fake): its servers report provider `simulated`. */
    simulated?: boolean;
  };
  /** Start background work (the reconciler, the scheduler) on open; default true. */
  autoStart?: boolean;
}

/** Everything the services report, in one place: the API server forwards these to their owners. */
export interface ComfyVastEvents {
  'server:status': [event: ServerStatusEvent];
  'generation:event': [event: GenerationEvent];
  'scheduler:action': [record: SchedulerHistoryRecord];
  'budget:warning': [status: BudgetStatus];
  'budget:exceeded': [status: BudgetStatus];
}

/**
 * The whole library behind one object: it opens the store, builds each service with what it needs and
 * re-emits their events. Every service is also usable on its own.
 */
export class ComfyVast extends EventEmitter<ComfyVastEvents> {
  readonly store: Store;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly users: UserService;
  readonly limiters: Record<keyof LimitsConfig, SlidingWindowLimiter>;
  readonly servers: ServerService;
  readonly workflows: WorkflowLibrary;
  readonly generations: GenerationService;
  /** One long-lived connection per ComfyUI, shared by every service that talks to it. */
  readonly comfy: ComfyConnectionPool;
  readonly analyses: AnalysisLog;
  readonly schedules: ScheduleService;
  readonly scheduler: SchedulerRunner;
  readonly ledger: CostLedger;
  readonly budgets: BudgetService;
  /** Clients watching each server's generations; idle stop waits while anybody watches. */
  readonly watchers: ServerWatchers;

  protected constructor(store: Store, options: ComfyVastOptions & { dataDir: string }, sshPublicKey: string | undefined) {
    super();
    this.store = store;
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.limiters = {
      api: new SlidingWindowLimiter({ rules: limits.api, clock: this.clock }),
      generations: new SlidingWindowLimiter({ rules: limits.generations, clock: this.clock }),
      downloadBytes: new SlidingWindowLimiter({ rules: limits.downloadBytes, clock: this.clock }),
    };
    this.users = new UserService({ store, clock: this.clock, logger: this.logger.child({ service: 'users' }) });
    this.comfy = new ComfyConnectionPool({ clock: this.clock, logger: this.logger.child({ service: 'comfy' }) });
    this.workflows = new WorkflowLibrary({ store, clock: this.clock, quota: { ...DEFAULT_QUOTAS, ...options.quotas }.workflows });
    this.analyses = new AnalysisLog({ store, clock: this.clock });
    this.generations = new GenerationService({
      store,
      clock: this.clock,
      logger: this.logger.child({ service: 'generations' }),
      dataDir: options.dataDir,
      targets: { getComfyTarget: async (userId, serverId) => this.servers.getComfyTarget(userId, serverId) },
      limiter: this.limiters.generations,
      resolveWorkflow: async (userId, workflowId) => toApiPrompt(this.workflows.get(userId, workflowId).workflow).prompt,
      connections: this.comfy,
      pricePerHour: (serverId) => {
        const entry = this.servers.find(serverId);
        return entry ? Number(entry.server.pricePerHour) : null;
      },
      gpuOf: (serverId) => this.servers.find(serverId)?.server.gpu ?? null,
    });

    const vast = options.vast && new VastClient({ apiKey: options.vast.apiKey, baseUrl: options.vast.baseUrl, clock: this.clock, logger: this.logger.child({ service: 'vast' }) });
    this.servers = new ServerService({
      store,
      vast,
      clock: this.clock,
      logger: this.logger.child({ service: 'servers' }),
      sshPublicKey,
      launch: options.vast?.launch,
      reliabilityFloor: options.vast?.reliabilityFloor,
      pollIntervalMs: options.vast?.pollIntervalMs,
      simulated: options.vast?.simulated,
    });
    this.ledger = new CostLedger({ store, clock: this.clock });
    this.schedules = new ScheduleService({ store, clock: this.clock });
    this.watchers = new ServerWatchers({ clock: this.clock, onChange: (serverId) => void this.scheduler.activityChanged(serverId) });
    this.budgets = new BudgetService({
      store,
      ledger: this.ledger,
      clock: this.clock,
      logger: this.logger.child({ service: 'budgets' }),
      enforcer: { listServers: () => target.listServers(), drainAndStop: (serverId, reason) => this.scheduler.drainAndStop(serverId, reason) },
    });
    const target = new ServerScheduleTarget({ servers: this.servers, watchers: this.watchers, budgets: this.budgets, clock: this.clock, generationActivity: (id) => this.generations.activity(id) });
    this.scheduler = new SchedulerRunner({ target, schedules: this.schedules, store, clock: this.clock, logger: this.logger.child({ service: 'scheduler' }) });
    this.#wireEvents(target);
  }

  static async open(options: ComfyVastOptions = {}): Promise<ComfyVast> {
    const store = options.store ?? (options.dataDir ? await LowdbStore.open({ dir: options.dataDir, logger: options.logger, clock: options.clock }) : new MemoryStore());
    // One key pair per installation, attached to every instance so that setup can reach it over SSH.
    const sshPublicKey = options.vast && options.dataDir ? (await new InstallationKeys(join(options.dataDir, 'ssh')).load()).publicKey : undefined;
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'comfy-vast-')));
    const comfyVast = new ComfyVast(store, { ...options, dataDir }, sshPublicKey);
    await comfyVast.workflows.seedBuiltins();
    if (options.autoStart ?? true) {
      comfyVast.servers.startReconciler();
      await comfyVast.generations.start();
      await comfyVast.scheduler.start();
      await comfyVast.budgets.start();
    }
    return comfyVast;
  }

  /** Rents or attaches a server, unless the user's monthly budget is spent. */
  async createServer(userId: number, body: unknown): Promise<ServerApi> {
    this.budgets.assertCanSpend(userId);
    return this.servers.create(userId, body);
  }

  /** Starts a stopped server, unless the user's monthly budget is spent. */
  async startServer(userId: number, serverId: number): Promise<ServerActionResult> {
    this.servers.get(userId, serverId);
    this.budgets.assertCanSpend(userId);
    return this.servers.start(userId, serverId);
  }

  /** Deletes a server and forgets its schedule. */
  async deleteServer(userId: number, serverId: number): Promise<ServerActionResult> {
    const result = await this.servers.delete(userId, serverId);
    await this.schedules.remove(serverId);
    return result;
  }

  /** Queues a generation, unless the server is draining before a stop. */
  async generate(userId: number, serverId: number, request: unknown): Promise<GenerateResult> {
    this.servers.get(userId, serverId);
    this.scheduler.assertAcceptingWork(serverId);
    try {
      return await this.generations.generate(userId, serverId, request);
    } finally {
      await this.scheduler.activityChanged(serverId);
    }
  }

  /** A server as the API lists it, with its idle-stop deadline when one is set. */
  describeServer(server: ServerApi): ServerApi & { idleStopAt: string | null } {
    const at = this.scheduler.idleStopAt(server.id);
    return { ...server, idleStopAt: at === null ? null : new Date(at).toISOString() };
  }

  /** The HTTP client of a running server's ComfyUI; SERVER_NOT_RUNNING otherwise. */
  comfyClient(userId: number, serverId: number): ComfyClient {
    const target = this.servers.getComfyTarget(userId, serverId);
    return this.comfy.get(target).client;
  }

  /** What analysis and conversion need to know of a server: its nodes, its models and its GPU. */
  async serverContext(userId: number, serverId: number): Promise<Required<Pick<AnalyzeOptions, 'objectInfo' | 'serverModels'>> & AnalyzeOptions> {
    const server = this.servers.get(userId, serverId);
    const client = this.comfyClient(userId, serverId);
    const [objectInfo, folders] = await Promise.all([client.objectInfo(), client.modelFolders()]);
    const lists = await Promise.all(folders.map(async (folder) => [folder, await client.modelFiles(folder)] as const));
    return { objectInfo, serverModels: Object.fromEntries(lists), gpu: server.gpu ?? undefined };
  }

  #wireEvents(target: ServerScheduleTarget): void {
    const recordStatus = (server: ServerApi, userId: number) =>
      this.ledger.recordStatus({ id: server.id, userId }, server.status, { pricePerHour: Number(server.pricePerHour), storagePerHour: Number(server.storagePricePerHour) });
    const report = (error: unknown) => this.logger.error({ err: error }, 'event handling failed');
    this.servers.on('server:created', ({ userId, server }) => void recordStatus(server, userId).catch(report));
    this.servers.on('server:status', (event) => {
      target.statusChanged(event.server.id, event.server.status);
      this.generations.serverChanged(event.server.id);
      this.scheduler.serverChanged(event.server.id);
      void recordStatus(event.server, event.userId).catch(report);
      this.emit('server:status', event);
    });
    this.servers.on('server:deleted', ({ userId, server }) => {
      this.scheduler.serverChanged(server.id);
      void recordStatus({ ...server, status: 'deleted' }, userId).catch(report);
    });
    const onGeneration = (event: GenerationEvent) => {
      this.emit('generation:event', event);
      if (event.type === 'progress') return;
      const serverId = this.generations.get(event.userId, event.generationId).serverId;
      void this.scheduler.activityChanged(serverId).catch(report);
    };
    this.generations.on('progress', onGeneration);
    this.generations.on('complete', onGeneration);
    this.generations.on('error', onGeneration);
    this.scheduler.on('scheduler:action', (record) => this.emit('scheduler:action', record));
    this.budgets.on('budget:warning', (status) => this.emit('budget:warning', status));
    this.budgets.on('budget:exceeded', (status) => this.emit('budget:exceeded', status));
  }

  /** Stops background work and flushes the store. */
  async close(): Promise<void> {
    this.scheduler.close();
    this.budgets.close();
    this.servers.stopReconciler();
    await this.generations.close();
    await this.comfy.closeAll();
    await this.store.close();
  }
}
