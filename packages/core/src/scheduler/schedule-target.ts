/**
 * What the scheduler needs from the rest of the system, and nothing more. The facade adapts ServerService and
 * GenerationService to it; tests use a small in-memory target.
 */

/** Status words as the servers domain spells them (`running`, `stopped`, `starting`, `stopping`, `creating`, ...). */
export interface ServerInfo {
  id: number;
  name: string;
  status: string;
  /** The owner, for budgets and for history records; null for servers without one. */
  userId: number | null;
}

/** Work on a server right now. A stop waits while any of it is non-zero; idle stop also counts subscribers. */
export interface ServerActivity {
  /** Generations waiting in the server's queue. */
  queued: number;
  /** Generations executing. */
  running: number;
  /** A setup (ComfyUI install, reset) is in progress. */
  setup: boolean;
  /** Model downloads in progress. */
  downloads: number;
  /** Clients subscribed to one of the server's generations. */
  subscribers: number;
  /**
   * Epoch ms of the last sign of use: a generation queued or finished, a setup or download ended, a subscriber
   * left, or the server becoming `running` (so a freshly started server gets its full idle allowance).
   */
  lastActivityAt: number;
}

/** Why the scheduler acts; written to the history with every action. */
export type ActionTrigger = 'schedule' | 'catch-up' | 'idle' | 'budget';

export interface ActionReason {
  trigger: ActionTrigger;
  /** A sentence for people: "scheduled stop at 18:00 America/New_York". */
  message: string;
}

export interface ScheduleTarget {
  listServers(): ServerInfo[];
  getServer(serverId: number): ServerInfo | undefined;
  start(serverId: number, reason: ActionReason): Promise<void>;
  stop(serverId: number, reason: ActionReason): Promise<void>;
  activity(serverId: number): ServerActivity;
}

/** True when stopping now would cut work (subscribers alone do not hold a stop). */
export function hasWork(activity: ServerActivity): boolean {
  return activity.queued > 0 || activity.running > 0 || activity.setup || activity.downloads > 0;
}

/** True when the server is in use, for idle stop: work or a client watching one of its generations. */
export function inUse(activity: ServerActivity): boolean {
  return hasWork(activity) || activity.subscribers > 0;
}
