import type { BudgetStatus, SchedulerHistoryRecord, ServerApi, ServerStatus } from '@comfy-vast/core';
import type { BudgetEvent, SchedulerActionEvent, ServerStatusEvent } from '../contract/index.js';

/** A server's status as its subscribers get it; `previous` only when it is a change. */
export function toServerStatusEvent(server: ServerApi, previous?: ServerStatus): ServerStatusEvent {
  const data = { status: server.status, isLaunched: server.isLaunched, statusReason: server.statusReason };
  return { type: 'server:status', serverId: server.id, data: previous === undefined ? data : { ...data, previous } };
}

export function toSchedulerActionEvent(record: SchedulerHistoryRecord): SchedulerActionEvent {
  return { type: 'scheduler:action', serverId: record.serverId, data: record };
}

export function toBudgetEvent(type: BudgetEvent['type'], status: BudgetStatus): BudgetEvent {
  return { type, data: status };
}
