import { Kysely, MysqlDialect } from 'kysely';
import { describe, expect, it } from 'vitest';
import { MysqlAdapter } from '../../src/connectors/mysql/mysql-adapter.js';
import { compileFilter } from '../../src/connectors/shared/filter-compiler.js';
import type { Filter } from '../../src/model/filter.js';
import type { TableSchema } from '../../src/model/schema.js';
import { coerceRow, type Row } from '../../src/model/values.js';
import { IS_MARIADB, MYSQL_AVAILABLE, useMysqlDatabase } from './mysql-fixture.js';

/** Native MariaDB/MySQL types (not created through Braid), read and written losslessly. */
const DDL = `
create table vals (
  id int primary key,
  big bigint, big_u bigint unsigned, amount decimal(38,9), ratio double,
  flag tinyint(1), bit1 bit(1), yr year,
  day date, clock time(6), at datetime(6), stamp timestamp(6) null,
  doc json, ref ${IS_MARIADB ? 'uuid' : 'char(36)'}, bin varbinary(300), blob_col longblob,
  size enum('small','large'), tags set('a','b','c'), label varchar(100), body text
);
create table words (id int primary key, word varchar(40) collate utf8mb4_general_ci, key ix_word (word));
create table codes (code varchar(10) collate utf8mb4_general_ci primary key, n int);
`;

const ALL_BYTES = Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString('base64');

const ROW: Row = {
  id: 1,
  big: '9223372036854775807',
  big_u: '9223372036854775807',
  amount: '12345678901234567890123456789.123456789',
  ratio: 0.1,
  flag: true,
  bit1: true,
  yr: 2024,
  day: '2024-02-29',
  clock: '23:59:59.123456',
  at: '2024-02-29T23:59:59.000001',
  stamp: '2024-03-01T01:30:00.654321+02:00',
  doc: { a: [1, 'two', null, { deep: true }], 'ü€𝄞': 'x\ty\n', n: -0.5 },
  ref: '6BA7B810-9DAD-11D1-80B4-00C04FD430C8',
  bin: ALL_BYTES,
  blob_col: Buffer.from('\0\n\t\\\r\x1a\'"', 'latin1').toString('base64'),
  size: 'large',
  tags: 'a,c',
  label: 'Ünïcödé 🎉 "q" \'s\' \\ %_ ',
  body: 'line\nbreak\ttab\r\n\0nul',
};

const STORED: Row = {
  ...ROW,
  stamp: '2024-02-29T23:30:00.654321Z',
  // A native UUID answers in canonical lower case; MySQL's char(36) keeps the text as written.
  ref: IS_MARIADB ? '6ba7b810-9dad-11d1-80b4-00c04fd430c8' : '6BA7B810-9DAD-11D1-80B4-00C04FD430C8',
};

describe.skipIf(!MYSQL_AVAILABLE)('MySQL wire values', () => {
  const db = useMysqlDatabase('vals', DDL);
  let vals: TableSchema;
  let words: TableSchema;

  it('inserts a row of every type and answers it unchanged', async () => {
    vals = await db.table('vals');
    words = await db.table('words');
    const input = coerceRow(vals, ROW, { partial: false });
    const [stored] = await db.connector.insert(vals, [input]);
    expect(stored).toEqual(STORED);
  });

  it('runs every session in UTC with strict sql_mode, backslash escapes on and a statement limit', async () => {
    const limit = IS_MARIADB ? '@@session.max_statement_time' : '@@session.max_execution_time / 1000';
    const { rows } = await db.connector.rawQuery(
      `select @@session.time_zone as tz, @@session.sql_mode as mode, ${limit} as lim`,
    );
    expect(rows[0]!.tz).toBe('+00:00');
    expect(String(rows[0]!.mode).split(',')).toContain('STRICT_ALL_TABLES');
    expect(String(rows[0]!.mode)).not.toContain('NO_BACKSLASH_ESCAPES');
    expect(Number(rows[0]!.lim)).toBe(10);
  });

  it('select, getByKey and stream answer the same values', async () => {
    expect((await db.connector.select(vals, {})).rows).toEqual([STORED]);
    expect(await db.connector.getByKey(vals, { id: 1 })).toEqual(STORED);
    const batches: Row[][] = [];
    for await (const batch of db.connector.stream(vals)) batches.push(batch);
    expect(batches).toEqual([[STORED]]);
  });

  it('the extremes and NULL survive', async () => {
    const low = coerceRow(
      vals,
      {
        id: 2,
        big: '-9223372036854775808',
        big_u: '0',
        amount: '-99999999999999999999999999999.999999999',
        flag: false,
        bit1: false,
        day: '1000-01-01',
        clock: '00:00:00',
        at: '9999-12-31T23:59:59.999999',
        stamp: '1970-01-01T00:00:01Z',
        doc: [],
        bin: '',
        label: '',
      },
      { partial: false },
    );
    const [stored] = await db.connector.insert(vals, [low]);
    expect(stored).toMatchObject({
      big: '-9223372036854775808',
      big_u: '0',
      amount: '-99999999999999999999999999999.999999999',
      flag: false,
      bit1: false,
      day: '1000-01-01',
      clock: '00:00:00',
      at: '9999-12-31T23:59:59.999999',
      stamp: '1970-01-01T00:00:01Z',
      doc: [],
      bin: '',
      label: '',
      body: null,
      ratio: null,
      ref: null,
    });
    const [nulls] = await db.connector.insert(vals, [{ id: 3 }]);
    expect(Object.entries(nulls!).filter(([k, v]) => k !== 'id' && v !== null)).toEqual([]);
  });

  it('a JSON string value stays a string (stringified on write, parsed on read)', async () => {
    const updated = await db.connector.update(vals, { id: 3 }, { doc: '{"looks":"like json"}' });
    expect(updated!.doc).toBe('{"looks":"like json"}');
    const raw = await db.connector.rawQuery('select doc from vals where id = 3');
    expect(raw.rows[0]!.doc).toBe('"{\\"looks\\":\\"like json\\"}"');
  });

  const ids = async (filter: Filter, table = vals): Promise<unknown[]> =>
    (
      await db.connector.select(table, {
        filter,
        limit: 1000,
        sort: table === words ? [{ field: 'word', dir: 'asc' }] : [],
      })
    ).rows.map((r) => (table === words ? r.word : r.id));

  it('bigint and decimal compare exactly, not as doubles', async () => {
    expect(await ids({ field: 'big', op: 'eq', value: '9223372036854775807' })).toEqual([1]);
    expect(await ids({ field: 'big', op: 'eq', value: '9223372036854775806' })).toEqual([]);
    expect(await ids({ field: 'big', op: 'gt', value: '9223372036854775806' })).toEqual([1]);
    expect(
      await ids({ field: 'amount', op: 'eq', value: '12345678901234567890123456789.123456789' }),
    ).toEqual([1]);
    expect(
      await ids({ field: 'amount', op: 'eq', value: '12345678901234567890123456789.123456788' }),
    ).toEqual([]);
    expect(await ids({ field: 'amount', op: 'lt', value: '-9.99999999999999999999999999999e28' })).toEqual([
      2,
    ]);
  });

  it('datetimetz filters take any offset; booleans and enums filter by value', async () => {
    expect(await ids({ field: 'stamp', op: 'eq', value: '2024-03-01T00:30:00.654321+01:00' })).toEqual([1]);
    expect(await ids({ field: 'flag', op: 'eq', value: false })).toEqual([2]);
    expect(await ids({ field: 'bit1', op: 'eq', value: true })).toEqual([1]);
    expect(await ids({ field: 'size', op: 'in', value: ['large'] })).toEqual([1]);
    if (IS_MARIADB)
      expect(await ids({ field: 'ref', op: 'eq', value: '6ba7b810-9dad-11d1-80b4-00c04fd430c8' })).toEqual([
        1,
      ]);
  });

  it('string equality is exact despite the case-insensitive, space-padding collation', async () => {
    const list = ['abc', 'ABD', 'abc ', 'Äbc', '100%_x\\y', 'zz'];
    await db.connector.insert(
      words,
      list.map((word, i) => ({ id: i + 1, word })),
    );
    expect(await ids({ field: 'word', op: 'eq', value: 'abc' }, words)).toEqual(['abc']);
    expect(await ids({ field: 'word', op: 'eq', value: 'ABC' }, words)).toEqual([]);
    expect(await ids({ field: 'word', op: 'eq', value: 'abc ' }, words)).toEqual(['abc ']);
    expect(await ids({ field: 'word', op: 'in', value: ['ABD', 'abc'] }, words)).toEqual(['ABD', 'abc']);
    expect(await ids({ field: 'word', op: 'eq', value: 'abc', caseInsensitive: true }, words)).toEqual([
      'abc',
    ]);
    expect(await ids({ field: 'word', op: 'eq', value: 'äBC', caseInsensitive: true }, words)).toEqual([
      'Äbc',
    ]);
  });

  it('key lookups on a case-insensitive string key are exact', async () => {
    const codes = await db.table('codes');
    await db.connector.insert(codes, [{ code: 'abc', n: 1 }]);
    expect(await db.connector.getByKey(codes, { code: 'abc' })).toEqual({ code: 'abc', n: 1 });
    expect(await db.connector.getByKey(codes, { code: 'ABC' })).toBeNull();
    expect(await db.connector.getByKey(codes, { code: 'abc ' })).toBeNull();
    expect(await db.connector.update(codes, { code: 'ABC' }, { n: 2 })).toBeNull();
    expect(await db.connector.delete(codes, { code: 'ABC' })).toBe(false);
    expect(await db.connector.getByKey(codes, { code: 'abc' })).toEqual({ code: 'abc', n: 1 });
  });

  it('sorts and compares strings by code point, and keyset pages follow that order', async () => {
    const order = ['100%_x\\y', 'ABD', 'abc', 'abc ', 'zz', 'Äbc'];
    const sort = [{ field: 'word', dir: 'asc' as const }];
    expect((await db.connector.select(words, { sort })).rows.map((r) => r.word)).toEqual(order);
    const desc = await db.connector.select(words, { sort: [{ field: 'word', dir: 'desc' }] });
    expect(desc.rows.map((r) => r.word)).toEqual([...order].reverse());
    const paged: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await db.connector.select(words, { sort, limit: 2, ...(cursor ? { cursor } : {}) });
      paged.push(...page.rows.map((r) => r.word));
      cursor = page.next ?? undefined;
    } while (cursor);
    expect(paged).toEqual(order);
    expect(await ids({ field: 'word', op: 'gt', value: 'abc' }, words)).toEqual(['abc ', 'zz', 'Äbc']);
    expect(await ids({ field: 'word', op: 'lt', value: 'a' }, words)).toEqual(['100%_x\\y', 'ABD']);
  });

  it('contains, startsWith and endsWith match %, _ and backslash literally, case-sensitive unless asked', async () => {
    expect(await ids({ field: 'word', op: 'contains', value: '%_' }, words)).toEqual(['100%_x\\y']);
    expect(await ids({ field: 'word', op: 'contains', value: '_' }, words)).toEqual(['100%_x\\y']);
    expect(await ids({ field: 'word', op: 'endsWith', value: 'x\\y' }, words)).toEqual(['100%_x\\y']);
    expect(await ids({ field: 'word', op: 'startsWith', value: 'ab' }, words)).toEqual(['abc', 'abc ']);
    expect(await ids({ field: 'word', op: 'startsWith', value: 'AB' }, words)).toEqual(['ABD']);
    expect(await ids({ field: 'word', op: 'startsWith', value: 'ab', caseInsensitive: true }, words)).toEqual(
      ['ABD', 'abc', 'abc '],
    );
    expect(await ids({ field: 'word', op: 'endsWith', value: 'c' }, words)).toEqual(['abc', 'Äbc']);
    expect(await ids({ field: 'word', op: 'contains', value: 'ÄB', caseInsensitive: true }, words)).toEqual([
      'Äbc',
    ]);
    expect(await ids({ field: 'label', op: 'contains', value: '\\ %_' })).toEqual([1]);
  });

  it('exact equality and exact prefix matches can still use the index on the column', async () => {
    // The SQL the adapter generates, explained: the index must be usable for the first test.
    const compiler = new Kysely<any>({
      dialect: new MysqlDialect({ pool: async () => Promise.reject(new Error('unused')) }),
    });
    for (const filter of [
      { field: 'word', op: 'eq', value: 'abc' },
      { field: 'word', op: 'startsWith', value: 'ab' },
    ] as Filter[]) {
      const where = compileFilter(filter, words, new MysqlAdapter(10_000)).compile(compiler);
      const plan = await db.connector.rawQuery(`explain select id from words where ${where.sql}`, [
        ...where.parameters,
      ]);
      expect(String(plan.rows[0]!.possible_keys), JSON.stringify(plan.rows[0])).toContain('ix_word');
    }
  });

  it('reads BIGINT UNSIGNED beyond 2^63 exactly (writes go through the portable bigint range)', async () => {
    await db.connector.rawQuery('insert into vals (id, big_u) values (4, 18446744073709551615)');
    expect((await db.connector.getByKey(vals, { id: 4 }))!.big_u).toBe('18446744073709551615');
  });
});
