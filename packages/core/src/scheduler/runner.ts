import { EventEmitter } from 'eventemitter3';
import { ComfyVastError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { silentLogger, systemClock, type Clock, type Logger, type TimerHandle } from '../util/index.js';
import { Drainer } from './drain.js';
import { SchedulerHistory } from './history.js';
import { idleCheckAt, idleStopAt } from './idle.js';
import type { DrainState, SchedulerHistoryRecord } from './records.js';
import type { Schedule } from './schedule-schema.js';
import type { ScheduleService } from './schedule-service.js';
import { isInsideWindow, nextAction, previousOccurrence, type PlannedAction } from './schedule-time.js';
import type { ActionReason, ActionTrigger, ScheduleTarget, ServerInfo } from './schedule-target.js';
import { MINUTE_MS, TimeZones } from './time-zone.js';

const CHECKPOINT_KEY = 'scheduler.checkpoint';

export interface SchedulerRunnerOptions {
  target: ScheduleTarget;
  schedules: ScheduleService;
  store: Store;
  clock?: Clock;
  logger?: Logger;
  /** How long a stop waits for work to end before cutting it (default 30 minutes). */
  drainGraceMs?: number;
  /** How often a draining server is looked at when nobody calls `activityChanged` (default 1 minute). */
  drainCheckMs?: number;
  /** How long after a refused idle stop it is tried again (default 5 minutes). */
  retryMs?: number;
  /** A timer firing further than this from its due time means the wall clock jumped (default 1 second). */
  jumpToleranceMs?: number;
}

export interface SchedulerRunnerEvents {
  /** Every history entry, once stored: starts, stops, drains, failures. */
  'scheduler:action': [record: SchedulerHistoryRecord];
}

interface Plan {
  at: number;
  action: PlannedAction | null;
}

const isUp = (status: string) => status === 'running' || status === 'starting';

/**
 * Starts and stops servers on their schedules, stops idle ones, and drains before every stop. One timer, set to
 * the earliest thing due across all servers; each server's plan is recomputed when its schedule, its status or
 * its activity changes, and every plan when the wall clock jumps.
 */
export class SchedulerRunner extends EventEmitter<SchedulerRunnerEvents> {
  readonly history: SchedulerHistory;
  #target: ScheduleTarget;
  #schedules: ScheduleService;
  #store: Store;
  #clock: Clock;
  #logger: Logger;
  #drainer: Drainer;
  #drainCheckMs: number;
  #jumpToleranceMs: number;
  #retryMs: number;
  /** When the provider last refused an action on a server, so a standing idle deadline is not retried in a loop. */
  #failedAt = new Map<number, number>();
  #zones = new TimeZones();
  #plans = new Map<number, Plan>();
  #timer: { at: number; handle: TimerHandle } | null = null;
  #running = false;
  /** While due servers are processed, changes replan but only the end of the pass sets the timer. */
  #firing = false;
  #onScheduleChanged = (serverId: number) => void this.serverChanged(serverId);

  constructor(options: SchedulerRunnerOptions) {
    super();
    this.#target = options.target;
    this.#schedules = options.schedules;
    this.#store = options.store;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
    this.#drainCheckMs = options.drainCheckMs ?? MINUTE_MS;
    this.#jumpToleranceMs = options.jumpToleranceMs ?? 1000;
    this.#retryMs = options.retryMs ?? 5 * MINUTE_MS;
    this.history = new SchedulerHistory(options.store, this.#clock);
    this.#drainer = new Drainer({
      target: this.#target,
      clock: this.#clock,
      logger: this.#logger,
      graceMs: options.drainGraceMs ?? 30 * MINUTE_MS,
      report: (server, entry, drain) => this.#report(server, entry, drain),
    });
  }

  /** Catches up on what was missed while the process was down, then plans every server and sets the timer. */
  async start(): Promise<void> {
    if (this.#running) return;
    this.#running = true;
    this.#schedules.on('changed', this.#onScheduleChanged);
    await this.#restoreDrains();
    await this.#catchUp();
    this.refresh();
  }

  /**
   * Stops planning and acting; `start` may be called again. Drains are dropped: this runner would never finish
   * them, and a server it no longer drains must not keep refusing work here (another process may run the schedules).
   * Whichever runner starts next takes them up again from the history.
   */
  close(): void {
    this.#running = false;
    this.#schedules.off('changed', this.#onScheduleChanged);
    this.#disarm();
    this.#plans.clear();
    this.#drainer.clear();
  }

  /** Replans every server (after bulk changes); returns quickly: only the plans are computed. */
  refresh(): void {
    const now = this.#clock.now();
    this.#plans.clear();
    for (const server of this.#target.listServers()) this.#plan(server, now);
    this.#arm();
  }

  /** A server's status changed, or it was created or deleted: replan it. */
  serverChanged(serverId: number): void {
    if (!this.#running) return;
    const server = this.#target.getServer(serverId);
    if (!server || !isUp(server.status)) {
      void this.#drainer.forget(serverId, server).catch((err: unknown) => this.#logger.error({ err, serverId }, 'could not record the end of a drain'));
    }
    this.#plans.delete(serverId);
    if (server) this.#plan(server, this.#clock.now());
    this.#arm();
  }

  /** Work on a server started or ended: a draining server may stop now, an idle deadline moves. */
  async activityChanged(serverId: number): Promise<void> {
    if (!this.#running) return;
    const server = this.#target.getServer(serverId);
    if (server && this.#drainer.isDraining(serverId)) await this.#drainer.check(server);
    this.serverChanged(serverId);
  }

  /** True while a stop waits for the server's work to end: new generations must be refused. */
  isDraining(serverId: number): boolean {
    return this.#drainDeadline(serverId) !== undefined;
  }

  /** Throws SERVER_NOT_RUNNING when the server is draining towards a stop. */
  assertAcceptingWork(serverId: number): void {
    const deadline = this.#drainDeadline(serverId);
    if (deadline === undefined) return;
    throw new ComfyVastError(
      'SERVER_NOT_RUNNING',
      `Server ${serverId} is stopping: it finishes the work it has and accepts no new generations`,
      { details: { serverId, draining: true, stopsBy: new Date(deadline).toISOString() } },
    );
  }

  /**
   * When a draining server stops at the latest. The running scheduler knows its drains; a process that does not run
   * it (another holds the background lease) reads them from the history, which every process shares.
   */
  #drainDeadline(serverId: number): number | undefined {
    if (this.#running) return this.#drainer.deadline(serverId);
    const entry = this.history.openDrain(serverId);
    return entry && this.#drainer.drainOf(entry).deadline;
  }

  /** When the server stops for idleness if nothing happens (for the server list), or null. */
  idleStopAt(serverId: number): number | null {
    // Every server view asks this: most servers have no idle stop, and the schedule says so before anything is read.
    const schedule = this.#schedules.peek(serverId);
    if (!schedule.idleStopMinutes) return null;
    const server = this.#target.getServer(serverId);
    if (!server || this.isDraining(serverId)) return null;
    return idleStopAt(schedule, server.status, this.#target.activity(serverId));
  }

  /** Drains and stops a server for a reason outside its schedule (a budget reached). */
  async drainAndStop(serverId: number, reason: ActionReason): Promise<void> {
    const server = this.#target.getServer(serverId);
    if (!server || !isUp(server.status)) return;
    await this.#drainer.requestStop(server, reason);
    this.serverChanged(serverId);
  }

  /** When the one timer fires next (epoch ms), or null when nothing is planned. */
  get nextWakeAt(): number | null {
    return this.#timer?.at ?? null;
  }

  #plan(server: ServerInfo, now: number): void {
    const schedule = this.#schedules.peek(server.id);
    const action = nextAction(schedule, now, this.#zones);
    let at = action?.at ?? Infinity;
    const deadline = this.#drainer.deadline(server.id);
    if (deadline !== undefined) at = Math.min(at, deadline, now + this.#drainCheckMs);
    else {
      const idleAt = idleCheckAt(schedule, server.status, this.#target.activity(server.id), now);
      if (idleAt !== null) at = Math.min(at, Math.max(idleAt, (this.#failedAt.get(server.id) ?? -Infinity) + this.#retryMs));
    }
    if (at !== Infinity) this.#plans.set(server.id, { at, action });
  }

  #arm(): void {
    this.#disarm();
    if (!this.#running || this.#firing) return;
    let at = Infinity;
    for (const plan of this.#plans.values()) if (plan.at < at) at = plan.at;
    if (at === Infinity) return;
    // Something already overdue (an idle deadline passed while the process was down) fires now, not as a jump.
    const now = this.#clock.now();
    const expected = Math.max(at, now);
    const fire = () => void this.#fire(expected).catch((err: unknown) => this.#logger.error({ err }, 'scheduler pass failed'));
    const handle = this.#clock.setTimeout(fire, expected - now);
    this.#timer = { at, handle };
  }

  #disarm(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer.handle);
    this.#timer = null;
  }

  async #fire(expected: number): Promise<void> {
    this.#timer = null;
    this.#firing = true;
    try {
      const now = this.#clock.now();
      if (Math.abs(now - expected) > this.#jumpToleranceMs) {
        this.#logger.info({ expected, now }, 'wall clock jumped; catching up and replanning');
        await this.#catchUp();
        if (this.#running) this.refresh();
        return;
      }
      const due = [...this.#plans].filter(([, plan]) => plan.at <= now);
      for (const [serverId, plan] of due) {
        this.#plans.delete(serverId);
        const server = this.#target.getServer(serverId);
        // One server's failure (a store error) must not hold back the others or spin the timer.
        if (server) await this.#process(server, plan, now).catch((err: unknown) => this.#logger.error({ err, serverId }, 'scheduler action failed'));
        const fresh = this.#target.getServer(serverId);
        if (fresh && this.#running) this.#plan(fresh, now);
      }
      await this.#checkpoint(now);
    } finally {
      this.#firing = false;
      this.#arm();
    }
  }

  async #process(server: ServerInfo, plan: Plan, now: number): Promise<void> {
    const schedule = this.#schedules.peek(server.id);
    if (plan.action && plan.action.at <= now) {
      const reason: ActionReason = { trigger: 'schedule', message: describeAction(plan.action.action, schedule) };
      if (plan.action.action === 'start') return this.#start(server, reason);
      if (isUp(server.status)) return this.#drainer.requestStop(server, reason);
    }
    if (this.#drainer.isDraining(server.id)) return this.#drainer.check(server);
    const idleAt = idleStopAt(schedule, server.status, this.#target.activity(server.id));
    const retryAt = (this.#failedAt.get(server.id) ?? -Infinity) + this.#retryMs;
    if (idleAt !== null && idleAt <= now && retryAt <= now) {
      await this.#drainer.requestStop(server, { trigger: 'idle', message: `idle for ${schedule.idleStopMinutes} min` });
    }
  }

  async #start(server: ServerInfo, reason: ActionReason): Promise<void> {
    if (this.#drainer.isDraining(server.id)) return this.#drainer.cancel(server, reason);
    if (server.status !== 'stopped') return;
    try {
      await this.#target.start(server.id, reason);
      await this.#report(server, { event: 'started', trigger: reason.trigger, reason: reason.message });
    } catch (error) {
      this.#logger.warn({ serverId: server.id, err: error }, 'scheduled start failed');
      await this.#report(server, { event: 'failed', trigger: reason.trigger, reason: `${reason.message}; start failed: ${(error as Error).message}` });
    }
  }

  /**
   * Puts servers in the state their schedule wants after time passed unseen (a restart, a clock jump): a stopped
   * server inside its window with autoStart is started, a running one outside with autoStop is stopped (drained).
   * Only schedules with a start or stop due since the last checkpoint are touched, so a server someone started
   * or stopped by hand is left alone unless the schedule acted on it meanwhile.
   */
  async #catchUp(): Promise<void> {
    const now = this.#clock.now();
    const since = this.#store.getValue<number>(CHECKPOINT_KEY);
    for (const { serverId, schedule } of this.#schedules.entries()) {
      const server = this.#target.getServer(serverId);
      if (!server || !this.#running) continue;
      if (since !== undefined && !this.#actedSince(schedule, since, now)) continue;
      const inside = isInsideWindow(schedule, now, this.#zones);
      const message = `catching up at ${new Date(now).toISOString()}: ${inside ? 'inside' : 'outside'} the ${schedule.startTime}-${schedule.stopTime} ${schedule.timezone} window`;
      if (inside && schedule.autoStart && server.status === 'stopped') await this.#start(server, { trigger: 'catch-up', message });
      else if (!inside && schedule.autoStop && isUp(server.status)) await this.#drainer.requestStop(server, { trigger: 'catch-up', message });
    }
    await this.#checkpoint(now);
  }

  /**
   * Takes up the drains under way in the history (this process was restarted, or another one held the background
   * lease) with their own deadlines: the plans then finish them, at once where the deadline passed meanwhile. The
   * drain of a server that stopped meanwhile ends here, in the history too, so a later start is not undone by it.
   */
  async #restoreDrains(): Promise<void> {
    for (const entry of this.history.openDrains()) {
      const server = this.#target.getServer(entry.serverId);
      if (!server) continue;
      this.#drainer.restore(server, entry);
      if (!isUp(server.status)) await this.#drainer.forget(server.id, server);
    }
  }

  #actedSince(schedule: Schedule, since: number, now: number): boolean {
    const missed = (enabled: boolean, action: 'start' | 'stop') =>
      enabled && (previousOccurrence(schedule, action, now, this.#zones)?.at ?? -Infinity) > since;
    return missed(schedule.autoStart, 'start') || missed(schedule.autoStop, 'stop');
  }

  async #checkpoint(now: number): Promise<void> {
    await this.#store.setValue(CHECKPOINT_KEY, now);
  }

  async #report(
    server: ServerInfo,
    entry: { event: SchedulerHistoryRecord['event']; trigger: ActionTrigger; reason: string; cut?: SchedulerHistoryRecord['cut'] },
    drain?: DrainState,
  ): Promise<void> {
    if (entry.event === 'failed') this.#failedAt.set(server.id, this.#clock.now());
    else if (entry.event === 'started' || entry.event === 'stopped') this.#failedAt.delete(server.id);
    const record = await this.history.record({ ...entry, serverId: server.id, userId: server.userId }, drain);
    this.emit('scheduler:action', record);
  }
}

function describeAction(action: 'start' | 'stop', schedule: Schedule): string {
  return `scheduled ${action} at ${action === 'start' ? schedule.startTime : schedule.stopTime} ${schedule.timezone}`;
}
