import { describe, expect, it } from 'vitest';
import type { SortTerm } from '../../src/model/query.js';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { engines, useDatabase } from './engines.js';
import { expectBraidError, insertRows, portableSort, walkPages } from './helpers.js';

/**
 * Sorting and pages (model/query.ts): NULL first ascending and last descending, strings by code
 * point, the primary key as tie-break, keyset cursors that visit every row exactly once, offsets.
 */
const ranked: TableDefinition = {
  name: 'ranked',
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'name', type: 'string', maxLength: 40, nullable: true },
    { name: 'grp', type: 'integer', nullable: true },
    { name: 'big', type: 'bigint', nullable: true },
    { name: 'at', type: 'datetime', nullable: true },
    { name: 'flag', type: 'boolean', nullable: true },
  ],
  primaryKey: ['id'],
};

const many: TableDefinition = {
  name: 'many',
  columns: [
    { name: 'id', type: 'integer', autoIncrement: true },
    { name: 'v', type: 'integer' },
  ],
};

// 'ｚ' (U+FF5A) sorts before '🎉' (U+1F389) by code point but after it by UTF-16 unit.
const NAMES = ['B', 'a', 'é', 'A', 'b', 'Z', null, 'aa', 'a ', 'ｚ', '🎉', 'É', 'e', '', null, 'Ω', 'a', 'B'];
const GROUPS = [1, null, 2, 1, 3, null, 2];
const BIGS = [
  '9007199254740993',
  '9007199254740992',
  null,
  '-9223372036854775808',
  '9223372036854775807',
  '1',
];
const TIMES = ['2024-01-01T00:00:00.000001', null, '2024-01-01T00:00:00', '1970-01-01T00:00:00'];

const RANKED: Row[] = NAMES.map((name, i) => ({
  id: i + 1,
  name,
  grp: GROUPS[i % GROUPS.length],
  big: BIGS[i % BIGS.length],
  at: TIMES[i % TIMES.length],
  flag: i % 3 === 0 ? null : i % 3 === 1,
}));

const SORTS: SortTerm[][] = [
  [],
  [{ field: 'name', dir: 'asc' }],
  [{ field: 'name', dir: 'desc' }],
  [
    { field: 'grp', dir: 'asc' },
    { field: 'name', dir: 'desc' },
  ],
  [
    { field: 'grp', dir: 'desc' },
    { field: 'name', dir: 'asc' },
  ],
  [{ field: 'big', dir: 'desc' }],
  [
    { field: 'at', dir: 'desc' },
    { field: 'big', dir: 'asc' },
  ],
  [
    { field: 'flag', dir: 'asc' },
    { field: 'id', dir: 'desc' },
  ],
];

const idsOf = (rows: Row[]): unknown[] => rows.map((r) => r.id);

describe.each(engines)('sort and pages on $kind', (engine) => {
  const db = useDatabase(engine, [ranked, many], async (d) => {
    await insertRows(d, 'ranked', RANKED);
    await insertRows(
      d,
      'many',
      Array.from({ length: 150 }, (_, i) => ({ v: i })),
    );
  });

  it('code-point order of strings: B < a < é, NULL first ascending', async () => {
    const page = await db.connector.select(db.table('ranked'), {
      sort: [{ field: 'name', dir: 'asc' }],
      limit: 100,
    });
    const names = page.rows.map((r) => r.name);
    expect(names).toEqual(portableSort(RANKED, [{ field: 'name', dir: 'asc' }]).map((r) => r.name));
    expect(names.slice(0, 3)).toEqual([null, null, '']);
    expect(names.indexOf('B')).toBeLessThan(names.indexOf('a'));
    expect(names.indexOf('a')).toBeLessThan(names.indexOf('a '));
    expect(names.indexOf('a ')).toBeLessThan(names.indexOf('aa'));
    expect(names.indexOf('a')).toBeLessThan(names.indexOf('é'));
    expect(names.indexOf('ｚ')).toBeLessThan(names.indexOf('🎉'));
  });

  it('NULL last descending', async () => {
    const page = await db.connector.select(db.table('ranked'), {
      sort: [{ field: 'name', dir: 'desc' }],
      limit: 100,
    });
    expect(page.rows.slice(-2).map((r) => r.name)).toEqual([null, null]);
    expect(page.rows[0]!.name).toBe('🎉');
  });

  it.each(SORTS.map((s) => [JSON.stringify(s), s] as const))(
    'one page sorted by %s',
    async (_label, sort) => {
      const page = await db.connector.select(db.table('ranked'), { sort, limit: 100 });
      expect(idsOf(page.rows)).toEqual(idsOf(portableSort(RANKED, sort)));
      expect(page.next).toBeNull();
    },
  );

  it.each(SORTS.map((s) => [JSON.stringify(s), s] as const))(
    'keyset walk by %s visits every row once',
    async (_l, sort) => {
      const expected = idsOf(portableSort(RANKED, sort));
      for (const limit of [1, 3, 6, 7]) {
        const pages = await walkPages(db, 'ranked', { sort, limit });
        expect(idsOf(pages.flat()), `limit ${limit}`).toEqual(expected);
        expect(pages.length, `limit ${limit}: pages`).toBe(Math.ceil(RANKED.length / limit));
        expect(pages.every((p) => p.length > 0)).toBe(true);
      }
    },
  );

  it('keyset walk with a filter and a field projection', async () => {
    const filter = { field: 'grp', op: 'ne' as const, value: 1 };
    const sort: SortTerm[] = [{ field: 'at', dir: 'asc' }];
    const expected = portableSort(
      RANKED.filter((r) => r.grp !== 1),
      sort,
    );
    const pages = await walkPages(db, 'ranked', { filter, sort, limit: 4, fields: ['name'] });
    const rows = pages.flat();
    expect(rows.map((r) => r.name)).toEqual(expected.map((r) => r.name));
    expect(rows.every((r) => Object.keys(r).join() === 'name')).toBe(true);
  });

  it('offset pages cover the sorted rows in order', async () => {
    const sort: SortTerm[] = [{ field: 'name', dir: 'asc' }];
    const expected = idsOf(portableSort(RANKED, sort));
    const seen: unknown[] = [];
    for (let offset = 0; offset < RANKED.length; offset += 5) {
      const page = await db.connector.select(db.table('ranked'), { sort, limit: 5, offset });
      seen.push(...idsOf(page.rows));
    }
    expect(seen).toEqual(expected);
    const beyond = await db.connector.select(db.table('ranked'), { sort, limit: 5, offset: RANKED.length });
    expect(beyond).toEqual({ rows: [], next: null });
    await expectBraidError(() => db.connector.select(db.table('ranked'), { offset: -1 }), {
      status: 400,
      code: 'invalid_offset',
    });
  });

  it('limit: default 100, at most 10 000, refused outside 1..10 000', async () => {
    const table = db.table('many');
    const first = await db.connector.select(table, {});
    expect(first.rows).toHaveLength(100);
    expect(first.next).not.toBeNull();
    const rest = await db.connector.select(table, { cursor: first.next! });
    expect(rest.rows).toHaveLength(50);
    expect(rest.next).toBeNull();
    expect((await db.connector.select(table, { limit: 10_000 })).rows).toHaveLength(150);
    expect((await db.connector.select(table, { limit: 150 })).next).toBeNull();
    expect((await db.connector.select(table, { limit: 149 })).next).not.toBeNull();
    for (const limit of [0, -1, 10_001, 2.5]) {
      await expectBraidError(() => db.connector.select(table, { limit }), {
        status: 400,
        code: 'invalid_limit',
      });
    }
  });

  it('a cursor is refused with another sort, and a forged one is refused', async () => {
    const table = db.table('ranked');
    const page = await db.connector.select(table, { sort: [{ field: 'name', dir: 'asc' }], limit: 2 });
    expect(page.next).not.toBeNull();
    for (const sort of [
      [{ field: 'name', dir: 'desc' }],
      [{ field: 'grp', dir: 'asc' }],
      [],
    ] as SortTerm[][]) {
      await expectBraidError(() => db.connector.select(table, { sort, limit: 2, cursor: page.next! }), {
        status: 400,
        code: 'invalid_cursor',
      });
    }
    for (const cursor of ['not-a-cursor', Buffer.from('{"s":1}').toString('base64url'), '%%%']) {
      await expectBraidError(() => db.connector.select(table, { limit: 2, cursor }), {
        status: 400,
        code: 'invalid_cursor',
      });
    }
  });
});
