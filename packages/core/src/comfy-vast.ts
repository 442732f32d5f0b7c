import { randomUUID } from 'node:crypto';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { DEFAULT_LIMITS, DEFAULT_QUOTAS, RedisRateLimiter, SlidingWindowLimiter, type LimitName, type LimitsConfig, type QuotasConfig, type RateLimiter } from './limits/index.js';
import { LowdbStore, MemoryStore, PostgresStore } from './store/index.js';
import type { Store } from './store/store.js';
import { tokensCollection, UserService } from './users/index.js';
import { ComfyConnectionPool, type ComfyClient } from './comfy/index.js';
import { ComfyVastError, isComfyVastError, parseOrThrow } from './errors/index.js';
import {
  DatabaseImageStore,
  GenerationFollowers,
  GenerationService,
  generationsCollection,
  type ActiveGeneration,
  type GenerateResult,
  type GenerationEvent,
  type GenerationHistoryItem,
  type GenerationProgress,
  type StoredImage,
} from './generations/index.js';
import {
  BudgetService,
  CostLedger,
  ScheduleService,
  SchedulerRunner,
  ServerScheduleTarget,
  ServerWatchers,
  budgetsCollection,
  costEventsCollection,
  schedulerHistoryCollection,
  schedulesCollection,
  type BudgetStatus,
  type ScheduleSide,
  type ScheduleView,
  type SchedulerHistoryRecord,
  type RemoteActivity,
  type ServerInfo,
} from './scheduler/index.js';
import { ServerService, serversCollection, type OfferSummary, type Server, type ServerTransition, type ServerStatusEvent, type ServerStatus } from './servers/index.js';
import type { UserRecord } from './users/index.js';
import { analyzeWorkflow, toApiPrompt, type AnalyzeOptions, type ConversionResult, type ObjectInfo, type WorkflowAnalysis } from './workflow/index.js';
import { AnalysisLog, WorkflowLibrary, type WorkflowInput, type WorkflowRecord } from './workflow-library/index.js';
import { DEFAULT_REMOTE_LAYOUT, SshRunner, StoredHostKeyPins, loadRemoteScript, modelsDirOf, type ModelFileLine, type RemoteHost, type RemoteLayout } from './remote/index.js';
import {
  DOWNLOADS_PER_SERVER,
  ModelDownloads,
  ModelUrlLookup,
  downloadsCollection,
  buildModelListing,
  downloadMissingRequestSchema,
  planMissingDownloads,
  type DownloadRequestResult,
  type DownloadView,
  type MissingDownloadsResult,
  type ModelCredentials,
  type ModelListing,
  type ModelUrlLookupOptions,
} from './models/index.js';
import { InstallationKeys, VastClient, sharedInstallationKey, type LaunchOptions, type ServerRequirementsInput } from './vast/index.js';
import { SetupService, basicModelSchema, executionsCollection, resetRequestSchema, type BasicModel, type Execution, type ExecutionEvent, type ExecutionLog, type ExecutionStart } from './setup/index.js';
import { DEFAULT_LEASE_TTL_MS, DEFAULT_REDIS_PREFIX, Lease, ProcessPresence, RedisEventBus, RedisSlots, type Redis, type SharedEvent, type WorkOwnership } from './cluster/index.js';
import { systemClock, type Clock, type TimerHandle } from './util/clock.js';
import { silentLogger, type Logger } from './util/logger.js';

export interface ComfyVastOptions {
  /** Where records, images and keys live. Without it records stay in memory and images go to a temporary folder. */
  dataDir?: string;
  /** A store of your own; by default the lowdb store in `dataDir`. */
  store?: Store;
  /** Where generated images are kept (default `<dataDir>/images`), e.g. a directory that several installations mount. */
  imagesDir?: string;
  /**
   * Whether generated images are kept as files in a directory (`imagesDir`, the default) or in the database of the
   * records (`database`, with a PostgresStore only): every process on that database then serves every image, with no
   * directory to share. Each image is held in memory whole to be saved and served: for small installations.
   */
  images?: 'directory' | 'database';
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
  /** Where ComfyUI lives on rented servers (default: the `vastai/comfy` image's layout, DEFAULT_REMOTE_LAYOUT). */
  remote?: Partial<RemoteLayout>;
  /** Setup of ComfyUI on rented servers: the models each setup fetches when missing (none by default). */
  setup?: { basicModels?: BasicModel[] };
  /** Model downloads: the installation's Hugging Face and Civitai tokens (each sent only to its own site), and where lookups go. */
  models?: {
    credentials?: ModelCredentials;
    /** Where Civitai pages and Hugging Face checksums are looked up (default: the real sites). */
    lookup?: Omit<ModelUrlLookupOptions, 'logger'>;
    /** Downloads running at once per server, across every process with `redis` (default 5, the contract's). */
    perServer?: number;
  };
  /** Start background work (the reconciler, the scheduler) on open; default true. */
  autoStart?: boolean;
  /**
   * Redis shared by every process of the installation (the caller opens and closes it). With it, the rate limits
   * count what a user does on every process together, the reconciler, the scheduler and the budget checks run
   * only in the process holding the `background` lease, every process emits the events of work any process runs,
   * and the generations, setups and downloads a process followed are adopted by another once it is gone (after
   * `leaseTtlMs`).
   */
  redis?: Redis;
  /** How long the `background` lease outlives a holder that stopped renewing it (default 10 s). */
  leaseTtlMs?: number;
}

/** Everything the services report, in one place: the API server forwards these to their owners. */
export interface ComfyVastEvents {
  'server:status': [event: ServerStatusEvent];
  /**
   * Every event of the generations this process runs. Among several processes (`redis`), another process's
   * generations' ends too, and their progress while this process follows them (`followGeneration`).
   */
  'generation:event': [event: GenerationEvent];
  /** Every change of a model download: status, bytes, speed. */
  'download:event': [event: DownloadView];
  /** A line of a setup or reset's log, as it arrives (the last one carries the final status). */
  'execution:event': [event: ExecutionEvent];
  'scheduler:action': [record: SchedulerHistoryRecord];
  'budget:warning': [status: BudgetStatus];
  'budget:exceeded': [status: BudgetStatus];
}

/** A server as the library describes it, plus when idle stop will act (ISO, as its other dates), null when it will not. */
export type ServerView = Server & { idleStopAt: string | null };

/** A page of a list, and the cursor of the next one (null at the end). */
export interface ListPage<T> {
  items: T[];
  nextCursor: number | null;
}

/**
 * The whole library behind one object, and its one way in: every rule (budgets, draining before a stop, schedules
 * forgotten with their server, who may read a budget, who watches a server) holds here, whether the API server or a
 * program of yours calls it. The services it builds are its own; their events come out of it.
 */
export class ComfyVast extends EventEmitter<ComfyVastEvents> {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Accounts and tokens: they carry no spending, so they are open to the API server's authentication. */
  readonly users: UserService;
  /** The API, generation and download limits: in this process, or shared through `redis` by every process. */
  readonly limiters: Record<LimitName, RateLimiter>;
  readonly #store: Store;
  readonly #servers: ServerService;
  readonly #workflows: WorkflowLibrary;
  readonly #generations: GenerationService;
  readonly #followers: GenerationFollowers;
  /** One long-lived connection per ComfyUI, shared by every service that talks to it. */
  readonly #comfy: ComfyConnectionPool;
  readonly #analyses: AnalysisLog;
  readonly #schedules: ScheduleService;
  readonly #scheduler: SchedulerRunner;
  readonly #ledger: CostLedger;
  readonly #budgets: BudgetService;
  readonly #target: ServerScheduleTarget;
  /** Remote actions on rented servers, with the installation's key; null without a Vast.ai account. */
  readonly #ssh: SshRunner | null;
  readonly #pins: StoredHostKeyPins;
  readonly #layout: RemoteLayout;
  readonly #downloads: ModelDownloads;
  readonly #setup: SetupService;
  /** Who runs the reconciler, scheduler and budget checks among several processes; null without Redis (this one does). */
  readonly #lease: Lease | null;
  /** Shared with every process of the installation; the caller opens and closes it. */
  readonly #redis: Redis | null;
  /** Starts of that work, one after the other: the lease may come and go while one is under way. */
  #backgroundStarts: Promise<void> = Promise.resolve();
  /** This process among the others on the same Redis; null without Redis. */
  readonly #presence: ProcessPresence | null;
  /** The other processes' events, and this one's to them; null without Redis. */
  #bus: RedisEventBus | null = null;
  #adoption: TimerHandle | null = null;
  readonly #leaseTtlMs: number;

  protected constructor(store: Store, options: ComfyVastOptions & { dataDir: string }, ssh: InstallationSsh | undefined) {
    super();
    const clock = (this.clock = options.clock ?? systemClock);
    const logger = (this.logger = options.logger ?? silentLogger);
    this.#store = store;
    this.#redis = options.redis ?? null;
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const redis = options.redis;
    const limiter = (name: LimitName): RateLimiter => (redis ? new RedisRateLimiter({ redis, rules: limits[name], clock, name }) : new SlidingWindowLimiter({ rules: limits[name], clock }));
    this.limiters = { api: limiter('api'), generations: limiter('generations'), downloadBytes: limiter('downloadBytes') };
    this.users = new UserService({ store, clock, logger: logger.child({ service: 'users' }) });
    // Built in dependency order: each service gets only services that already exist.
    const vast = options.vast && new VastClient({ apiKey: options.vast.apiKey, baseUrl: options.vast.baseUrl, clock, logger: logger.child({ service: 'vast' }) });
    const servers = (this.#servers = new ServerService({
      store,
      vast,
      clock,
      logger: logger.child({ service: 'servers' }),
      sshPublicKey: ssh?.publicKey,
      launch: options.vast?.launch,
      reliabilityFloor: options.vast?.reliabilityFloor,
      pollIntervalMs: options.vast?.pollIntervalMs,
      simulated: options.vast?.simulated,
    }));
    this.#pins = new StoredHostKeyPins(store);
    this.#layout = { ...DEFAULT_REMOTE_LAYOUT, ...options.remote };
    this.#ssh = ssh ? new SshRunner({ privateKey: ssh.privateKey, script: ssh.script, pins: this.#pins, clock, logger: logger.child({ service: 'ssh' }) }) : null;
    this.#leaseTtlMs = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.#presence = options.redis ? new ProcessPresence({ redis: options.redis, clock, logger: logger.child({ service: 'presence' }), ttlMs: options.leaseTtlMs }) : null;
    const presence = this.#presence;
    // Generations, setups and downloads are each followed by the process that started them, adopted when it is gone.
    const ownership: WorkOwnership | undefined = presence ? { self: presence.id, alive: (owners) => presence.alive(owners) } : undefined;
    const perServer = options.models?.perServer ?? DOWNLOADS_PER_SERVER;
    this.#downloads = new ModelDownloads({
      store,
      ownership,
      clock,
      logger: logger.child({ service: 'downloads' }),
      remoteOf: (userId, serverId) => {
        const { runner, host } = this.#remote(userId, serverId);
        return { runner, target: { ...host, modelsDir: modelsDirOf(this.#layout) } };
      },
      quota: this.limiters.downloadBytes,
      perServer,
      slots: redis && new RedisSlots({ redis, name: 'downloads', limit: perServer, clock, logger: logger.child({ service: 'download-slots' }) }),
      lookup: new ModelUrlLookup({ ...options.models?.lookup, logger: logger.child({ service: 'model-lookup' }) }),
      credentials: options.models?.credentials,
    });
    this.#comfy = new ComfyConnectionPool({ clock, logger: logger.child({ service: 'comfy' }) });
    const workflows = (this.#workflows = new WorkflowLibrary({ store, clock, quota: { ...DEFAULT_QUOTAS, ...options.quotas }.workflows }));
    this.#analyses = new AnalysisLog({ store, clock });
    const generations = (this.#generations = new GenerationService({
      store,
      clock,
      logger: logger.child({ service: 'generations' }),
      dataDir: options.dataDir,
      imagesDir: options.imagesDir,
      images: options.images === 'database' ? new DatabaseImageStore({ store: store as PostgresStore, clock }) : undefined,
      targets: { getComfyTarget: async (userId, serverId) => servers.getComfyTarget(userId, serverId) },
      limiter: this.limiters.generations,
      resolveWorkflow: async (userId, workflowId) => toApiPrompt(workflows.get(userId, workflowId).workflow).prompt,
      connections: this.#comfy,
      pricePerHour: (serverId) => servers.find(serverId)?.server.pricePerHour ?? null,
      gpuOf: (serverId) => servers.find(serverId)?.server.gpu ?? null,
      ownership,
    }));
    const watchers = new ServerWatchers({ clock });
    this.#setup = new SetupService({
      store,
      clock,
      logger: logger.child({ service: 'setup' }),
      remote: (userId, serverId) => this.#remote(userId, serverId),
      layout: this.#layout,
      watchers,
      basicModels: parseOrThrow(basicModelSchema.array(), options.setup?.basicModels ?? [], 'setup.basicModels option'),
      ownership,
    });
    this.#followers = new GenerationFollowers({ generations, watchers });
    this.#ledger = new CostLedger({ store, clock });
    this.#schedules = new ScheduleService({ store, clock });
    const budgets = (this.#budgets = new BudgetService({ store, ledger: this.#ledger, clock, logger: logger.child({ service: 'budgets' }) }));
    const target = (this.#target = new ServerScheduleTarget({
      servers,
      watchers,
      budgets,
      clock,
      generationActivity: (id) => generations.activity(id),
      remoteActivity: (id) => this.#remoteActivity(id),
    }));
    const scheduler = (this.#scheduler = new SchedulerRunner({ target, schedules: this.#schedules, store, clock, logger: logger.child({ service: 'scheduler' }) }));
    // Budgets stop servers through the scheduler (draining first), and the scheduler asks budgets before a start.
    // With a lease, only its holder checks budgets and stops servers for them: a drain begun elsewhere would never
    // be finished there, and budgets set elsewhere reach it through the store.
    budgets.enforceWith({
      listServers: () => target.listServers(),
      drainAndStop: (serverId, reason) => scheduler.drainAndStop(serverId, reason),
      checksHere: () => this.#lease?.held ?? true,
    });
    watchers.on('changed', (serverId) => void scheduler.activityChanged(serverId).catch((err: unknown) => logger.error({ err }, 'idle check failed')));
    this.#wireEvents();
    this.#lease = options.redis ? new Lease({ redis: options.redis, name: 'background', clock, logger, ttlMs: options.leaseTtlMs }) : null;
    this.#lease?.on('acquired', () => {
      this.#backgroundStarts = this.#backgroundStarts.then(() => this.#startBackground()).catch((err: unknown) => logger.error({ err }, 'background work failed to start'));
    });
    // Stopped at once (each stop is synchronous), before the lease can expire and another process start the same work.
    this.#lease?.on('lost', () => this.#stopBackground());
    // What another process changed in schedules, servers and budgets: replanned and checked where that work runs;
    // tokens it issued: known here too.
    if (store instanceof PostgresStore) {
      store.onRemoteChange((change) => {
        if (change.kind !== 'records') return;
        if (change.collection === schedulesCollection.name) this.#schedules.remoteChanged(change.ids);
        else if (change.collection === serversCollection.name) for (const id of change.ids) scheduler.serverChanged(id);
        else if (change.collection === budgetsCollection.name) void budgets.remoteChanged(change.ids).catch((err: unknown) => logger.error({ err }, 'budget check failed'));
        else if (change.collection === costEventsCollection.name) this.#ledger.remoteChanged(change.ids);
        else if (change.collection === tokensCollection.name) this.users.remoteChanged(change.ids);
      });
    }
  }

  static async open(options: ComfyVastOptions = {}): Promise<ComfyVast> {
    checkImagesOption(options);
    const store = options.store ?? (options.dataDir ? await LowdbStore.open({ dir: options.dataDir, logger: options.logger, clock: options.clock }) : new MemoryStore());
    const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'comfy-vast-')));
    const comfyVast = new ComfyVast(store, { ...options, dataDir }, options.vast && options.dataDir ? await installationSsh(store, options.dataDir, options.redis) : undefined);
    await comfyVast.#workflows.seedBuiltins();
    if (options.redis) await comfyVast.#joinProcesses(options.redis, store);
    if (options.autoStart ?? true) {
      const lease = comfyVast.#lease;
      if (!lease) comfyVast.#servers.startReconciler();
      await comfyVast.#generations.start();
      comfyVast.#scheduleAdoption();
      await comfyVast.#downloads.start();
      await comfyVast.#setup.start();
      // With Redis, the lease starts the rest when this process gets it: now, later or never.
      if (lease) {
        await lease.start();
        await comfyVast.#backgroundStarts;
      } else await comfyVast.#startBackground();
    }
    return comfyVast;
  }

  /**
   * Among other processes: announces this one, shares events through Redis, and lets go of the generations, setups
   * and downloads another process ended or took over as soon as the store hears of it.
   */
  async #joinProcesses(redis: Redis, store: Store): Promise<void> {
    await this.#presence!.start();
    this.#bus = await RedisEventBus.open({ redis, logger: this.logger });
    this.#bus.onEvent((event) => this.#receive(event));
    if (store instanceof PostgresStore) {
      store.onRemoteChange((change) => {
        if (change.kind !== 'records') return;
        if (change.collection === generationsCollection.name) this.#generations.remoteChanged(change.ids);
        if (change.collection === schedulerHistoryCollection.name) this.#scheduler.history.remoteChanged(change.ids);
        const servers =
          change.collection === executionsCollection.name ? this.#setup.remoteChanged(change.ids) : change.collection === downloadsCollection.name ? this.#downloads.remoteChanged(change.ids) : [];
        // A setup or download that began, moved or ended elsewhere: idle stop looks at its server again here.
        for (const id of servers) void this.#scheduler.activityChanged(id).catch((err: unknown) => this.logger.error({ err }, 'idle check failed'));
      });
    }
  }

  /** Looks for generations, setups and downloads left by a process that is gone, twice per lease time (it counts as gone after one). */
  #scheduleAdoption(): void {
    if (!this.#presence) return;
    const every = this.#leaseTtlMs / 2;
    const adopt = (what: string, service: { adoptOrphans(): Promise<void> }) =>
      service.adoptOrphans().catch((err: unknown) => this.logger.warn({ err }, `could not look for ${what} to adopt`));
    const next = () => {
      this.#adoption = this.clock.setTimeout(() => {
        void Promise.all([adopt('generations', this.#generations), adopt('setups', this.#setup), adopt('downloads', this.#downloads)])
          .finally(() => this.#adoption && next());
      }, every);
    };
    next();
  }

  /** The work that must run in one process only; with a lease, started only while it is held. */
  async #startBackground(): Promise<void> {
    const held = () => this.#lease?.held ?? true;
    if (!held()) return;
    this.#servers.startReconciler();
    await this.#scheduler.start();
    if (held()) await this.#budgets.start();
    // Lost while starting: what started after the loss stops again.
    if (!held()) this.#stopBackground();
  }

  #stopBackground(): void {
    this.#scheduler.close();
    this.#budgets.close();
    this.#servers.stopReconciler();
  }

  /**
   * Whether this process runs the reconciler, the scheduler and the budget checks. Without Redis it is the only
   * process, and does; with Redis, while it holds the `background` lease (`fence` counts that lease's holdings), and
   * `known` is false until Redis first answered about it.
   */
  background(): { holder: boolean; known: boolean; fence: number | null } {
    if (!this.#lease) return { holder: true, known: true, fence: null };
    return { holder: this.#lease.held, known: this.#lease.known, fence: this.#lease.fence };
  }

  // Servers

  /** Rents or attaches a server, unless the user's monthly budget is spent. */
  async createServer(userId: number, body: unknown): Promise<ServerView> {
    this.#budgets.assertCanSpend(userId);
    return this.#describe(await this.#servers.create(userId, body));
  }

  listServers(userId: number): ServerView[] {
    return this.#servers.list(userId).map((server) => this.#describe(server));
  }

  /** The user's server; another user's is SERVER_NOT_FOUND, as a missing one. */
  getServer(userId: number, serverId: number): ServerView {
    return this.#describe(this.#servers.get(userId, serverId));
  }

  /** Starts a stopped server, unless the user's monthly budget is spent. */
  async startServer(userId: number, serverId: number): Promise<ServerTransition> {
    this.#servers.get(userId, serverId);
    this.#budgets.assertCanSpend(userId);
    return this.#servers.start(userId, serverId);
  }

  stopServer(userId: number, serverId: number): Promise<ServerTransition> {
    return this.#servers.stop(userId, serverId);
  }

  /** Deletes a server; its schedule goes with it (on the deletion event, whatever deleted it). */
  deleteServer(userId: number, serverId: number): Promise<void> {
    return this.#servers.delete(userId, serverId);
  }

  /** Offers that meet a request, cheapest first. */
  findOffers(requirements: ServerRequirementsInput): Promise<OfferSummary[]> {
    return this.#servers.findOffers(requirements);
  }

  /** Brings every record in line with Vast.ai now, instead of at the next periodic pass. */
  reconcile(): Promise<void> {
    return this.#servers.reconcile();
  }

  // Generations

  /** Queues a generation, unless the server is draining before a stop. */
  async generate(userId: number, serverId: number, request: unknown): Promise<GenerateResult> {
    this.#servers.get(userId, serverId);
    this.#scheduler.assertAcceptingWork(serverId);
    const reset = this.#setup.resetRunning(serverId);
    if (reset !== null) {
      throw new ComfyVastError('CONFLICT', `ComfyUI on server ${serverId} is being reset: generate once execution ${reset} has completed`, {
        details: { serverId, executionId: reset },
      });
    }
    try {
      return await this.#generations.generate(userId, serverId, request);
    } finally {
      await this.#scheduler.activityChanged(serverId);
    }
  }

  getProgress(userId: number, generationId: number): GenerationProgress {
    return this.#generations.getProgress(userId, generationId);
  }

  listActiveGenerations(userId: number): ActiveGeneration[] {
    return this.#generations.listActive(userId);
  }

  /** Ends a generation as cancelled here, then asks its ComfyUI to drop it. */
  cancelGeneration(userId: number, generationId: number): Promise<GenerationProgress> {
    return this.#generations.cancel(userId, generationId);
  }

  /** A server's generations, newest first; still readable by its owner after the server is deleted. */
  listGenerations(userId: number, serverId: number, page: { limit?: number; cursor?: number | null } = {}): ListPage<GenerationHistoryItem> {
    if (!this.#generations.hasHistory(userId, serverId)) this.#servers.get(userId, serverId);
    return this.#generations.listHistory(userId, serverId, page);
  }

  getImage(userId: number, file: string): Promise<StoredImage> {
    return this.#generations.getImage(userId, file);
  }

  /**
   * Starts following a generation of the user's and returns what to deliver at once (its final event, or what was
   * missed after `since`). Its server counts as watched, so idle stop waits, until `unfollowGeneration`.
   */
  followGeneration(userId: number, generationId: number, since?: number): GenerationEvent[] {
    const events = this.#followers.follow(userId, generationId, since);
    // Another process may run it: its progress comes here while it is followed (its end comes anyway).
    if (events.at(-1)?.type !== 'complete' && events.at(-1)?.type !== 'error') void this.#bus?.follow(generationTopic(generationId));
    return events;
  }

  /** Nobody follows the generation any more. */
  unfollowGeneration(generationId: number): void {
    this.#followers.unfollow(generationId);
    this.#bus?.unfollow(generationTopic(generationId));
  }

  // Setup

  /** Sets ComfyUI up on a rented server, or answers the setup or reset already running there: nothing starts twice. */
  async startSetup(userId: number, serverId: number): Promise<ExecutionStart> {
    this.#servers.get(userId, serverId);
    this.#scheduler.assertAcceptingWork(serverId);
    try {
      return await this.#setup.setup(userId, serverId);
    } finally {
      await this.#scheduler.activityChanged(serverId);
    }
  }

  /**
   * Removes ComfyUI and its environment (models kept unless `{ keepModels: false }`) and sets it up again. Until it
   * ends the server is not launched and refuses generations (CONFLICT).
   */
  async resetSetup(userId: number, serverId: number, body: unknown = {}): Promise<ExecutionStart> {
    const { keepModels } = parseOrThrow(resetRequestSchema, body ?? {}, 'reset request');
    this.#servers.get(userId, serverId);
    this.#scheduler.assertAcceptingWork(serverId);
    try {
      const start = await this.#setup.reset(userId, serverId, keepModels);
      // Its ComfyUI goes down now; the reconciler's probe marks it launched again once it answers after the reset.
      if (start.started) await this.#servers.comfyTakenDown(userId, serverId);
      return start;
    } finally {
      await this.#scheduler.activityChanged(serverId);
    }
  }

  /** A server's setups and resets, newest first; still readable by its owner after the server is deleted. */
  listExecutions(userId: number, serverId: number): Execution[] {
    if (!this.#setup.hasExecutions(userId, serverId)) this.#servers.get(userId, serverId);
    return this.#setup.list(serverId);
  }

  /** One setup or reset with its whole log (kept here, so it answers after the server stopped). */
  getExecutionLog(userId: number, serverId: number, executionId: number): ExecutionLog {
    if (!this.#setup.hasExecutions(userId, serverId)) this.#servers.get(userId, serverId);
    return this.#setup.log(userId, serverId, executionId);
  }

  /**
   * Starts following a setup or reset of the user's and returns its lines after `since` (every line kept when
   * absent). Its server counts as watched, so idle stop waits, until `unfollowExecution`.
   */
  followExecution(userId: number, executionId: number, since?: number): ExecutionEvent[] {
    return this.#setup.follow(userId, executionId, since);
  }

  /** Nobody follows the execution any more. */
  unfollowExecution(executionId: number): void {
    this.#setup.unfollow(executionId);
  }

  // Models

  /**
   * Every model folder of the user's running server, with its files: ComfyUI's lists say what is usable, one
   * listing over SSH gives the sizes and the partial downloads. An attached ComfyUI (no shell) lists sizes as unknown.
   */
  async listModels(userId: number, serverId: number): Promise<ModelListing> {
    const client = this.#comfyClient(userId, serverId);
    const remote = this.#remoteIfAny(userId, serverId);
    const [lists, files] = await Promise.all([
      client.modelFolders().then((folders) => Promise.all(folders.map(async (folder) => [folder, await client.modelFiles(folder)] as const))),
      remote && this.#remoteFiles(remote),
    ]);
    return buildModelListing({ comfy: Object.fromEntries(lists), files, pending: this.#downloads.pending(serverId), modelsDir: remote && modelsDirOf(this.#layout) });
  }

  /**
   * Queues a model download onto the user's server (or answers the pending one of the same file), unless the server
   * is draining before a stop or the user's daily allowance is spent (RATE_LIMIT_EXCEEDED, `remaining` in details).
   */
  async downloadModel(userId: number, serverId: number, body: unknown): Promise<DownloadRequestResult> {
    this.#servers.get(userId, serverId);
    this.#scheduler.assertAcceptingWork(serverId);
    return this.#downloads.request(userId, serverId, body);
  }

  /** The user's download; another user's is NOT_FOUND, as a missing one. */
  getDownload(userId: number, downloadId: number): DownloadView {
    return this.#downloads.get(userId, downloadId);
  }

  /** Cancels a queued or running download; its partial file is removed. One already over is answered as it is. */
  cancelDownload(userId: number, downloadId: number): Promise<DownloadView> {
    return this.#downloads.cancel(userId, downloadId);
  }

  /**
   * Queues a download of every model a workflow (`{workflow}` or a saved `{workflowId}`) needs that the server lacks
   * and has a known URL for, and says which it could not place and why.
   */
  async downloadMissing(userId: number, serverId: number, body: unknown): Promise<MissingDownloadsResult> {
    const request = parseOrThrow(downloadMissingRequestSchema, body, 'missing models request');
    const workflow = 'workflowId' in request ? this.#workflows.get(userId, request.workflowId).workflow : request.workflow;
    const plan = planMissingDownloads(analyzeWorkflow(workflow, await this.#serverContext(userId, serverId)).missingModels);
    const result: MissingDownloadsResult = { queued: [], notPlaced: plan.notPlaced };
    for (const { name, request: model } of plan.downloads) {
      try {
        result.queued.push({ name, download: (await this.downloadModel(userId, serverId, model)).download });
      } catch (error) {
        // Refusals of one model (a bad URL, an unknown Civitai page, the allowance spent) leave the others queued.
        if (!isComfyVastError(error) || !['VALIDATION_ERROR', 'MODEL_NOT_FOUND', 'RATE_LIMIT_EXCEEDED'].includes(error.code)) throw error;
        if (error.code === 'RATE_LIMIT_EXCEEDED' && result.queued.length === 0) throw error;
        result.notPlaced.push({ name, reason: error.message });
      }
    }
    return result;
  }

  // Workflows

  /** The user's and the built-in workflows, with the models each lacks on the server (null when it cannot say). */
  async listWorkflows(userId: number, serverId: number): Promise<Array<WorkflowRecord & { missingModels: string[] | null }>> {
    const records = this.#workflows.list(userId);
    // The list still answers when the server is down; it just cannot say which models are missing.
    const models = await this.#serverContext(userId, serverId).then(
      (context) => new Set(Object.values(context.serverModels).flat().map((name) => name.replace(/\\/g, '/'))),
      (error: unknown) => {
        if (isComfyVastError(error, 'SERVER_NOT_FOUND')) throw error;
        return null;
      },
    );
    return records.map((record) => ({ ...record, missingModels: models && record.requiredModels.filter((name) => !models.has(name)) }));
  }

  getWorkflow(userId: number, workflowId: number): WorkflowRecord {
    return this.#workflows.get(userId, workflowId);
  }

  createWorkflow(userId: number, input: WorkflowInput): Promise<WorkflowRecord> {
    return this.#workflows.create(userId, input);
  }

  replaceWorkflow(userId: number, workflowId: number, input: WorkflowInput): Promise<WorkflowRecord> {
    return this.#workflows.replace(userId, workflowId, input);
  }

  deleteWorkflow(userId: number, workflowId: number): Promise<void> {
    return this.#workflows.delete(userId, workflowId);
  }

  /** Analyses a workflow, against the server's nodes, models and GPU when one is named, and logs the analysis. */
  async analyzeWorkflow(userId: number, serverId: number | null, workflow: unknown): Promise<WorkflowAnalysis & { analysisId: number }> {
    const context: AnalyzeOptions = serverId === null ? {} : await this.#serverContext(userId, serverId);
    const result = analyzeWorkflow(workflow, context);
    const { id } = await this.#analyses.record(userId, serverId, result);
    return { analysisId: id, ...result };
  }

  /** UI format to API format, with the server's node definitions when one is named, else the bundled ones. */
  async convertWorkflow(userId: number, serverId: number | null, workflow: unknown): Promise<ConversionResult> {
    const objectInfo = serverId === null ? undefined : await this.#comfyClient(userId, serverId).objectInfo();
    return toApiPrompt(workflow, { objectInfo });
  }

  /** ComfyUI's node definitions on the user's running server, so an editor shows that server's nodes. */
  getObjectInfo(userId: number, serverId: number): Promise<ObjectInfo> {
    return this.#comfyClient(userId, serverId).objectInfo();
  }

  // Schedules

  getSchedule(userId: number, serverId: number): ScheduleView {
    return this.#schedules.view(this.#scheduledServer(userId, serverId));
  }

  updateSchedule(userId: number, serverId: number, side: ScheduleSide, body: unknown): Promise<ScheduleView> {
    return this.#schedules.update(this.#scheduledServer(userId, serverId), side, body);
  }

  /** What the scheduler did to a server and why, newest first. */
  scheduleHistory(userId: number, serverId: number, page: { limit?: number; cursor?: number | null } = {}): ListPage<SchedulerHistoryRecord> {
    this.#scheduledServer(userId, serverId);
    return this.#scheduler.history.list(serverId, page);
  }

  /** When the scheduler next wakes up (epoch ms), or null when nothing is planned. */
  get nextWakeAt(): number | null {
    return this.#scheduler.nextWakeAt;
  }

  // Budgets

  /** A user's month against their budget: their own, or anybody's for an admin; any other is NOT_FOUND. */
  getBudget(caller: UserRecord, userId: number): BudgetStatus {
    if (caller.role !== 'admin' && caller.id !== userId) throw userNotFound(userId);
    this.#existingUser(userId);
    return this.#budgets.status(userId);
  }

  /** Sets or removes (null) a user's monthly budget. */
  setBudget(userId: number, monthlyLimit: unknown): Promise<BudgetStatus> {
    this.#existingUser(userId);
    return this.#budgets.setBudget(userId, monthlyLimit);
  }

  #existingUser(userId: number): void {
    if (!this.users.getUser(userId)) throw userNotFound(userId);
  }

  /** The caller's server as the scheduler sees it; another user's is SERVER_NOT_FOUND. */
  #scheduledServer(userId: number, serverId: number): ServerInfo {
    const server = this.#servers.get(userId, serverId);
    return { id: server.id, name: server.name, status: server.status, userId };
  }

  #describe(server: Server): ServerView {
    const at = this.#scheduler.idleStopAt(server.id);
    // Not `{ ...server, idleStopAt }`: V8 gives a spread with a property after it a map of its own each time, a
    // slow object (2 µs to make here, and slow to read in the wire mapping); this copy keeps one shape.
    return Object.assign({}, server, { idleStopAt: at === null ? null : new Date(at).toISOString() });
  }

  /** Setups and downloads running on a server, so that idle stop and drain-before-stop wait for them. */
  #remoteActivity(serverId: number): RemoteActivity {
    const setup = this.#setup.activity(serverId);
    const downloads = this.#downloads.activity(serverId);
    return { setup: setup.running, downloads: downloads.downloads, lastActivityAt: Math.max(setup.lastActivityAt, downloads.lastActivityAt) };
  }

  /** The SSH side of the user's running server, or null where comfy-vast has no shell (NOT_SUPPORTED). */
  #remoteIfAny(userId: number, serverId: number): { runner: SshRunner; host: RemoteHost } | null {
    try {
      return this.#remote(userId, serverId);
    } catch (error) {
      if (isComfyVastError(error, 'NOT_SUPPORTED')) return null;
      throw error;
    }
  }

  /** Every file under the server's models folder, with sizes and partial downloads: one `models` call. */
  async #remoteFiles({ runner, host }: { runner: SshRunner; host: RemoteHost }): Promise<ModelFileLine[]> {
    const files: ModelFileLine[] = [];
    await runner.run(host, ['models', '--models', modelsDirOf(this.#layout)], {
      timeoutMs: 60_000,
      onLine: (line) => {
        if (line.kind === 'file') files.push(line.line);
      },
    });
    return files;
  }

  /**
   * The SSH side of the user's running server: the runner and where it answers. NOT_SUPPORTED for an attached
   * ComfyUI and for an installation without a Vast.ai account (it has no key any server accepts).
   */
  #remote(userId: number, serverId: number): { runner: SshRunner; host: RemoteHost } {
    const host = this.#servers.getRemoteHost(userId, serverId);
    if (!this.#ssh) throw new ComfyVastError('NOT_SUPPORTED', 'This installation has no Vast.ai account, so no SSH key that a server accepts', { details: { serverId } });
    return { runner: this.#ssh, host };
  }

  /** The HTTP client of a running server's ComfyUI; SERVER_NOT_RUNNING otherwise. */
  #comfyClient(userId: number, serverId: number): ComfyClient {
    return this.#comfy.get(this.#servers.getComfyTarget(userId, serverId)).client;
  }

  /** What analysis needs to know of a server: its nodes, its models and its GPU. */
  async #serverContext(userId: number, serverId: number): Promise<Required<Pick<AnalyzeOptions, 'objectInfo' | 'serverModels'>> & AnalyzeOptions> {
    const server = this.#servers.get(userId, serverId);
    const client = this.#comfyClient(userId, serverId);
    const [objectInfo, folders] = await Promise.all([client.objectInfo(), client.modelFolders()]);
    const lists = await Promise.all(folders.map(async (folder) => [folder, await client.modelFiles(folder)] as const));
    return { objectInfo, serverModels: Object.fromEntries(lists), gpu: server.gpu ?? undefined };
  }

  #wireEvents(): void {
    const recordStatus = ({ id, status, pricePerHour, storagePerHour }: Server, userId: number) =>
      this.#ledger.recordStatus({ id, userId }, status, { pricePerHour, storagePerHour });
    const report = (error: unknown) => this.logger.error({ err: error }, 'event handling failed');
    this.#servers.on('server:created', ({ userId, server }) => void recordStatus(server, userId).catch(report));
    this.#servers.on('server:status', (event) => {
      this.#serverStatusHere(event);
      void recordStatus(event.server, event.userId).catch(report);
      this.#share('server:status', event);
    });
    this.#servers.on('server:deleted', ({ userId, server }) => {
      this.#scheduler.serverChanged(server.id);
      void recordStatus({ ...server, status: 'deleted' }, userId).catch(report);
      void this.#schedules.remove(server.id).catch(report);
      this.#ssh?.close(String(server.id));
      void this.#pins.forget(String(server.id)).catch(report);
    });
    const onGeneration = (event: GenerationEvent) => {
      this.#generationHere(event);
      // Progress only to the processes following the generation; its end to all of them (idle stop counts it).
      this.#bus?.publish({ name: 'generation:event', args: [event] }, event.type === 'progress' ? generationTopic(event.generationId) : undefined);
    };
    this.#generations.on('progress', onGeneration);
    this.#generations.on('complete', onGeneration);
    this.#generations.on('error', onGeneration);
    this.#downloads.on('download', (view) => {
      this.#share('download:event', view);
      // Progress moves no count: only a new, finished or cancelled download changes what the scheduler waits for.
      if (view.status !== 'downloading') void this.#scheduler.activityChanged(view.serverId).catch(report);
    });
    this.#setup.on('execution:event', (event) => {
      this.#share('execution:event', event);
      if (event.status === 'running') return;
      void this.#scheduler.activityChanged(event.serverId).catch(report);
      // ComfyUI answers now: the reconciler's probe marks the server launched.
      if (event.status === 'completed') void this.#servers.reconcile().catch(report);
    });
    this.#scheduler.on('scheduler:action', (record) => this.#share('scheduler:action', record));
    this.#budgets.on('budget:warning', (status) => this.#share('budget:warning', status));
    this.#budgets.on('budget:exceeded', (status) => this.#share('budget:exceeded', status));
  }

  /** What a server's new status means for the work of this process, wherever the change was seen. */
  #serverStatusHere(event: ServerStatusEvent): void {
    const { id, status } = event.server;
    this.#target.statusChanged(id, status);
    this.#generations.serverChanged(id);
    this.#scheduler.serverChanged(id);
    if (GONE.has(status)) {
      this.#setup.serverGone(id, `The server is ${status}`);
      void this.#downloads.serverGone(id, `The server is ${status}`).catch((err: unknown) => this.logger.error({ err }, 'event handling failed'));
    }
    if (status === 'running') this.#setup.serverRunning(id);
  }

  /** A generation's event, from this process or another: kept for replays, emitted, and its end rechecks idle stop. */
  #generationHere(event: GenerationEvent): void {
    this.#followers.record(event);
    this.emit('generation:event', event);
    if (event.type === 'progress') return;
    this.#bus?.unfollow(generationTopic(event.generationId));
    // Another process's generation may not have reached this process's records yet: its server is rechecked later.
    const serverId = this.#generations.find(event.generationId)?.serverId;
    if (serverId !== undefined) void this.#scheduler.activityChanged(serverId).catch((err: unknown) => this.logger.error({ err }, 'event handling failed'));
  }

  /** Emits an event here and, among several processes, to the others. */
  #share<K extends SharedEventName>(name: K, ...args: ComfyVastEvents[K]): void {
    (this.emit as (name: K, ...args: ComfyVastEvents[K]) => boolean)(name, ...args);
    this.#bus?.publish({ name, args });
  }

  /** Another process's event, as if this process had seen it (less what only the process that saw it does). */
  #receive({ name, args }: SharedEvent): void {
    if (name === 'generation:event') return this.#generationHere(args[0] as GenerationEvent);
    if (name === 'server:status') this.#serverStatusHere(args[0] as ServerStatusEvent);
    if (SHARED_EVENTS.has(name as SharedEventName)) (this.emit as (name: string, ...args: unknown[]) => boolean)(name, ...args);
  }

  /**
   * What holds the records, and whether what this process depends on answers now: PostgreSQL is asked a query and
   * Redis a PING, each given `timeoutMs`. `postgres` is null when the records are elsewhere, `redis` and `leases`
   * without Redis.
   */
  async health(timeoutMs = HEALTH_TIMEOUT_MS): Promise<HealthView> {
    const store = this.#store;
    const kind = store instanceof PostgresStore ? 'postgres' : store instanceof LowdbStore ? 'embedded' : store instanceof MemoryStore ? 'memory' : 'custom';
    const [postgres, redis] = await Promise.all([
      store instanceof PostgresStore ? this.#answers(store.ping(), timeoutMs) : null,
      this.#redis ? this.#answers(this.#redis.ping(), timeoutMs) : null,
    ]);
    return { store: kind, postgres, redis, leases: this.#lease ? this.#lease.known : null, coherent: store instanceof PostgresStore ? store.coherent : null };
  }

  /** Whether `check` resolves within `timeoutMs`. */
  #answers(check: Promise<unknown>, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => resolve(false), timeoutMs);
      check.then(
        () => resolve(true),
        () => resolve(false),
      ).finally(() => this.clock.clearTimeout(timer));
    });
  }

  /** Stops background work and flushes the store. */
  async close(): Promise<void> {
    // The lease is released after the work it guards stopped, so another process takes it over at once.
    await this.#lease?.close();
    await this.#backgroundStarts;
    this.#stopBackground();
    if (this.#adoption) this.clock.clearTimeout(this.#adoption);
    this.#adoption = null;
    await this.#generations.close();
    await this.#downloads.close();
    await this.#setup.close();
    await this.#comfy.closeAll();
    this.#ssh?.closeAll();
    // Withdrawn once nothing is followed here any more: the other processes adopt at their next look, not after the ttl.
    await this.#presence?.close();
    await this.#bus?.close();
    await this.#store.close();
  }
}

/** How long a health check waits for PostgreSQL or Redis to answer. */
const HEALTH_TIMEOUT_MS = 1000;

/** What `health()` answers. */
export interface HealthView {
  store: 'embedded' | 'postgres' | 'memory' | 'custom';
  /** Whether PostgreSQL answered in time; null when the records are not in PostgreSQL. */
  postgres: boolean | null;
  /** Whether Redis answered in time; null without Redis. */
  redis: boolean | null;
  /** Whether Redis has said who holds the background lease (this process or another); null without Redis. */
  leases: boolean | null;
  /**
   * Whether this process's records follow the other processes' changes (false while its listening connection to
   * PostgreSQL is being re-established and it catches up); null when the records are not in PostgreSQL.
   */
  coherent: boolean | null;
}

/** The events every process emits, wherever they happened. */
type SharedEventName = Exclude<keyof ComfyVastEvents, 'generation:event'>;
const SHARED_EVENTS = new Set<SharedEventName>(['server:status', 'download:event', 'execution:event', 'scheduler:action', 'budget:warning', 'budget:exceeded']);

/** Server statuses in which nothing runs on the box any more. */
const GONE = new Set<ServerStatus>(['stopping', 'stopped', 'deleted']);

/** How long the claim to write the installation's SSH key pair outlives a process that died before writing it. */
const KEY_CLAIM_MS = 15_000;

/** The event bus topic of one generation's progress. */
const generationTopic = (generationId: number): string => `generation:${generationId}`;

/** The installation's key pair and the script every remote action runs. */
interface InstallationSsh {
  publicKey: string;
  privateKey: string;
  script: string;
}

/**
 * One key pair per installation, attached to every instance so that setup can reach it over SSH: in the data
 * directory, or, when several processes share the records (PostgreSQL), in the store (the data directory's moved
 * there), so that each reaches the instances any of them created.
 */
async function installationSsh(store: Store, dataDir: string, redis: Redis | undefined): Promise<InstallationSsh> {
  const keys = new InstallationKeys(join(dataDir, 'ssh'));
  if (store instanceof PostgresStore) {
    // One process writes the pair; a claimer that dies before writing frees the claim after its expiry.
    const claim = redis && (async () => (await redis.set(`${DEFAULT_REDIS_PREFIX}installation-key`, randomUUID(), 'PX', KEY_CLAIM_MS, 'NX')) === 'OK');
    const [pair, script] = await Promise.all([sharedInstallationKey({ store, legacy: keys, claim }), loadRemoteScript()]);
    return { ...pair, script };
  }
  const { publicKey } = await keys.load();
  const [privateKey, script] = await Promise.all([keys.privateKey(), loadRemoteScript()]);
  return { publicKey, privateKey, script };
}

/** Images in the database need the records there, and a directory for them is then a mistake to say, not to ignore. */
function checkImagesOption({ images, store, imagesDir }: ComfyVastOptions): void {
  if (images !== 'database') return;
  if (!(store instanceof PostgresStore)) {
    throw new ComfyVastError('VALIDATION_ERROR', 'Images can be kept in the database only when the records are in PostgreSQL (a PostgresStore as `store`)', { details: { field: 'images' } });
  }
  if (imagesDir !== undefined) {
    throw new ComfyVastError('VALIDATION_ERROR', 'Images are kept in the database, so `imagesDir` has no use: give one or the other', { details: { field: 'imagesDir' } });
  }
}

function userNotFound(userId: number): ComfyVastError {
  return new ComfyVastError('NOT_FOUND', `User ${userId} not found`, { details: { userId } });
}
