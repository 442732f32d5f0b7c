import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, MemoryStore, ServerService, VastClient, type VastInstance } from '@comfy-vast/core';
import { startFakeVast, type FakeVast } from '@comfy-vast/testkit';
import { BudgetService } from '../../src/scheduler/budget.js';
import type { BudgetStatus } from '../../src/scheduler/cost.js';
import { CostLedger } from '../../src/scheduler/ledger.js';
import { HOUR_MS, MINUTE_MS } from '../../src/scheduler/time-zone.js';
import { NO_SPACING } from '../vast/helpers.js';
import { rig } from '../scheduler/setup.js';

// The lease stops and starts the background services as it leaves and comes back: each must start again cleanly.

let fake: FakeVast | undefined;
afterEach(async () => {
  await fake?.close();
});

describe('background services stopped and started again', () => {
  it('the reconciler keeps one timer of passes when stopped and started while a pass is on its way', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 12));
    fake = await startFakeVast({ now: () => clock.now(), intervalsMs: NO_SPACING });
    let lists = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let taken!: () => void;
    const listTaken = new Promise<void>((r) => (taken = r));
    class CountedList extends VastClient {
      override async listInstances(): Promise<VastInstance[]> {
        const all = await super.listInstances();
        lists++;
        taken();
        await gate;
        return all;
      }
    }
    const vast = new CountedList({ apiKey: fake.apiKey, baseUrl: fake.url, clock, minIntervalsMs: NO_SPACING });
    const service = new ServerService({ store: new MemoryStore(), vast, clock, pollIntervalMs: 10_000 });
    try {
      service.startReconciler();
      await clock.advance(0);
      await listTaken;
      service.stopReconciler();
      service.startReconciler();
      release();
      await clock.advance(0);
      await new Promise((r) => setTimeout(r, 20));
      // One timer: the next pass. (Two chains would coincide and join each other's passes, so only the timers show them.)
      expect(clock.pendingTimers).toBe(1);
      const settled = lists;
      for (let i = 1; i <= 3; i++) {
        await clock.advance(10_000);
        await new Promise((r) => setTimeout(r, 20));
        expect(lists - settled).toBe(i);
        expect(clock.pendingTimers).toBe(1);
      }
    } finally {
      service.stopReconciler();
    }
  });

  it('budgets arm no timer before start or after close, and check again once started anew', async () => {
    const clock = new ManualClock(Date.parse('2026-11-01T00:00:00Z'));
    const store = new MemoryStore();
    const ledger = new CostLedger({ store, clock });
    const budgets = new BudgetService({ store, ledger, clock });
    const events: string[] = [];
    budgets.on('budget:warning', (s: BudgetStatus) => events.push(`warning ${s.userId} ${new Date(clock.now()).toISOString()}`));
    await ledger.recordStatus({ id: 1, userId: 7 }, 'running', { pricePerHour: 2, storagePerHour: 0 });

    // Not started (another process holds the lease): setting a budget checks it now but plans nothing.
    await budgets.setBudget(7, 10);
    expect(clock.pendingTimers).toBe(0);
    await budgets.start();
    expect(clock.pendingTimers).toBe(1);
    budgets.close();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(4.5 * HOUR_MS);
    expect(events).toEqual([]);

    // Started again (the lease came back): the warning due meanwhile goes out at once, and only once.
    await budgets.start();
    await budgets.start();
    expect(events).toEqual(['warning 7 2026-11-01T04:30:00.000Z']);
    await ledger.recordStatus({ id: 1, userId: 7 }, 'stopped', { pricePerHour: 2, storagePerHour: 0 });
    expect(events).toHaveLength(1);
    budgets.close();
  });

  it('the scheduler stops acting on its drains when stopped, still refuses work on them as the history says, and takes them up when started again', async () => {
    const r = rig('2026-06-01T21:50Z');
    r.target.add({ id: 1, status: 'running' });
    r.target.setActivity(1, { running: 1 });
    await r.schedule(1, { autoStart: false, timezone: 'America/New_York', weekdays: [1, 2, 3, 4, 5] }, { autoStop: true, stopTime: '18:00' });
    await r.runner.start();
    await r.clock.advanceTo(Date.parse('2026-06-01T22:00Z'));
    expect(r.runner.isDraining(1)).toBe(true);

    // Stopped (the lease went elsewhere): nothing is planned here, but the drain is still under way for the
    // installation, and the history says so to this process as to any other.
    r.runner.close();
    expect(r.runner.nextWakeAt).toBeNull();
    expect(r.runner.isDraining(1)).toBe(true);
    expect(() => r.runner.assertAcceptingWork(1)).toThrow(expect.objectContaining({ details: expect.objectContaining({ stopsBy: '2026-06-01T22:30:00.000Z' }) }));
    await r.clock.advanceTo(Date.parse('2026-06-01T22:05Z'));
    expect(r.target.calls).toEqual([]);

    // Started again within the grace period: the drain is taken up from the history, with its deadline and no
    // second entry, and the server stops once the work is over; the next 18:00 stop is planned.
    await r.clock.advanceTo(Date.parse('2026-06-01T22:10Z'));
    await r.runner.start();
    expect(r.runner.isDraining(1)).toBe(true);
    expect(() => r.runner.assertAcceptingWork(1)).toThrow(expect.objectContaining({ details: expect.objectContaining({ stopsBy: '2026-06-01T22:30:00.000Z' }) }));
    r.target.setActivity(1, { running: 0 });
    await r.clock.advance(MINUTE_MS);
    expect(r.target.calls.map((c) => `${c.action} ${new Date(c.at).toISOString()}`)).toEqual(['stop 2026-06-01T22:11:00.000Z']);
    expect(r.runner.history.list(1).items.map((h) => h.event)).toEqual(['stopped', 'draining']);
    expect(r.runner.nextWakeAt).toBe(Date.parse('2026-06-02T22:00Z'));
    r.runner.close();
  });
});
