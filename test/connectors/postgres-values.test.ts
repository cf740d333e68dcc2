import { describe, expect, it } from 'vitest';
import { PORTABLE_TYPES, type TableSchema } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { postgresAvailable } from '../support/servers.js';
import { usePostgresSchema } from './postgres-fixture.js';

const available = await postgresAvailable();

const SCHEMA = `
  create type mood as enum ('sad', 'ok', 'happy');
  create table everything (
    id bigint primary key,
    i int, s smallint, n numeric, n2 numeric(10, 2), f8 double precision, f4 real, b boolean,
    d date, t time, ttz timetz, ts timestamp, tstz timestamptz,
    j jsonb, jj json, js jsonb, u uuid, bin bytea,
    txt text, vc varchar(10), ch char(3), e mood, ec text check (ec in ('x', 'y')),
    arr text[], arr_big int8[], arr_num numeric[], arr_tstz timestamptz[], arr_bin bytea[],
    arr_mood mood[], arr_2d int[], arr_json jsonb[],
    iv interval, ip inet
  );
`;

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64');

/** One row of wire values, exactly as they must come back. */
const ROW: Row = {
  id: '9223372036854775807',
  i: 2147483647,
  s: -32768,
  n: '12345678901234567890.123456789',
  n2: '-12.50',
  f8: 1.7976931348623157e308,
  f4: 1.5,
  b: false,
  d: '2024-02-29',
  t: '23:59:59.123456',
  ttz: '10:00:00.5',
  ts: '2024-05-01T10:00:00.123456',
  tstz: '2024-05-01T08:00:00.123456Z',
  j: { a: [1, 'x', null, { b: true }], big: 1.5 },
  jj: [1, 2, 3],
  js: 'just a string',
  u: '0a1b2c3d-4e5f-4789-abcd-ef0123456789',
  bin: ALL_BYTES,
  txt: 'tab\there\nnew line \\ backslash "quote" \'single\' 😀 é \r end',
  vc: 'ten chars!',
  ch: 'ab ',
  e: 'happy',
  ec: 'y',
  arr: ['a', 'b c', null, 'd"e', '{x}', 'NULL', 'back\\slash', ''],
  arr_big: ['9223372036854775807', '-1'],
  arr_num: ['1.10', '2'],
  arr_tstz: ['2024-05-01T08:00:00.5Z', null],
  arr_bin: [Buffer.from('hi\u0000\n').toString('base64')],
  arr_mood: ['sad', 'ok'],
  arr_2d: [
    [1, 2],
    [3, 4],
  ],
  arr_json: [{ a: 1 }, [1, 2], 'x'],
  iv: 'P1DT2H',
  ip: '192.168.0.1/24',
};

describe.skipIf(!available)('PostgreSQL values', () => {
  const pg = usePostgresSchema('bpg_values', SCHEMA);
  let table: TableSchema;

  it('round-trips every type losslessly through insert, getByKey and select', async () => {
    table = await pg.table('everything');
    const [inserted] = await pg.connector.insert(table, [ROW]);
    expect(inserted).toEqual(ROW);
    expect(await pg.connector.getByKey(table, { id: ROW.id })).toEqual(ROW);
    const page = await pg.connector.select(table, { filter: { field: 'id', op: 'eq', value: ROW.id } });
    expect(page.rows).toEqual([ROW]);
  });

  it('finds the row with eq and with in on every comparable type', async () => {
    const comparable = [
      'id',
      'i',
      'n',
      'n2',
      'f8',
      'b',
      'd',
      't',
      'ts',
      'tstz',
      'u',
      'bin',
      'txt',
      'vc',
      'ch',
      'e',
      'ec',
      'ip',
    ];
    for (const field of comparable) {
      const other = field === 'b' ? true : field === 'e' ? 'sad' : undefined;
      const values = other === undefined ? [ROW[field]] : [other, ROW[field]];
      for (const filter of [
        { field, op: 'eq' as const, value: ROW[field] },
        { field, op: 'in' as const, value: values },
      ]) {
        const page = await pg.connector.select(table, { filter, fields: ['id'] });
        expect({ filter, ids: page.rows.map((r) => r.id) }).toEqual({ filter, ids: [ROW.id] });
      }
    }
    const notIn = await pg.connector.select(table, { filter: { field: 'e', op: 'notIn', value: ['happy'] } });
    expect(notIn.rows.some((r) => r.id === ROW.id)).toBe(false);
  });

  it('round-trips every type through COPY (bulkLoad) as well', async () => {
    const copied = { ...ROW, id: '-9223372036854775808' };
    expect(await pg.connector.bulkLoad(table, [[copied]])).toEqual({ rows: 1 });
    expect(await pg.connector.getByKey(table, { id: copied.id })).toEqual(copied);
  });

  it('answers instants in UTC whatever offset they were written with, and keeps nulls', async () => {
    const [row] = await pg.connector.insert(table, [
      { id: '1', tstz: '2024-01-01T00:30:00.000001+02:00', ttz: '01:00:00+05:30', ts: '1999-12-31T23:59:59' },
    ]);
    expect(row).toMatchObject({
      tstz: '2023-12-31T22:30:00.000001Z',
      ttz: '19:30:00',
      ts: '1999-12-31T23:59:59',
    });
    expect(row!.txt).toBeNull();
    expect(row!.arr).toBeNull();
  });

  it('passes values a wire type cannot express through as PostgreSQL writes them', async () => {
    const [row] = await pg.connector.insert(table, [{ id: '2', tstz: 'infinity', d: '-infinity', n: 'NaN' }]);
    expect(row).toMatchObject({ tstz: 'infinity', d: '-infinity', n: 'NaN' });
  });

  it('answers rawQuery values lossless too: int8 and numeric as strings, instants as ISO', async () => {
    const { rows } = await pg.connector.rawQuery(
      `select 9223372036854775807::int8 as big, 0.1::numeric(20,19) as num, '2024-05-01 10:00:00.5+02'::timestamptz as at,
              '2024-05-01 10:00'::timestamp as local, '\\x00ff'::bytea as bin, array[1.5, 2]::numeric[] as nums`,
    );
    expect(rows).toEqual([
      {
        big: '9223372036854775807',
        num: '0.1000000000000000000',
        at: '2024-05-01T08:00:00.5Z',
        local: '2024-05-01T10:00:00',
        bin: Buffer.from([0, 255]).toString('base64'),
        nums: ['1.5', '2'],
      },
    ]);
  });

  it('creates tables from every portable type and introspects them back to the same types', async () => {
    await pg.connector.createTable({
      schema: pg.schema,
      name: 'portable',
      columns: [
        { name: 'id', type: 'bigint', autoIncrement: true },
        ...PORTABLE_TYPES.map((type) => ({
          name: `c_${type}`,
          type,
          ...(type === 'enum' ? { enumValues: ['red', "it's", 'back\\slash'] } : {}),
          ...(type === 'string' ? { maxLength: 40 } : {}),
          ...(type === 'decimal' ? { precision: 12, scale: 4 } : {}),
        })),
        { name: 'flag', type: 'boolean', nullable: false, defaultValue: true },
        { name: 'label', type: 'string', maxLength: 10, defaultValue: "o'k" },
      ],
      uniqueIndexes: [{ name: 'portable_label', columns: ['label'] }],
    });
    const created = await pg.table('portable');
    expect(created.columns.map((c) => c.type)).toEqual(['bigint', ...PORTABLE_TYPES, 'boolean', 'string']);
    expect(created.primaryKey).toEqual(['id']);
    expect(created.columns[0]).toMatchObject({ autoIncrement: true });
    const byName = Object.fromEntries(created.columns.map((c) => [c.name, c]));
    expect(byName.c_enum).toMatchObject({ nativeType: 'text', enumValues: ['red', "it's", 'back\\slash'] });
    expect(byName.c_string).toMatchObject({ nativeType: 'character varying(40)', maxLength: 40 });
    expect(byName.c_decimal).toMatchObject({ nativeType: 'numeric(12,4)', precision: 12, scale: 4 });
    expect(byName.c_datetimetz!.nativeType).toBe('timestamp with time zone');
    expect(byName.c_json!.nativeType).toBe('jsonb');
    expect(byName.flag).toMatchObject({ nullable: false, defaultValue: 'true' });
    expect(created.uniqueIndexes).toEqual([{ name: 'portable_label', columns: ['label'] }]);
    const [row] = await pg.connector.insert(created, [{ c_enum: "it's" }]);
    expect(row).toMatchObject({ id: '1', flag: true, label: "o'k", c_enum: "it's" });
  });

  it('adds, renames and drops columns', async () => {
    const before = await pg.table('portable');
    await pg.connector.alterTable(before, [
      { op: 'addColumn', column: { name: 'extra', type: 'enum', enumValues: ['a', 'b'] } },
      { op: 'renameColumn', from: 'c_text', to: 'notes' },
      { op: 'dropColumn', name: 'c_uuid' },
    ]);
    const after = await pg.table('portable');
    const names = after.columns.map((c) => c.name);
    expect(names).toContain('notes');
    expect(names).not.toContain('c_text');
    expect(names).not.toContain('c_uuid');
    expect(after.columns.find((c) => c.name === 'extra')).toMatchObject({
      type: 'enum',
      enumValues: ['a', 'b'],
    });
  });
});
