import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { canonicalDecimal, decimalSortKey } from '../../src/connectors/sqlite/sqlite-decimal.js';
import type { TableSchema } from '../../src/model/schema.js';
import { collect, createSandbox, tableOf, type SqliteSandbox } from './sqlite-fixtures.js';

/** Exact comparison of two canonical decimals, through BigInt at a common scale. */
function compareExact(a: string, b: string): number {
  const scaleOf = (s: string) => (s.split('.')[1] ?? '').length;
  const scale = Math.max(scaleOf(a), scaleOf(b));
  const asBig = (s: string) => {
    const negative = s.startsWith('-');
    const [int = '0', frac = ''] = (negative ? s.slice(1) : s).split('.');
    const magnitude = BigInt(int + frac.padEnd(scale, '0'));
    return negative ? -magnitude : magnitude;
  };
  const x = asBig(a);
  const y = asBig(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Deterministic pseudo-random decimals: huge, tiny, negative, and neighbours differing in the last digit. */
function sampleDecimals(count: number): string[] {
  let seed = 42;
  // xorshift32: exact in 32-bit integer arithmetic, so the sequence is the same on every run.
  const next = () => {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    return seed >>> 0;
  };
  const digits = (n: number) => Array.from({ length: n }, () => String(next() % 10)).join('');
  const values = new Set<string>([
    '0',
    '1',
    '-1',
    '0.1',
    '-0.1',
    '10',
    '9.99',
    '-10',
    '100000000000000000000.000000001',
  ]);
  while (values.size < count) {
    const sign = next() % 3 === 0 ? '-' : '';
    const int = digits(1 + (next() % 22)).replace(/^0+(?=\d)/, '');
    const frac = digits(next() % 12);
    const value = canonicalDecimal(`${sign}${int}.${frac}`)!;
    values.add(value);
    // A neighbour that a double could not tell apart.
    if (frac.length > 0) values.add(canonicalDecimal(`${sign}${int}.${frac}1`)!);
  }
  return [...values];
}

describe('SQLite decimals', () => {
  it('spells decimals one way', () => {
    expect(canonicalDecimal('1.50')).toBe('1.5');
    expect(canonicalDecimal('1.5', 2)).toBe('1.50');
    expect(canonicalDecimal('1.2345', 2)).toBe('1.2345');
    expect(canonicalDecimal('+007.10')).toBe('7.1');
    expect(canonicalDecimal('-0.000')).toBe('0');
    expect(canonicalDecimal('1e3')).toBe('1000');
    expect(canonicalDecimal('-12.5E-3')).toBe('-0.0125');
    expect(canonicalDecimal('.5')).toBe('0.5');
    expect(canonicalDecimal('1e+21')).toBe('1000000000000000000000');
    expect(canonicalDecimal('abc')).toBeNull();
    expect(canonicalDecimal('1e99999')).toBeNull();
  });

  it('gives sort keys in exact numeric order', () => {
    const values = sampleDecimals(2000);
    const byKey = [...values].sort((a, b) => (decimalSortKey(a)! < decimalSortKey(b)! ? -1 : 1));
    const exact = [...values].sort(compareExact);
    expect(byKey).toEqual(exact);
    expect(decimalSortKey('1.50')).toBe(decimalSortKey('1.5'));
    expect(decimalSortKey('n/a')! > decimalSortKey('99999999999999999999')!).toBe(true);
    expect(decimalSortKey(null)).toBeNull();
  });

  describe('in a table', () => {
    let sandbox: SqliteSandbox;
    let connector: Connector;
    let table: TableSchema;
    const values = sampleDecimals(400);

    beforeAll(async () => {
      sandbox = createSandbox();
      connector = sandbox.connect(sandbox.file(), { create: true });
      await connector.createTable({
        name: 'amounts',
        columns: [
          { name: 'id', type: 'integer', autoIncrement: true },
          { name: 'amount', type: 'decimal', precision: 40, scale: 12 },
        ],
        primaryKey: ['id'],
      });
      table = await tableOf(connector, 'amounts');
      await connector.insert(table, [...values.map((amount) => ({ amount })), { amount: null }]);
    });
    afterAll(() => sandbox.cleanup());

    it('sorts and pages by exact value, NULL first', async () => {
      const { rows } = await collect(
        connector.stream(table, { sort: [{ field: 'amount', dir: 'asc' }], batchSize: 37 }),
      );
      expect(rows[0]!.amount).toBeNull();
      const exact = [...values].sort(compareExact).map((v) => canonicalDecimal(v, 12));
      expect(rows.slice(1).map((r) => r.amount)).toEqual(exact);
    });

    it('filters by exact value', async () => {
      const pivot = '100000000000000000000.000000001';
      const expected = values.filter((v) => compareExact(v, pivot) > 0).length;
      expect(await connector.count(table, { field: 'amount', op: 'gt', value: pivot })).toBe(expected);
      expect(await connector.count(table, { field: 'amount', op: 'gte', value: pivot })).toBe(expected + 1);
      expect(
        await connector.count(table, {
          field: 'amount',
          op: 'eq',
          value: '100000000000000000000.0000000010',
        }),
      ).toBe(1);
    });
  });
});
