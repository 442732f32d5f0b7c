import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock, MAX_TIMER_DELAY, systemClock } from '../../src/util/index.js';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('timers longer than one Node timer holds', () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  afterEach(() => {
    process.off('warning', onWarning);
    warnings.length = 0;
  });

  it('the system clock waits a 31-day delay without firing early or warning', async () => {
    process.on('warning', onWarning);
    let fired = false;
    const handle = systemClock.setTimeout(() => (fired = true), 31 * DAY_MS);
    await new Promise((r) => setTimeout(r, 50));
    systemClock.clearTimeout(handle);
    expect(fired).toBe(false);
    expect(warnings.map((w) => w.name)).toEqual([]);
  });

  it('the system clock still fires short delays, and a cancelled one never', async () => {
    const order: string[] = [];
    systemClock.setTimeout(() => order.push('short'), 5);
    const cancelled = systemClock.setTimeout(() => order.push('cancelled'), 10);
    systemClock.clearTimeout(cancelled);
    await new Promise((r) => setTimeout(r, 40));
    expect(order).toEqual(['short']);
  });

  it('the manual clock fires a long timer exactly at its due time, in chunks no longer than one timer holds', async () => {
    const clock = new ManualClock(Date.parse('2026-12-01T00:00Z'));
    const firedAt: number[] = [];
    clock.setTimeout(() => firedAt.push(clock.now()), 60 * DAY_MS);
    await clock.advance(MAX_TIMER_DELAY - 1);
    expect(firedAt).toEqual([]);
    await clock.advance(1);
    // The first chunk ran and re-armed; the callback has not.
    expect([clock.fired, firedAt.length, clock.pendingTimers]).toEqual([1, 0, 1]);
    await clock.advance(60 * DAY_MS);
    expect(firedAt).toEqual([Date.parse('2026-12-01T00:00Z') + 60 * DAY_MS]);
    expect(clock.fired).toBe(3);
  });

  it('cancels a long timer between its chunks', async () => {
    const clock = new ManualClock(0);
    let fired = false;
    const handle = clock.setTimeout(() => (fired = true), 40 * DAY_MS);
    await clock.advance(30 * DAY_MS);
    clock.clearTimeout(handle);
    await clock.advance(30 * DAY_MS);
    expect(fired).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });

  it('treats NaN and negative delays as now and Infinity as never', async () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    clock.setTimeout(() => fired.push('nan'), Number.NaN);
    clock.setTimeout(() => fired.push('negative'), -5);
    clock.setTimeout(() => fired.push('never'), Number.POSITIVE_INFINITY);
    await clock.advance(0);
    await clock.advance(400 * DAY_MS);
    expect(fired).toEqual(['nan', 'negative']);
  });
});
