import { EventEmitter } from 'eventemitter3';
import { z } from 'zod';
import { ComfyVastError } from '../errors/index.js';
import { defineCollection, type Store } from '../store/index.js';
import { silentLogger, systemClock, type Clock, type Logger, type TimerHandle } from '../util/index.js';
import { BUDGET_WARNING_RATIO, assertWithinBudget, budgetLevel, monthOf, reachesAt, roundUsd, type BudgetStatus } from './cost.js';
import type { CostLedger } from './ledger.js';
import type { ActionReason, ServerInfo } from './schedule-target.js';

/** Statuses a budget stop acts on: the GPU bills, or soon will. */
const BILLED_AS_RUNNING = new Set(['running', 'starting']);

export const MonthlyLimit = z
  .number({ message: 'must be a number of dollars, or null to remove the budget' })
  .positive({ message: 'must be more than 0 dollars' })
  .max(1_000_000, { message: 'must be at most 1000000 dollars' })
  .nullable();

/** A change of a user's budget. */
export const BudgetUpdate = z.object({ monthlyLimit: MonthlyLimit });
export type BudgetUpdate = z.infer<typeof BudgetUpdate>;

export const BudgetRecord = z.object({
  id: z.number().int(),
  userId: z.number().int(),
  monthlyLimit: z.number().positive(),
  /** The month (`YYYY-MM`) the 80 % warning and the 100 % stop were last sent, so each goes out once a month. */
  warnedMonth: z.string().nullable(),
  exceededMonth: z.string().nullable(),
  updatedAt: z.string(),
});
export type BudgetRecord = z.infer<typeof BudgetRecord>;

export const budgetsCollection = defineCollection({ name: 'budgets', schema: BudgetRecord });

/** How budgets reach servers: listing a user's servers and draining them to a stop (the scheduler runner). */
export interface BudgetEnforcer {
  listServers(): ServerInfo[];
  drainAndStop(serverId: number, reason: ActionReason): Promise<void>;
  /**
   * False while another process runs the budget checks: a budget set here is then only stored, and checked there
   * (two processes marking the same record would refuse each other's writes). Default true.
   */
  checksHere?(): boolean;
}

export interface BudgetServiceEvents {
  /** 80 % of the month's budget spent. */
  'budget:warning': [status: BudgetStatus];
  /** 100 % spent: the user's running servers are being drained and stopped. */
  'budget:exceeded': [status: BudgetStatus];
}

/**
 * Monthly budgets per user (calendar months in UTC). One timer, set to the instant the first user's spending
 * reaches 80 % or 100 % at the current rates, recomputed whenever a server's cost rate or a budget changes.
 */
export class BudgetService extends EventEmitter<BudgetServiceEvents> {
  #records;
  #ledger: CostLedger;
  #enforcer: BudgetEnforcer | null;
  #clock: Clock;
  #logger: Logger;
  #timer: TimerHandle | null = null;
  /** Between `start` and `close`: only then does a timer check budgets (in one process of several, the lease holder). */
  #active = false;
  #onLedgerChanged = (_serverId: number, userId: number | null) => {
    if (userId !== null) void this.evaluate(userId).catch((err: unknown) => this.#logger.error({ err, userId }, 'budget check failed'));
  };

  /** Without an enforcer (until `enforceWith`), a spent budget still refuses new spending but stops nothing. */
  constructor(options: { store: Store; ledger: CostLedger; enforcer?: BudgetEnforcer; clock?: Clock; logger?: Logger }) {
    super();
    this.#records = options.store.collection(budgetsCollection);
    this.#ledger = options.ledger;
    this.#enforcer = options.enforcer ?? null;
    this.#clock = options.clock ?? systemClock;
    this.#logger = options.logger ?? silentLogger;
  }

  /** Who stops a user's servers: given after construction where the scheduler itself depends on budgets. */
  enforceWith(enforcer: BudgetEnforcer): void {
    this.#enforcer = enforcer;
  }

  /** Watches the ledger and checks every budget once (a limit may have been reached while the process was down). */
  async start(): Promise<void> {
    if (this.#active) return;
    this.#active = true;
    this.#ledger.on('changed', this.#onLedgerChanged);
    await this.#evaluateAll();
  }

  /** Stops watching; `start` may be called again. */
  close(): void {
    this.#active = false;
    this.#ledger.off('changed', this.#onLedgerChanged);
    this.#disarm();
  }

  /** The month's spending against the user's budget. */
  status(userId: number): BudgetStatus {
    const now = this.#clock.now();
    const { month, start } = monthOf(now);
    const limit = this.#record(userId)?.monthlyLimit ?? null;
    const spent = this.#ledger.spent(userId, start, now);
    return {
      userId,
      monthlyLimit: limit,
      month,
      spent: roundUsd(spent),
      remaining: limit === null ? null : roundUsd(Math.max(0, limit - spent)),
      level: budgetLevel(spent, limit),
    };
  }

  /**
   * Sets or removes (null) a user's monthly budget. The value is validated here (VALIDATION_ERROR naming
   * `monthlyLimit`), so a caller may pass it as it came.
   */
  async setBudget(userId: number, monthlyLimit: unknown): Promise<BudgetStatus> {
    const parsed = MonthlyLimit.safeParse(monthlyLimit);
    if (!parsed.success) {
      const message = parsed.error.issues[0]?.message ?? 'is invalid';
      throw new ComfyVastError('VALIDATION_ERROR', `Invalid budget: monthlyLimit ${message}`, { details: { field: 'monthlyLimit', fields: { monthlyLimit: message } } });
    }
    const limit = parsed.data;
    const existing = this.#record(userId);
    const updatedAt = new Date(this.#clock.now()).toISOString();
    if (limit === null) {
      if (existing) await this.#records.delete(existing.id);
    } else if (existing) {
      // A new limit is a new promise: warn and stop again when it is reached.
      await this.#records.update(existing.id, { monthlyLimit: limit, warnedMonth: null, exceededMonth: null, updatedAt });
    } else {
      await this.#records.insert({ userId, monthlyLimit: limit, warnedMonth: null, exceededMonth: null, updatedAt });
    }
    await this.evaluate(userId);
    return this.status(userId);
  }

  /** Throws BUDGET_EXCEEDED (402) when the user may not create or start a server. */
  assertCanSpend(userId: number): void {
    assertWithinBudget(this.status(userId));
  }

  /**
   * Budget records another process wrote or deleted (ids, already in the store's memory): checked here as if set
   * here, when this service runs the checks (`start`); elsewhere the process that runs them does.
   */
  async remoteChanged(recordIds: readonly number[]): Promise<void> {
    if (!this.#active) return;
    for (const id of recordIds) {
      const record = this.#records.get(id);
      if (record) await this.#enforce(record);
    }
    this.#arm();
  }

  /** Sends the month's warning or stops the user's servers when a threshold is reached, then resets the timer. */
  async evaluate(userId: number): Promise<void> {
    const record = this.#record(userId);
    if (record && (this.#enforcer?.checksHere?.() ?? true)) await this.#enforce(record);
    this.#arm();
  }

  async #enforce(record: BudgetRecord): Promise<void> {
    const status = this.status(record.userId);
    if (status.level === 'ok') return;
    if (status.level === 'warning' && record.warnedMonth !== status.month) {
      await this.#records.update(record.id, { warnedMonth: status.month });
      this.emit('budget:warning', status);
      return;
    }
    if (status.level !== 'exceeded') return;
    if (record.exceededMonth !== status.month) {
      await this.#records.update(record.id, { exceededMonth: status.month, warnedMonth: status.month });
      this.emit('budget:exceeded', status);
    }
    const reason: ActionReason = { trigger: 'budget', message: `monthly budget of $${record.monthlyLimit.toFixed(2)} reached for ${status.month}` };
    const enforcer = this.#enforcer;
    if (!enforcer) return;
    for (const server of enforcer.listServers()) {
      if (server.userId === record.userId && BILLED_AS_RUNNING.has(server.status)) await enforcer.drainAndStop(server.id, reason);
    }
  }

  async #evaluateAll(): Promise<void> {
    for (const record of this.#records.all()) await this.#enforce(record);
    this.#arm();
  }

  /** The earliest instant a user's spending crosses their next threshold, or the month's end (spending resets). */
  #arm(): void {
    this.#disarm();
    if (!this.#active) return;
    const now = this.#clock.now();
    let at = monthOf(now).end;
    for (const record of this.#records.all()) {
      const spent = this.#ledger.spent(record.userId, monthOf(now).start, now);
      const threshold = spent < record.monthlyLimit * BUDGET_WARNING_RATIO ? record.monthlyLimit * BUDGET_WARNING_RATIO : record.monthlyLimit;
      if (spent >= record.monthlyLimit) continue;
      const crossing = reachesAt(spent, this.#ledger.burnRate(record.userId), threshold, now);
      if (crossing !== null && crossing < at) at = crossing;
    }
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = null;
      void this.#evaluateAll().catch((err: unknown) => this.#logger.error({ err }, 'budget check failed'));
    }, Math.max(0, at - now));
  }

  #disarm(): void {
    if (this.#timer) this.#clock.clearTimeout(this.#timer);
    this.#timer = null;
  }

  #record(userId: number): BudgetRecord | undefined {
    return this.#records.find((r) => r.userId === userId);
  }
}
