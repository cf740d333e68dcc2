import { describe, expect, it } from 'vitest';
import { plainColumn } from '../model/schema.js';
import { RowChecksum, canonical } from './target-checksum.js';

const columns = [
  plainColumn('id', 'bigint'),
  plainColumn('amount', 'decimal'),
  plainColumn('at', 'datetimetz'),
  plainColumn('doc', 'json'),
];

describe('target checksum', () => {
  it('a value and its read-back form from any engine agree', () => {
    expect(canonical(plainColumn('d', 'decimal'), '1.50')).toBe(
      canonical(plainColumn('d', 'decimal'), '1.5'),
    );
    expect(canonical(plainColumn('d', 'decimal'), '-0.00')).toBe(canonical(plainColumn('d', 'decimal'), '0'));
    expect(canonical(plainColumn('d', 'decimal'), '007.10')).toBe('7.1');
    expect(canonical(plainColumn('t', 'datetimetz'), '2026-01-01T10:00:00.000000Z')).toBe(
      '2026-01-01T10:00:00Z',
    );
    expect(canonical(plainColumn('t', 'datetime'), '2026-01-01 10:00:00.120')).toBe('2026-01-01T10:00:00.12');
    expect(canonical(plainColumn('j', 'json'), '{"b":1,"a":[2]}')).toBe(
      canonical(plainColumn('j', 'json'), { a: [2], b: 1 }),
    );
    expect(canonical(plainColumn('b', 'boolean'), 1)).toBe(canonical(plainColumn('b', 'boolean'), true));
    expect(canonical(plainColumn('s', 'string'), null)).not.toBe(canonical(plainColumn('s', 'string'), ''));
  });

  it('does not depend on row order, and counts a duplicated row', () => {
    const rows = [
      { id: '1', amount: '1.50', at: '2026-01-01T10:00:00Z', doc: { a: 1 } },
      { id: '2', amount: '2', at: null, doc: null },
    ];
    const forward = new RowChecksum(columns);
    rows.forEach((r) => forward.add(r));
    const backward = new RowChecksum(columns);
    [...rows].reverse().forEach((r) => backward.add({ ...r, amount: r.amount === '2' ? '2.00' : r.amount }));
    expect(backward.value()).toBe(forward.value());
    const doubled = new RowChecksum(columns);
    [...rows, rows[0]!].forEach((r) => doubled.add(r));
    expect(doubled.value()).not.toBe(forward.value());
    const changed = new RowChecksum(columns);
    [rows[0]!, { ...rows[1]!, amount: '2.01' }].forEach((r) => changed.add(r));
    expect(changed.value()).not.toBe(forward.value());
  });
});
