import { describe, expect, it } from 'vitest';
import { budgetLevel, costBetween, rateInStatus, generationCost, monthOf, reachesAt, type StatusChange } from '../../src/scheduler/cost.js';

const t0 = Date.parse('2026-11-02T00:00Z');
const min = 60_000;
const prices = { pricePerHour: 0.5, storagePerHour: 0.02 };
// Created, running ten minutes later for two hours, stopped for 2 h 50 min, then destroyed.
const life: StatusChange[] = [
  { status: 'creating', at: t0, ...prices },
  { status: 'running', at: t0 + 10 * min, ...prices },
  { status: 'stopped', at: t0 + 130 * min, ...prices },
  { status: 'deleted', at: t0 + 300 * min, ...prices },
];

describe('cost math', () => {
  it('bills the GPU price while running and the disk alone otherwise, nothing once deleted', () => {
    // 10 min x 0.02 + 2 h x 0.50 + 170 min x 0.02
    expect(costBetween(life, -Infinity, t0 + 360 * min)).toBeCloseTo(0.02 / 6 + 1 + (0.02 * 170) / 60, 9);
  });

  it.each([
    ['running', 0.5],
    ['stopping', 0.5],
    ['creating', 0.02],
    ['starting', 0.02],
    ['stopped', 0.02],
    ['error', 0.02],
    ['deleted', 0],
  ])('bills %s at $%d an hour', (status, rate) => {
    expect(rateInStatus(status, prices)).toBe(rate);
  });

  it('clips to a period', () => {
    // 70 min running + 50 min stopped
    expect(costBetween(life, t0 + 60 * min, t0 + 180 * min)).toBeCloseTo((0.5 * 70) / 60 + (0.02 * 50) / 60, 9);
    expect(costBetween(life, t0 - 60 * min, t0)).toBe(0);
    expect(costBetween([], t0, t0 + min)).toBe(0);
  });

  it('charges a generation its GPU seconds at the running price', () => {
    expect(generationCost(90, 0.5)).toBeCloseTo(0.0125, 12);
    expect(generationCost(-3, 0.5)).toBe(0);
  });

  it('splits time into UTC calendar months', () => {
    expect(monthOf(Date.parse('2026-11-27T17:00Z'))).toEqual({ month: '2026-11', start: Date.parse('2026-11-01T00:00Z'), end: Date.parse('2026-12-01T00:00Z') });
    expect(monthOf(Date.parse('2026-12-31T23:59Z'))).toEqual({ month: '2026-12', start: Date.parse('2026-12-01T00:00Z'), end: Date.parse('2027-01-01T00:00Z') });
  });

  it.each([
    [79.99, 100, 'ok'],
    [80, 100, 'warning'],
    [99.99, 100, 'warning'],
    [100, 100, 'exceeded'],
    [1e6, null, 'ok'],
  ] as const)('spending %d of %s is %s', (spent, limit, level) => {
    expect(budgetLevel(spent, limit)).toBe(level);
  });

  it('projects when spending reaches a threshold at the current rate', () => {
    expect(reachesAt(2, 4, 10, t0)).toBe(t0 + 2 * 60 * min);
    expect(reachesAt(12, 4, 10, t0)).toBe(t0);
    expect(reachesAt(2, 0, 10, t0)).toBeNull();
  });
});
