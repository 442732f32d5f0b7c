import { describe, expect, it } from 'vitest';
import { ChangeNotice, MAX_NOTICE_BYTES, recordNotices, type ChangedRecord } from '../../src/store/postgres/change-notices.js';

const record = (id: number, size: number) => JSON.stringify({ id, pad: 'x'.repeat(size) });

describe('recordNotices', () => {
  it('carries the records that fit, sends the others and deletions by id, and keeps every notice under the limit', () => {
    const changed = new Map<number, ChangedRecord>([
      [1, { version: 2, json: record(1, 100) }],
      [2, { version: 0 }],
      [3, { version: 1, json: record(3, MAX_NOTICE_BYTES) }],
      ...Array.from({ length: 40 }, (_, n): [number, ChangedRecord] => [10 + n, { version: 7, json: record(10 + n, 1_000) }]),
    ]);
    const notices = recordNotices('host:1:abc', 'things', changed);
    const parsed = notices.map((n) => ChangeNotice.parse(JSON.parse(n)) as Extract<ChangeNotice, { c: string }>);
    for (const n of notices) expect(Buffer.byteLength(n)).toBeLessThanOrEqual(MAX_NOTICE_BYTES);
    // Forty records of 1 KB do not fit in one notice: they are cut into several, each with its records.
    expect(parsed.filter((n) => n.d).length).toBeGreaterThan(4);

    const seen = new Map<number, { version: number; data: unknown }>();
    for (const n of parsed) {
      expect(n).toMatchObject({ s: 'host:1:abc', c: 'things' });
      n.i.forEach((id, k) => seen.set(id, { version: n.v[k]!, data: n.d?.[k] }));
    }
    expect([...seen.keys()].sort((a, b) => a - b)).toEqual([...changed.keys()].sort((a, b) => a - b));
    for (const [id, { version, json }] of changed) {
      expect(seen.get(id)).toEqual({ version, data: json === undefined || id === 3 ? undefined : JSON.parse(json) });
    }
  });

  it('makes no notice of nothing', () => {
    expect(recordNotices('s', 'things', new Map())).toEqual([]);
  });
});
