import Database from 'better-sqlite3';
import { Kysely, SqliteDialect, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import { sqliteAdapter } from '../../src/connectors/sqlite/sqlite-adapter.js';
import { normalizedDateTimeSql } from '../../src/connectors/sqlite/sqlite-datetime.js';
import type { TableSchema } from '../../src/model/schema.js';
import { coerceRow } from '../../src/model/values.js';
import { collect, createSandbox, tableOf, type SqliteSandbox } from './sqlite-fixtures.js';

const SCHEMA = `
create table vals (
  id integer primary key,
  i integer, big bigint, dtext decimal_text(38, 9), dnum numeric(10, 2), f real, b boolean,
  day date, t time, dt datetime, tz timestamptz, j json, u uuid, bin blob,
  s varchar(20), tx text, e text check (e in ('x', 'y')), untyped
);`;

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64');

describe('SQLite values', () => {
  let sandbox: SqliteSandbox;
  let file: string;
  let connector: Connector;
  let vals: TableSchema;
  /** Reads a stored value the way another tool would see it. */
  const stored = (id: number, column: string): unknown => {
    const db = new Database(file, { readonly: true });
    try {
      return db
        .prepare(`select ${column} as v, typeof(${column}) as type from vals where id = ?`)
        .safeIntegers(true)
        .get(id);
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    sandbox = createSandbox();
    file = sandbox.file();
    sandbox.exec(file, SCHEMA);
    connector = sandbox.connect(file);
    vals = await tableOf(connector, 'vals');
  });
  afterAll(() => sandbox.cleanup());

  it('round-trips every type losslessly', async () => {
    const input = {
      id: 1,
      i: 9007199254740991,
      big: '9223372036854775807',
      dtext: '12345678901234567890.123456789',
      dnum: '1.10',
      f: 0.1 + 0.2,
      b: true,
      day: '2024-02-29',
      t: '23:59:59.5',
      dt: '2024-05-01T10:00:00.123456',
      tz: '2024-05-01T10:00:00+02:00',
      j: { name: 'Zoë', list: [1, 2.5, null, true], nested: { deep: 'é' } },
      u: '6F9619FF-8B86-D011-B42D-00C04FC964FF',
      bin: ALL_BYTES,
      s: 'trailing space ',
      tx: 'emoji 🎉 and 中文',
      e: 'y',
      untyped: 'free text',
    };
    const expected = {
      ...input,
      tz: '2024-05-01T08:00:00Z',
      u: '6f9619ff-8b86-d011-b42d-00c04fc964ff',
    };
    const [inserted] = await connector.insert(vals, [coerceRow(vals, input, { partial: false })]);
    expect(inserted).toEqual(expected);
    expect(await connector.getByKey(vals, { id: 1 })).toEqual(expected);

    // What other tools see in the file.
    expect(stored(1, 'big')).toEqual({ v: 9223372036854775807n, type: 'integer' });
    expect(stored(1, 'dtext')).toEqual({ v: '12345678901234567890.123456789', type: 'text' });
    expect(stored(1, 'b')).toEqual({ v: 1n, type: 'integer' });
    expect(stored(1, 'dt')).toEqual({ v: '2024-05-01 10:00:00.123456', type: 'text' });
    expect(stored(1, 'tz')).toEqual({ v: '2024-05-01 08:00:00', type: 'text' });
    expect(stored(1, 'j')).toEqual({ v: JSON.stringify(input.j), type: 'text' });
    expect(stored(1, 'bin')).toMatchObject({ type: 'blob' });
  });

  it('keeps the 64-bit extremes and false booleans exact', async () => {
    const row = coerceRow(
      vals,
      { id: 2, big: '-9223372036854775808', i: -42, b: false, dtext: '-0.000000001' },
      { partial: false },
    );
    const [inserted] = await connector.insert(vals, [row]);
    expect(inserted).toMatchObject({ big: '-9223372036854775808', i: -42, b: false, dtext: '-0.000000001' });
    const page = await connector.select(vals, {
      filter: { field: 'big', op: 'lt', value: '-9223372036854775807' },
    });
    expect(page.rows.map((r) => r.id)).toEqual([2]);
  });

  it('stores decimals in their canonical spelling and compares them by value', async () => {
    await connector.insert(vals, [
      coerceRow(vals, { id: 10, dtext: '9.5' }, { partial: false }),
      coerceRow(vals, { id: 11, dtext: '10.25' }, { partial: false }),
      coerceRow(vals, { id: 12, dtext: '1e2' }, { partial: false }),
    ]);
    expect((await connector.getByKey(vals, { id: 10 }))!.dtext).toBe('9.500000000');
    expect((await connector.getByKey(vals, { id: 12 }))!.dtext).toBe('100.000000000');
    // Text order would put '10.25' before '9.5'.
    const sorted = await connector.select(vals, {
      filter: { field: 'id', op: 'in', value: [10, 11, 12] },
      sort: [{ field: 'dtext', dir: 'asc' }],
    });
    expect(sorted.rows.map((r) => r.id)).toEqual([10, 11, 12]);
    const gt = await connector.select(vals, { filter: { field: 'dtext', op: 'gt', value: '9.75' } });
    expect(gt.rows.map((r) => r.id).sort()).toEqual([1, 11, 12]);
    const eq = await connector.select(vals, { filter: { field: 'dtext', op: 'eq', value: '9.50' } });
    expect(eq.rows.map((r) => r.id)).toEqual([10]);
  });

  it('documents existing NUMERIC columns: SQLite keeps them as REAL, so digits past 15 are lost on write', async () => {
    await connector.insert(vals, [
      coerceRow(vals, { id: 20, dnum: '12345678901234567890.12' }, { partial: false }),
    ]);
    expect(stored(20, 'dnum')).toMatchObject({ type: 'real' });
    expect((await connector.getByKey(vals, { id: 20 }))!.dnum).not.toBe('12345678901234567890.12');
    const eq = await connector.select(vals, { filter: { field: 'dnum', op: 'eq', value: '1.1' } });
    expect(eq.rows.map((r) => r.id)).toEqual([1]);
  });

  it('answers values stored by other tools in the wire format', async () => {
    sandbox.exec(
      file,
      `insert into vals (id, dt, tz, b, i, day, untyped) values
        (30, '2024-05-01 10:00:00', '2024-05-01 08:00:00', 'true', 9223372036854775807, '2024-05-01', 42),
        (31, '2024-05-01T10:00:00.000Z', '2024-05-01T08:00:00.250Z', 0, 1, '2024-05-02', 1.5),
        (32, 1714557600, 1714557600123, 1, 2, '2024-05-03', x'00ff'),
        (33, 2460431.9166666665, '2024-05-01 10:00:00+02:00', 1, 3, '2024-05-04', null);`,
    );
    const rows = (
      await connector.select(vals, { filter: { field: 'id', op: 'in', value: [30, 31, 32, 33] } })
    ).rows;
    const pick = (id: number) => rows.find((r) => r.id === id)!;
    expect(pick(30)).toMatchObject({
      dt: '2024-05-01T10:00:00',
      tz: '2024-05-01T08:00:00Z',
      b: true,
      i: '9223372036854775807',
      untyped: '42',
    });
    expect(pick(31)).toMatchObject({
      dt: '2024-05-01T10:00:00.000',
      tz: '2024-05-01T08:00:00.250Z',
      b: false,
      untyped: '1.5',
    });
    expect(pick(32)).toMatchObject({ dt: '2024-05-01T10:00:00.000', tz: '2024-05-01T10:00:00.123Z' });
    expect(pick(33).dt).toBe('2024-05-01T10:00:00.000');
    // An offset is answered as stored rather than guessed at.
    expect(pick(33).tz).toBe('2024-05-01 10:00:00+02:00');
  });

  it('matches untyped numbers by their text and finds them by key', async () => {
    const eq = await connector.select(vals, { filter: { field: 'untyped', op: 'eq', value: '42' } });
    expect(eq.rows.map((r) => r.id)).toEqual([30]);
  });

  it('compares datetimes of every spelling in time order, and pages through them without loss', async () => {
    const page = await connector.select(vals, {
      filter: { field: 'dt', op: 'gte', value: '2024-05-01T10:00:00' },
      sort: [{ field: 'dt', dir: 'asc' }],
    });
    expect(page.rows.map((r) => r.id)).toEqual([30, 31, 32, 33, 1]);
    const { rows, batches } = await collect(
      connector.stream(vals, { sort: [{ field: 'dt', dir: 'desc' }], batchSize: 2 }),
    );
    const ids = rows.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const total = await connector.count(vals);
    expect(ids).toHaveLength(total);
    expect(batches).toBe(Math.ceil(total / 2));
  });

  it('keeps the SQL normalization of datetimes identical to decode + encode', async () => {
    const samples: unknown[] = [
      '2024-05-01 10:00:00',
      '2024-05-01T10:00:00.5Z',
      '2024-05-01t10:00',
      '2024-05-01',
      'not a date',
      'TBDz',
      1714557600,
      -1,
      0,
      1721059.5,
      1721059.4,
      -62167219200,
      -62167219201,
      5373484.5,
      253402300799,
      2460431.5,
      1714557600123,
      253402300800123,
      1e20,
      123.456,
    ];
    const db = new Database(':memory:');
    const kysely = new Kysely<any>({ dialect: new SqliteDialect({ database: db }) });
    try {
      for (const kind of ['datetime', 'datetimetz'] as const) {
        const column = { ...vals.columns.find((c) => c.name === (kind === 'datetime' ? 'dt' : 'tz'))! };
        for (const value of samples) {
          const query = sql<{ n: unknown }>`select ${normalizedDateTimeSql(sql`${value}`)} as n`;
          const { rows } = await query.execute(kysely);
          const roundTrip = sqliteAdapter.encode(column, sqliteAdapter.decode(column, value));
          expect({ value, kind, n: rows[0]!.n }).toEqual({ value, kind, n: roundTrip });
        }
      }
    } finally {
      await kysely.destroy();
    }
  });

  it('answers a 64-bit integer beyond 2^53 in an INTEGER column as a string instead of rounding it', async () => {
    const row = await connector.getByKey(vals, { id: 30 });
    expect(row!.i).toBe('9223372036854775807');
    const found = await connector.select(vals, { filter: { field: 'i', op: 'eq', value: 9007199254740991 } });
    expect(found.rows.map((r) => r.id)).toEqual([1]);
  });

  it('stops a stream with an error instead of looping when stored keys do not survive a round trip', async () => {
    // UUIDs kept as 16-byte BLOBs in a UUID column are answered as text, which never equals the BLOB.
    sandbox.exec(
      file,
      'create table blob_ids (id uuid primary key, n int); insert into blob_ids values (randomblob(16), 1), (randomblob(16), 2), (randomblob(16), 3);',
    );
    const blobIds = await tableOf(connector, 'blob_ids');
    const page = await connector.select(blobIds, { limit: 3 });
    expect(page.rows.every((r) => /^[0-9a-f]{8}-[0-9a-f]{4}-/.test(String(r.id)))).toBe(true);
    await expect(collect(connector.stream(blobIds, { batchSize: 1 }))).rejects.toMatchObject({
      code: 'stream_stalled',
    });
  });
});
