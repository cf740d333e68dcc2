import { describe, expect, it } from 'vitest';
import type { Filter } from '../../src/model/filter.js';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { engines, useDatabase } from './engines.js';
import { idsWhere, insertRows, walkPages } from './helpers.js';

/**
 * Typed comparisons and the logic of the filter language: two-valued logic (a condition on NULL is
 * false except isNull, ne and notIn), `eq null` is isNull, `not` simply inverts, and/or nest.
 * bigint and decimal values are compared exactly, beyond what a double can hold.
 */
const measures: TableDefinition = {
  name: 'measures',
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'n', type: 'integer', nullable: true },
    { name: 'big', type: 'bigint', nullable: true },
    { name: 'amount', type: 'decimal', precision: 30, scale: 10, nullable: true },
    { name: 'ratio', type: 'float', nullable: true },
    { name: 'day', type: 'date', nullable: true },
    { name: 'at', type: 'datetime', nullable: true },
    { name: 'atz', type: 'datetimetz', nullable: true },
    { name: 'clock', type: 'time', nullable: true },
    { name: 'flag', type: 'boolean', nullable: true },
    { name: 'ref', type: 'uuid', nullable: true },
    { name: 'size', type: 'enum', enumValues: ['small', 'medium', 'large'], nullable: true },
  ],
  primaryKey: ['id'],
};

const UUID_1 = '00000000-0000-0000-0000-000000000001';
const UUID_2 = '00000000-0000-0000-0000-000000000002';
const UUID_A = '00000000-0000-0000-0000-00000000000a';
const UUID_F = 'ffffffff-ffff-ffff-ffff-ffffffffffff';
const UUID_6 = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';

const ROWS: Row[] = [
  {
    id: 1,
    n: -5,
    big: '-9223372036854775808',
    amount: '-1.5',
    ratio: -0.5,
    day: '1999-12-31',
    at: '1999-12-31T23:59:59',
    atz: '1999-12-31T23:59:59Z',
    clock: '00:00:00',
    flag: false,
    ref: UUID_1,
    size: 'small',
  },
  {
    id: 2,
    n: 0,
    big: '0',
    amount: '0',
    ratio: 0,
    day: '2000-01-01',
    at: '2000-01-01T00:00:00',
    atz: '2000-01-01T02:00:00+02:00',
    clock: '08:30:00',
    flag: true,
    ref: UUID_2,
    size: 'medium',
  },
  {
    id: 3,
    n: 7,
    big: '9007199254740993',
    amount: '12345678901234567890.1234567890',
    ratio: 2.5,
    day: '2024-02-29',
    at: '2024-02-29T12:30:00.123456',
    atz: '2024-02-29T12:30:00.123456Z',
    clock: '12:30:00.123456',
    flag: true,
    ref: UUID_A,
    size: 'large',
  },
  {
    id: 4,
    n: 7,
    big: '9007199254740992',
    amount: '12345678901234567890.1234567889',
    ratio: 2.25,
    day: '2024-03-01',
    at: '2024-02-29T12:30:00.123457',
    atz: '2024-02-29T14:30:00.123457+02:00',
    clock: '12:30:00.123457',
    flag: false,
    ref: UUID_F.toUpperCase(),
    size: 'small',
  },
  { id: 5 },
  {
    id: 6,
    n: 100,
    big: '9223372036854775807',
    amount: '99999999999999999999.9999999999',
    ratio: 1e10,
    day: '2100-01-01',
    at: '2100-01-01T00:00:00',
    atz: '2037-12-31T00:00:00Z',
    clock: '23:59:59',
    flag: true,
    ref: UUID_6,
    size: 'large',
  },
];

type Case = [label: string, filter: Filter, ids: number[]];

const comparisons: Case[] = [
  ['integer eq', { field: 'n', op: 'eq', value: 7 }, [3, 4]],
  ['integer eq as string', { field: 'n', op: 'eq', value: '7' }, [3, 4]],
  ['integer lt', { field: 'n', op: 'lt', value: 7 }, [1, 2]],
  ['integer lte', { field: 'n', op: 'lte', value: 7 }, [1, 2, 3, 4]],
  ['integer gt', { field: 'n', op: 'gt', value: 0 }, [3, 4, 6]],
  ['integer gte', { field: 'n', op: 'gte', value: 0 }, [2, 3, 4, 6]],
  ['integer in', { field: 'n', op: 'in', value: [7, 100, 12345] }, [3, 4, 6]],
  ['integer notIn', { field: 'n', op: 'notIn', value: [7] }, [1, 2, 5, 6]],
  ['integer ne', { field: 'n', op: 'ne', value: 7 }, [1, 2, 5, 6]],
  ['bigint eq beyond 2^53', { field: 'big', op: 'eq', value: '9007199254740993' }, [3]],
  ['bigint eq 2^53', { field: 'big', op: 'eq', value: '9007199254740992' }, [4]],
  ['bigint gt 2^53', { field: 'big', op: 'gt', value: '9007199254740992' }, [3, 6]],
  ['bigint lt 2^53+1', { field: 'big', op: 'lt', value: '9007199254740993' }, [1, 2, 4]],
  ['bigint max', { field: 'big', op: 'gte', value: '9223372036854775807' }, [6]],
  ['bigint min', { field: 'big', op: 'lte', value: '-9223372036854775808' }, [1]],
  ['bigint in', { field: 'big', op: 'in', value: ['9007199254740993', '0'] }, [2, 3]],
  ['bigint notIn', { field: 'big', op: 'notIn', value: ['9007199254740993'] }, [1, 2, 4, 5, 6]],
  ['decimal eq 30 digits', { field: 'amount', op: 'eq', value: '12345678901234567890.123456789' }, [3]],
  [
    'decimal gt by last digit',
    { field: 'amount', op: 'gt', value: '12345678901234567890.1234567889' },
    [3, 6],
  ],
  ['decimal lt', { field: 'amount', op: 'lt', value: '0' }, [1]],
  ['decimal eq as number', { field: 'amount', op: 'eq', value: -1.5 }, [1]],
  ['float eq', { field: 'ratio', op: 'eq', value: 2.5 }, [3]],
  ['float gt', { field: 'ratio', op: 'gt', value: 2.25 }, [3, 6]],
  ['float lt', { field: 'ratio', op: 'lt', value: 0 }, [1]],
  ['date eq', { field: 'day', op: 'eq', value: '2024-02-29' }, [3]],
  ['date gte', { field: 'day', op: 'gte', value: '2024-02-29' }, [3, 4, 6]],
  ['date lt', { field: 'day', op: 'lt', value: '2000-01-01' }, [1]],
  ['datetime eq with microseconds', { field: 'at', op: 'eq', value: '2024-02-29T12:30:00.123456' }, [3]],
  ['datetime gt by one microsecond', { field: 'at', op: 'gt', value: '2024-02-29T12:30:00.123456' }, [4, 6]],
  ['datetime lte', { field: 'at', op: 'lte', value: '2000-01-01T00:00:00' }, [1, 2]],
  ['datetime with space separator', { field: 'at', op: 'eq', value: '2000-01-01 00:00:00' }, [2]],
  ['datetimetz eq in another zone', { field: 'atz', op: 'eq', value: '2000-01-01T01:00:00+01:00' }, [2]],
  ['datetimetz gt', { field: 'atz', op: 'gt', value: '2024-02-29T13:30:00.123456+01:00' }, [4, 6]],
  ['datetimetz lt', { field: 'atz', op: 'lt', value: '2000-01-01T00:00:00Z' }, [1]],
  ['time eq', { field: 'clock', op: 'eq', value: '08:30:00' }, [2]],
  ['time gt microseconds', { field: 'clock', op: 'gt', value: '12:30:00.123456' }, [4, 6]],
  ['time lt', { field: 'clock', op: 'lt', value: '08:30' }, [1]],
  ['boolean eq true', { field: 'flag', op: 'eq', value: true }, [2, 3, 6]],
  ['boolean eq false', { field: 'flag', op: 'eq', value: false }, [1, 4]],
  ['boolean ne true', { field: 'flag', op: 'ne', value: true }, [1, 4, 5]],
  ['boolean in', { field: 'flag', op: 'in', value: [false] }, [1, 4]],
  ['uuid eq upper-case input', { field: 'ref', op: 'eq', value: UUID_F.toUpperCase() }, [4]],
  ['uuid eq', { field: 'ref', op: 'eq', value: UUID_6 }, [6]],
  ['uuid in', { field: 'ref', op: 'in', value: [UUID_1, UUID_A] }, [1, 3]],
  ['uuid gt', { field: 'ref', op: 'gt', value: UUID_2 }, [3, 4, 6]],
  ['uuid ne', { field: 'ref', op: 'ne', value: UUID_1 }, [2, 3, 4, 5, 6]],
  ['enum eq', { field: 'size', op: 'eq', value: 'small' }, [1, 4]],
  ['enum in', { field: 'size', op: 'in', value: ['medium', 'large'] }, [2, 3, 6]],
  ['enum notIn', { field: 'size', op: 'notIn', value: ['small'] }, [2, 3, 5, 6]],
  ['enum lt compares the text by code point', { field: 'size', op: 'lt', value: 'medium' }, [3, 6]],
];

const nullLogic: Case[] = [
  ['isNull', { field: 'n', op: 'isNull' }, [5]],
  ['notNull', { field: 'n', op: 'notNull' }, [1, 2, 3, 4, 6]],
  ['eq null is isNull', { field: 'n', op: 'eq', value: null }, [5]],
  ['ne null is notNull', { field: 'n', op: 'ne', value: null }, [1, 2, 3, 4, 6]],
  ['lt on NULL is false', { field: 'n', op: 'lt', value: 1000 }, [1, 2, 3, 4, 6]],
  ['gte on NULL is false', { field: 'n', op: 'gte', value: -1000 }, [1, 2, 3, 4, 6]],
  ['not lt includes NULL', { not: { field: 'n', op: 'lt', value: 1000 } }, [5]],
  ['not eq includes NULL', { not: { field: 'n', op: 'eq', value: 7 } }, [1, 2, 5, 6]],
  ['not ne excludes NULL', { not: { field: 'n', op: 'ne', value: 7 } }, [3, 4]],
  ['not in includes NULL', { not: { field: 'n', op: 'in', value: [7] } }, [1, 2, 5, 6]],
  ['not notIn excludes NULL', { not: { field: 'n', op: 'notIn', value: [7] } }, [3, 4]],
  ['not not', { not: { not: { field: 'n', op: 'eq', value: 7 } } }, [3, 4]],
  ['not isNull', { not: { field: 'n', op: 'isNull' } }, [1, 2, 3, 4, 6]],
  ['empty and is true', { and: [] }, [1, 2, 3, 4, 5, 6]],
  ['empty or is false', { or: [] }, []],
  ['not empty or is true', { not: { or: [] } }, [1, 2, 3, 4, 5, 6]],
  [
    'and',
    {
      and: [
        { field: 'n', op: 'gte', value: 0 },
        { field: 'n', op: 'lt', value: 100 },
      ],
    },
    [2, 3, 4],
  ],
  [
    'or across columns',
    {
      or: [
        { field: 'n', op: 'eq', value: -5 },
        { field: 'flag', op: 'eq', value: false },
      ],
    },
    [1, 4],
  ],
  [
    'or of and and not',
    {
      or: [
        {
          and: [
            { field: 'n', op: 'gte', value: 0 },
            { field: 'flag', op: 'eq', value: true },
          ],
        },
        { not: { field: 'ref', op: 'notNull' } },
      ],
    },
    [2, 3, 5, 6],
  ],
  [
    'not of or (De Morgan with NULLs)',
    {
      not: {
        or: [
          { field: 'n', op: 'eq', value: 7 },
          { field: 'flag', op: 'eq', value: true },
        ],
      },
    },
    [1, 5],
  ],
  [
    'and of nots equals not of or',
    {
      and: [{ not: { field: 'n', op: 'eq', value: 7 } }, { not: { field: 'flag', op: 'eq', value: true } }],
    },
    [1, 5],
  ],
  [
    'deep nesting',
    {
      and: [
        {
          or: [
            { field: 'size', op: 'eq', value: 'large' },
            { field: 'size', op: 'isNull' },
          ],
        },
        {
          not: {
            and: [
              { field: 'big', op: 'gt', value: '0' },
              { field: 'ratio', op: 'gt', value: 5 },
            ],
          },
        },
      ],
    },
    [3, 5],
  ],
];

/** Row ids in ascending and descending order of each typed column (NULL first, then last). */
const TYPED_ORDERS: [field: string, asc: number[], desc: number[]][] = [
  ['n', [5, 1, 2, 3, 4, 6], [6, 3, 4, 2, 1, 5]],
  ['big', [5, 1, 2, 4, 3, 6], [6, 3, 4, 2, 1, 5]],
  ['amount', [5, 1, 2, 4, 3, 6], [6, 3, 4, 2, 1, 5]],
  ['ratio', [5, 1, 2, 4, 3, 6], [6, 3, 4, 2, 1, 5]],
  ['day', [5, 1, 2, 3, 4, 6], [6, 4, 3, 2, 1, 5]],
  ['at', [5, 1, 2, 3, 4, 6], [6, 4, 3, 2, 1, 5]],
  ['atz', [5, 1, 2, 3, 4, 6], [6, 4, 3, 2, 1, 5]],
  ['clock', [5, 1, 2, 3, 4, 6], [6, 4, 3, 2, 1, 5]],
  ['flag', [5, 1, 4, 2, 3, 6], [2, 3, 6, 1, 4, 5]],
  ['ref', [5, 1, 2, 3, 6, 4], [4, 6, 3, 2, 1, 5]],
  // enum values are text: code-point order, not declaration order
  ['size', [5, 3, 6, 2, 1, 4], [1, 4, 2, 3, 6, 5]],
];

describe.each(engines)('typed filters and logic on $kind', (engine) => {
  const db = useDatabase(engine, [measures], async (d) => {
    await insertRows(d, 'measures', ROWS);
  });

  it.each(comparisons)('%s', async (_label, filter, ids) => {
    expect(await idsWhere(db, 'measures', filter)).toEqual(ids);
  });

  it.each(nullLogic)('%s', async (_label, filter, ids) => {
    expect(await idsWhere(db, 'measures', filter)).toEqual(ids);
  });

  it('every condition and its not() partition the table, NULL rows included', async () => {
    const all = [1, 2, 3, 4, 5, 6];
    for (const [, filter] of [...comparisons, ...nullLogic]) {
      const hit = await idsWhere(db, 'measures', filter);
      const miss = await idsWhere(db, 'measures', { not: filter });
      expect(
        [...hit, ...miss].sort((a, b) => Number(a) - Number(b)),
        JSON.stringify(filter),
      ).toEqual(all);
    }
  });

  it.each(TYPED_ORDERS)('sort and keyset pages by %s', async (field, asc, desc) => {
    for (const [dir, expected] of [
      ['asc', asc],
      ['desc', desc],
    ] as const) {
      const pages = await walkPages(db, 'measures', { sort: [{ field, dir }], limit: 2 });
      expect(
        pages.flat().map((r) => r.id),
        dir,
      ).toEqual(expected);
    }
  });

  it('count() agrees with select() for every filter', async () => {
    const table = db.table('measures');
    for (const [, filter, ids] of [...comparisons, ...nullLogic]) {
      expect(await db.connector.count(table, filter), JSON.stringify(filter)).toBe(ids.length);
    }
  });
});
