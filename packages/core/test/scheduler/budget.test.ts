import { describe, expect, it } from 'vitest';
import { BudgetService } from '../../src/scheduler/budget.js';
import type { BudgetStatus } from '../../src/scheduler/cost.js';
import { CostLedger } from '../../src/scheduler/ledger.js';
import { HOUR_MS, MINUTE_MS } from '../../src/scheduler/time-zone.js';
import { iso, rig } from './setup.js';

const prices = { pricePerHour: 2, storagePerHour: 0.1 };

/** A runner, a ledger fed by every status change (as the facade does) and a budget service over both. */
async function budgetRig() {
  const r = rig('2026-11-01T00:00Z');
  const ledger = new CostLedger({ store: r.store, clock: r.clock });
  const budgets = new BudgetService({ store: r.store, ledger, clock: r.clock, enforcer: { listServers: () => r.target.listServers(), drainAndStop: (id, reason) => r.runner.drainAndStop(id, reason) } });
  r.target.onChange = (id) => {
    const server = r.target.getServer(id)!;
    void ledger.recordStatus(server, server.status, prices);
    r.runner.serverChanged(id);
  };
  r.target.add({ id: 1, status: 'running', userId: 7 });
  r.target.add({ id: 2, status: 'running', userId: 8 });
  for (const s of r.target.listServers()) await ledger.recordStatus(s, 'running', prices);
  await r.runner.start();
  await budgets.start();
  const events: string[] = [];
  const log = (kind: string) => (s: BudgetStatus) => events.push(`${kind} ${s.userId} ${iso(r.clock.now())} ${s.spent}`);
  budgets.on('budget:warning', log('warning'));
  budgets.on('budget:exceeded', log('exceeded'));
  return { ...r, ledger, budgets, events };
}

describe('budgets', () => {
  it('warns at 80 %, drains and stops the user’s servers at 100 %, and refuses new spending', async () => {
    const b = await budgetRig();
    b.target.setActivity(1, { running: 1 });
    await b.budgets.setBudget(7, 10);
    expect(b.budgets.status(7)).toEqual({ userId: 7, monthlyLimit: 10, month: '2026-11', spent: 0, remaining: 10, level: 'ok' });

    await b.clock.advance(5 * HOUR_MS);
    expect(b.events).toEqual(['warning 7 2026-11-01T04:00Z 8', 'exceeded 7 2026-11-01T05:00Z 10']);
    expect(b.runner.isDraining(1)).toBe(true);
    expect(b.runner.history.list(1).items[0]).toMatchObject({ event: 'draining', trigger: 'budget' });
    expect(b.runner.history.list(1).items[0]?.reason).toContain('monthly budget of $10.00 reached for 2026-11; waiting for 1 running generation');
    expect(() => b.budgets.assertCanSpend(7)).toThrow(expect.objectContaining({ code: 'BUDGET_EXCEEDED' }));
    expect(() => b.budgets.assertCanSpend(8)).not.toThrow();

    await b.clock.advance(10 * MINUTE_MS);
    b.target.setActivity(1, { running: 0 });
    await b.runner.activityChanged(1);
    expect(b.target.calls.map((c) => `${c.action} ${c.serverId} ${iso(c.at)} ${c.reason.trigger}`)).toEqual(['stop 1 2026-11-01T05:10Z budget']);
    expect(b.target.getServer(2)?.status).toBe('running');
    // Stopped, the server costs its disk only.
    expect(b.ledger.currentRate(1)).toBe(0.1);
    expect(b.ledger.costSoFar(1)).toBeCloseTo(2 * (5 + 1 / 6), 9);
  });

  it('acts at once when a budget is set below what the month already cost', async () => {
    const b = await budgetRig();
    await b.clock.advance(3 * HOUR_MS);
    const status = await b.budgets.setBudget(7, 5);
    expect(status).toMatchObject({ spent: 6, remaining: 0, level: 'exceeded' });
    expect(b.events).toEqual(['exceeded 7 2026-11-01T03:00Z 6']);
    expect(b.target.calls.map((c) => `${c.action} ${c.serverId}`)).toEqual(['stop 1']);
    expect(() => b.budgets.assertCanSpend(7)).toThrow(/Monthly budget of \$5.00 reached for 2026-11 \(\$6.00 spent\)/);
  });

  it('starts afresh with the new month', async () => {
    const b = await budgetRig();
    await b.budgets.setBudget(8, 4);
    await b.clock.advanceTo(Date.parse('2026-11-30T23:59Z'));
    expect(b.target.calls.map((c) => `${c.action} ${c.serverId} ${iso(c.at)}`)).toEqual(['stop 2 2026-11-01T02:00Z']);
    expect(() => b.budgets.assertCanSpend(8)).toThrow(expect.objectContaining({ code: 'BUDGET_EXCEEDED' }));
    await b.clock.advance(MINUTE_MS);
    expect(b.budgets.status(8)).toMatchObject({ month: '2026-12', level: 'ok' });
    expect(() => b.budgets.assertCanSpend(8)).not.toThrow();
  });

  it('refuses a limit that is not a positive amount, naming the field', async () => {
    const b = await budgetRig();
    await expect(b.budgets.setBudget(7, -5)).rejects.toMatchObject({ code: 'VALIDATION_ERROR', details: { field: 'monthlyLimit' } });
    await expect(b.budgets.setBudget(7, '50')).rejects.toThrow('Invalid budget: monthlyLimit must be a number of dollars, or null to remove the budget');
    await expect(b.budgets.setBudget(7, undefined)).rejects.toMatchObject({ code: 'VALIDATION_ERROR' });
    await b.budgets.setBudget(7, 3);
    await b.budgets.setBudget(7, null);
    expect(b.budgets.status(7)).toMatchObject({ monthlyLimit: null, remaining: null, level: 'ok' });
  });
});

describe('budget timer across the calendar', () => {
  // The first days of a 31-day month put the month's end more than 24.8 days away: past one Node timer.
  for (const start of ['2026-12-01T00:00Z', '2026-12-06T12:00Z', '2026-11-01T00:00Z', '2027-02-01T00:00Z', '2026-12-28T00:00Z']) {
    it(`waits for the month's end from ${start} without spinning`, async () => {
      const r = rig(start);
      const ledger = new CostLedger({ store: r.store, clock: r.clock });
      const budgets = new BudgetService({ store: r.store, ledger, clock: r.clock, enforcer: { listServers: () => [], drainAndStop: async () => {} } });
      await budgets.start();
      await budgets.setBudget(7, 10);
      await r.clock.advance(HOUR_MS);
      expect(r.clock.fired).toBe(0);
      const begin = new Date(start);
      const end = Date.UTC(begin.getUTCFullYear(), begin.getUTCMonth() + 1, 1);
      await r.clock.advanceTo(end - 1);
      expect(budgets.status(7).month).toBe(start.slice(0, 7));
      // At most one re-arm per 24.8 days before the month's end.
      expect(r.clock.fired).toBeLessThanOrEqual(1);
      await r.clock.advanceTo(end);
      expect(budgets.status(7).month).not.toBe(start.slice(0, 7));
      expect(r.clock.fired).toBeLessThanOrEqual(2);
      budgets.close();
    });
  }
});
