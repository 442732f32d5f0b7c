/**
 * Cost math, as pure functions. Vast bills per second: `dph_total` ($/hour, GPU and disk) while an instance runs
 * (and until a stop has taken effect), the disk alone (`storage_total_cost`, $/hour) from creation until it is destroyed, running or not.
 */
import { ComfyVastError } from '../errors/index.js';
import { HOUR_MS } from './time-zone.js';

export interface Prices {
  /** `dph_total`: $/hour while running, disk included. */
  pricePerHour: number;
  /** `storage_total_cost`: $/hour of the disk, billed in every status but `deleted`. */
  storagePerHour: number;
}

/** One status a server held from `at` until the next change (its prices as of then). */
export interface StatusChange extends Prices {
  status: string;
  at: number;
}

/** $/hour a server costs in a status: the full price until the container is down, the disk after. */
export function rateInStatus(status: string, prices: Prices): number {
  if (status === 'running' || status === 'stopping') return prices.pricePerHour;
  if (status === 'deleted') return 0;
  return prices.storagePerHour;
}

/** Dollars spent between `from` and `to` by a server whose status changes are given in time order. */
export function costBetween(changes: readonly StatusChange[], from: number, to: number): number {
  let total = 0;
  for (let i = 0; i < changes.length; i++) {
    const change = changes[i]!;
    const start = Math.max(change.at, from);
    const end = Math.min(changes[i + 1]?.at ?? to, to);
    if (end > start) total += (rateInStatus(change.status, change) * (end - start)) / HOUR_MS;
  }
  return total;
}

/** A generation's share of its server's price: the GPU seconds it used at the running price. */
export function generationCost(gpuSeconds: number, pricePerHour: number): number {
  return (Math.max(0, gpuSeconds) * pricePerHour) / 3600;
}

/** The calendar month (UTC) holding an instant: `[start, end)` and its label `YYYY-MM`. */
export function monthOf(instant: number): { month: string; start: number; end: number } {
  const d = new Date(instant);
  const year = d.getUTCFullYear();
  const month = d.getUTCMonth();
  return { month: `${year}-${String(month + 1).padStart(2, '0')}`, start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
}

export const BUDGET_WARNING_RATIO = 0.8;

export type BudgetLevel = 'ok' | 'warning' | 'exceeded';

/** `warning` from 80 % of the limit, `exceeded` from 100 %; `ok` without a limit. */
export function budgetLevel(spent: number, monthlyLimit: number | null): BudgetLevel {
  if (monthlyLimit === null) return 'ok';
  if (spent >= monthlyLimit) return 'exceeded';
  return spent >= monthlyLimit * BUDGET_WARNING_RATIO ? 'warning' : 'ok';
}

export interface BudgetStatus {
  userId: number;
  /** Dollars per calendar month (UTC); null when the user has no budget. */
  monthlyLimit: number | null;
  month: string;
  spent: number;
  remaining: number | null;
  level: BudgetLevel;
}

/** Throws BUDGET_EXCEEDED (402) when the month's spending has reached the limit. */
export function assertWithinBudget(status: BudgetStatus): void {
  if (status.level !== 'exceeded') return;
  throw new ComfyVastError(
    'BUDGET_EXCEEDED',
    `Monthly budget of $${status.monthlyLimit!.toFixed(2)} reached for ${status.month} ($${status.spent.toFixed(2)} spent): no server can be created or started until an admin raises it or the month ends`,
    { details: { userId: status.userId, month: status.month, monthlyLimit: status.monthlyLimit, spent: roundUsd(status.spent) } },
  );
}

/** Dollars to the hundredth of a cent, for answers and messages. */
export function roundUsd(dollars: number): number {
  return Math.round(dollars * 10_000) / 10_000;
}

/**
 * When spending at `ratePerHour` from `spent` reaches `threshold`, or null when it never does at that rate.
 */
export function reachesAt(spent: number, ratePerHour: number, threshold: number, now: number): number | null {
  if (spent >= threshold) return now;
  if (ratePerHour <= 0) return null;
  return now + Math.ceil(((threshold - spent) / ratePerHour) * HOUR_MS);
}
