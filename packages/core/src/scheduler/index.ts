export { TimeZone, TimeZones, isKnownTimeZone, DAY_MS, HOUR_MS, MINUTE_MS } from './time-zone.js';
export {
  nextStart,
  nextStop,
  nextAction,
  nextOccurrence,
  previousOccurrence,
  isInsideWindow,
  isOvernight,
  minutesOf,
  type ScheduleTimes,
  type ScheduleAction,
  type PlannedAction,
} from './schedule-time.js';
export {
  Schedule,
  ScheduleTime,
  ScheduleTimezone,
  ScheduleWeekday,
  ScheduleWeekdays,
  IdleStopMinutes,
  ScheduleStartUpdate,
  ScheduleStopUpdate,
  DEFAULT_SCHEDULE,
  mergeSchedule,
  parseScheduleUpdate,
  type ScheduleInput,
  type ScheduleSide,
} from './schedule-schema.js';
export { ScheduleService, isoSeconds, type ScheduleView, type ScheduleEntry, type ScheduleServiceEvents } from './schedule-service.js';
export { ScheduleRecord, SchedulerHistoryRecord, CutWork, schedulesCollection, schedulerHistoryCollection } from './records.js';
export { SchedulerHistory, type HistoryEntry } from './history.js';
export { hasWork, inUse, type ScheduleTarget, type ServerInfo, type ServerActivity, type ActionReason, type ActionTrigger } from './schedule-target.js';
export { idleStopAt, idleCheckAt } from './idle.js';
export { SchedulerRunner, type SchedulerRunnerOptions, type SchedulerRunnerEvents } from './runner.js';
export {
  rateInStatus,
  costBetween,
  generationCost,
  monthOf,
  budgetLevel,
  assertWithinBudget,
  reachesAt,
  roundUsd,
  BUDGET_WARNING_RATIO,
  type Prices,
  type StatusChange,
  type BudgetLevel,
  type BudgetStatus,
} from './cost.js';
export { CostLedger, CostEventRecord, costEventsCollection, type CostLedgerEvents } from './ledger.js';
export { BudgetService, BudgetUpdate, BudgetRecord, MonthlyLimit, budgetsCollection, type BudgetEnforcer, type BudgetServiceEvents } from './budget.js';
export { ServerWatchers, type ServerWatchersEvents } from './watchers.js';
export { ServerScheduleTarget, type GenerationActivity, type RemoteActivity, type ServerScheduleTargetOptions } from './server-schedule-target.js';
