import { describe, expect, it } from 'vitest';
import type { TableDefinition } from '../../src/model/schema.js';
import { coerceRow, type Row } from '../../src/model/values.js';
import { engines, useDatabase } from './engines.js';
import { canonicalDecimal, idsWhere, insertRows } from './helpers.js';

/**
 * Wire values (model/values.ts) survive insert -> select -> getByKey -> stream -> update unchanged
 * on every engine: bigint and decimal as exact strings, microseconds, datetimetz in UTC, JSON,
 * all 256 byte values, and the empty string distinct from NULL.
 */
const samples: TableDefinition = {
  name: 'samples',
  columns: [
    { name: 'id', type: 'integer' },
    { name: 's', type: 'string', maxLength: 50, nullable: true },
    { name: 't', type: 'text', nullable: true },
    { name: 'i', type: 'integer', nullable: true },
    { name: 'b', type: 'bigint', nullable: true },
    { name: 'd', type: 'decimal', precision: 38, scale: 18, nullable: true },
    { name: 'f', type: 'float', nullable: true },
    { name: 'flag', type: 'boolean', nullable: true },
    { name: 'day', type: 'date', nullable: true },
    { name: 'clock', type: 'time', nullable: true },
    { name: 'at', type: 'datetime', nullable: true },
    { name: 'atz', type: 'datetimetz', nullable: true },
    { name: 'doc', type: 'json', nullable: true },
    { name: 'ref', type: 'uuid', nullable: true },
    { name: 'bin', type: 'binary', nullable: true },
    { name: 'size', type: 'enum', enumValues: ['small', 'medium', 'large'], nullable: true },
  ],
  primaryKey: ['id'],
};

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64');
const LONG_TEXT = 'ü'.repeat(30_000) + '🎉'.repeat(10_000) + 'x'.repeat(30_000);
const NULL_ROW: Row = Object.fromEntries(
  samples.columns.filter((c) => c.name !== 'id').map((c) => [c.name, null]),
);

/** [input, the stored row as every engine must answer it]. */
const CASES: [input: Row, stored: Row][] = [
  [
    {
      id: 1,
      s: 'Ünïcödé 🎉 日本 "q" \'s\' \\ %_',
      t: LONG_TEXT,
      i: 2147483647,
      b: '9223372036854775807',
      d: '12345678901234567890.123456789012345678',
      f: 0.1,
      flag: true,
      day: '2024-02-29',
      clock: '23:59:59.123456',
      at: '2024-02-29T23:59:59.123456',
      atz: '2024-03-01T01:30:00.654321+02:00',
      doc: {
        a: 1,
        b: [1, 2, { c: 'ü€𝄞' }],
        d: null,
        e: '日本語🎉',
        f: true,
        g: 1.5,
        h: { i: { j: ['deep'] } },
      },
      ref: '6BA7B810-9DAD-11D1-80B4-00C04FD430C8',
      bin: ALL_BYTES,
      size: 'medium',
    },
    {
      id: 1,
      s: 'Ünïcödé 🎉 日本 "q" \'s\' \\ %_',
      t: LONG_TEXT,
      i: 2147483647,
      b: '9223372036854775807',
      d: '12345678901234567890.123456789012345678',
      f: 0.1,
      flag: true,
      day: '2024-02-29',
      clock: '23:59:59.123456',
      at: '2024-02-29T23:59:59.123456',
      atz: '2024-02-29T23:30:00.654321Z',
      doc: {
        a: 1,
        b: [1, 2, { c: 'ü€𝄞' }],
        d: null,
        e: '日本語🎉',
        f: true,
        g: 1.5,
        h: { i: { j: ['deep'] } },
      },
      ref: '6ba7b810-9dad-11d1-80b4-00c04fd430c8',
      bin: ALL_BYTES,
      size: 'medium',
    },
  ],
  [
    {
      id: 2,
      s: '',
      t: '',
      i: -2147483648,
      b: '-9223372036854775808',
      d: '-0.000000000000000001',
      f: -123456.789,
      flag: false,
      day: '1970-01-01',
      clock: '00:00:00',
      at: '1970-01-01T00:00:00',
      atz: '1970-01-01T00:00:01Z',
      doc: [1, 'two', null, { x: [] }, true, -0.5],
      ref: '00000000-0000-0000-0000-000000000000',
      bin: '',
      size: 'small',
    },
    {
      id: 2,
      s: '',
      t: '',
      i: -2147483648,
      b: '-9223372036854775808',
      d: '-0.000000000000000001',
      f: -123456.789,
      flag: false,
      day: '1970-01-01',
      clock: '00:00:00',
      at: '1970-01-01T00:00:00',
      atz: '1970-01-01T00:00:01Z',
      doc: [1, 'two', null, { x: [] }, true, -0.5],
      ref: '00000000-0000-0000-0000-000000000000',
      bin: '',
      size: 'small',
    },
  ],
  [{ id: 3 }, { id: 3, ...NULL_ROW }],
  [
    {
      id: 4,
      s: '🎉'.repeat(50),
      t: 'line\nbreak\ttab\r\n',
      i: 0,
      b: '9007199254740993',
      d: '0.000000000000000000',
      f: 1e300,
      flag: true,
      day: '9999-12-31',
      clock: '12:00',
      at: '9999-12-31T23:59:59.999999',
      atz: '2038-01-19T03:14:07-00:00',
      doc: {},
      ref: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      bin: Buffer.from('hello\0world\n\xff', 'latin1').toString('base64'),
      size: 'large',
    },
    {
      id: 4,
      s: '🎉'.repeat(50),
      t: 'line\nbreak\ttab\r\n',
      i: 0,
      b: '9007199254740993',
      d: '0.000000000000000000',
      f: 1e300,
      flag: true,
      day: '9999-12-31',
      clock: '12:00:00',
      at: '9999-12-31T23:59:59.999999',
      atz: '2038-01-19T03:14:07Z',
      doc: {},
      ref: 'ffffffff-ffff-ffff-ffff-ffffffffffff',
      bin: Buffer.from('hello\0world\n\xff', 'latin1').toString('base64'),
      size: 'large',
    },
  ],
];

describe.each(engines)('wire values on $kind', (engine) => {
  const inserted: Row[] = [];
  const db = useDatabase(engine, [samples, { ...samples, name: 'samples_loaded' }], async (d) => {
    inserted.push(
      ...(await insertRows(
        d,
        'samples',
        CASES.map(([input]) => input),
      )),
    );
  });

  it('introspection answers the portable types the table was created with', () => {
    const table = db.table('samples');
    expect(table.primaryKey).toEqual(['id']);
    expect(table.columns.map((c) => [c.name, c.type, c.nullable])).toEqual(
      samples.columns.map((c) => [c.name, c.type, c.nullable ?? c.name !== 'id']),
    );
    const byName = (name: string) => table.columns.find((c) => c.name === name)!;
    expect(byName('size').enumValues).toEqual(['small', 'medium', 'large']);
    expect(byName('s').maxLength).toBe(50);
    expect([byName('d').precision, byName('d').scale]).toEqual([38, 18]);
  });

  it.each(CASES.map(([input, stored]) => [input.id, stored] as const))(
    'row %i: insert answers the stored row',
    (id, stored) => {
      expect(inserted.find((r) => r.id === id)).toEqual(stored);
    },
  );

  it.each(CASES.map(([input, stored]) => [input.id, stored] as const))(
    'row %i: select and getByKey answer it',
    async (id, stored) => {
      const table = db.table('samples');
      const page = await db.connector.select(table, { filter: { field: 'id', op: 'eq', value: id } });
      expect(page.rows).toEqual([stored]);
      expect(await db.connector.getByKey(table, { id })).toEqual(stored);
    },
  );

  it("bulkLoad (the engine's fastest path: COPY, LOAD DATA) stores the same values as insert", async () => {
    const table = db.table('samples_loaded');
    const rows = CASES.map(([input]) => coerceRow(table, input, { partial: false }));
    expect(await db.connector.bulkLoad(table, [rows.slice(0, 2), rows.slice(2)])).toEqual({
      rows: CASES.length,
    });
    const page = await db.connector.select(table, { limit: 100 });
    expect(page.rows).toEqual(CASES.map(([, stored]) => stored));
  });

  it('stream answers the same rows', async () => {
    const rows: Row[] = [];
    for await (const batch of db.connector.stream(db.table('samples'), { batchSize: 3 })) rows.push(...batch);
    expect(rows).toEqual(CASES.map(([, stored]) => stored));
  });

  it('wire types: bigint and decimal strings, numbers, booleans, base64, JSON values', async () => {
    const row = (await db.connector.getByKey(db.table('samples'), { id: 1 }))!;
    expect(typeof row.b).toBe('string');
    expect(typeof row.d).toBe('string');
    expect(typeof row.i).toBe('number');
    expect(typeof row.f).toBe('number');
    expect(typeof row.flag).toBe('boolean');
    expect(Buffer.from(String(row.bin), 'base64').equals(Buffer.from(ALL_BYTES, 'base64'))).toBe(true);
    expect(row.doc).toBeTypeOf('object');
  });

  it('the empty string is not NULL', async () => {
    expect(await idsWhere(db, 'samples', { field: 's', op: 'eq', value: '' })).toEqual([2]);
    expect(await idsWhere(db, 'samples', { field: 't', op: 'eq', value: '' })).toEqual([2]);
    expect(await idsWhere(db, 'samples', { field: 's', op: 'isNull' })).toEqual([3]);
    expect(await idsWhere(db, 'samples', { field: 'bin', op: 'isNull' })).toEqual([3]);
    expect(await idsWhere(db, 'samples', { field: 'bin', op: 'notNull' })).toEqual([1, 2, 4]);
    expect(await idsWhere(db, 'samples', { field: 'doc', op: 'isNull' })).toEqual([3]);
    expect(await idsWhere(db, 'samples', { field: 'doc', op: 'notNull' })).toEqual([1, 2, 4]);
  });

  it('update writes every type and answers the stored row; NULL writes back', async () => {
    const table = db.table('samples');
    const [, full] = CASES[0]!;
    const { id: _id, ...values } = full;
    const updated = await db.connector.update(table, { id: 3 }, values);
    expect(updated).toEqual({ ...full, id: 3 });
    expect(await db.connector.getByKey(table, { id: 3 })).toEqual({ ...full, id: 3 });
    const cleared = await db.connector.update(table, { id: 3 }, NULL_ROW);
    expect(cleared).toEqual({ id: 3, ...NULL_ROW });
  });

  it('datetime and datetimetz hold instants before 1970 and after 2038', async () => {
    const table = db.table('samples');
    const instants = [
      '1000-01-01T00:00:00',
      '1969-07-20T20:17:40',
      '1970-01-01T00:00:00',
      '2038-01-19T03:14:08',
      '2100-01-01T00:00:00',
    ];
    const input = instants.map((at, i) => ({ id: 20 + i, at, atz: `${at}Z` }));
    const stored = await insertRows(db, 'samples', input);
    expect(stored.map((r) => [r.at, r.atz])).toEqual(input.map((r) => [r.at, r.atz]));
    const filter = { field: 'atz', op: 'lt' as const, value: '1970-01-01T00:00:00.000001Z' };
    expect(await db.connector.count(table, filter)).toBe(3);
  });

  /**
   * One answer for one value on every engine: decimals are answered at the column's scale, and
   * fractional seconds with as many digits as they need (none for whole seconds, see rows 2 and 4).
   */
  it('decimals answer at the column scale; fractional seconds without padding', async () => {
    const table = db.table('samples');
    const [stored] = await insertRows(db, 'samples', [
      {
        id: 10,
        d: '1.5',
        at: '2024-06-30T23:59:59.5',
        atz: '2024-06-30T23:59:59.5-07:30',
        clock: '10:00:00.25',
      },
    ]);
    const again = await db.connector.getByKey(table, { id: 10 });
    for (const row of [stored!, again!]) {
      expect(canonicalDecimal(row.d)).toBe('1.5');
      expect({ d: row.d, at: row.at, atz: row.atz, clock: row.clock }).toEqual({
        d: '1.500000000000000000',
        at: '2024-06-30T23:59:59.5',
        atz: '2024-07-01T07:29:59.5Z',
        clock: '10:00:00.25',
      });
    }
  });
});
