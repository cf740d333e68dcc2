import { describe, expect, it } from 'vitest';
import type { Condition, FilterOp } from '../../src/model/filter.js';
import type { TableDefinition } from '../../src/model/schema.js';
import { collatedTableSql, engines, useDatabase } from './engines.js';
import { codePointCompare, idsWhere, insertRows, portableSort, walkPages } from './helpers.js';

/**
 * String semantics of the filter language (model/filter.ts): case-sensitive by default, code-point
 * comparison, trailing spaces and accents count, `caseInsensitive` folds with Unicode rules, and
 * contains/startsWith/endsWith are literal. MariaDB's default collation is case-, accent- and
 * trailing-space-insensitive, so every one of these is a real test there.
 */
const WORDS: [number, string | null][] = [
  [1, 'Alice'],
  [2, 'alice'],
  [3, 'ALICE'],
  [4, 'abc'],
  [5, 'abc '],
  [6, 'e'],
  [7, 'é'],
  [8, 'École'],
  [9, 'ÉCOLE'],
  [10, 'école'],
  [11, 'Straße'],
  [12, 'Αθήνα'],
  [13, '🎉 Party'],
  [14, '100%'],
  [15, '100 percent'],
  [16, 'a_b'],
  [17, 'axb'],
  [18, 'back\\slash'],
  [19, 'backslash'],
  [20, null],
  [21, ''],
  [22, 'B'],
  [23, "it's"],
];
const ALL = WORDS.map(([id]) => id);
const except = (...ids: number[]): number[] => ALL.filter((id) => !ids.includes(id));
const nonNull = except(20);

const words: TableDefinition = {
  name: 'words',
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'w', type: 'string', maxLength: 100, nullable: true },
    { name: 't', type: 'text', nullable: true },
  ],
  primaryKey: ['id'],
};

type Case = [op: FilterOp, value: unknown, ids: number[]];

const caseSensitive: Case[] = [
  ['eq', 'Alice', [1]],
  ['eq', 'alice', [2]],
  ['eq', 'abc', [4]],
  ['eq', 'abc ', [5]],
  ['eq', 'e', [6]],
  ['eq', 'é', [7]],
  ['eq', '', [21]],
  ['eq', "it's", [23]],
  ['eq', 'ecole', []],
  ['ne', 'Alice', except(1)],
  ['ne', 'abc', except(4)],
  ['in', ['Alice', 'abc', 'é'], [1, 4, 7]],
  ['in', [], []],
  ['notIn', ['Alice', 'abc'], except(1, 4)],
  ['notIn', [], ALL],
  ['contains', 'lic', [1, 2]],
  ['contains', 'LIC', [3]],
  ['contains', 'e', [1, 2, 6, 8, 10, 11, 15]],
  ['contains', 'é', [7, 10]],
  ['contains', '', nonNull],
  ['contains', '🎉', [13]],
  ['contains', "'", [23]],
  ['startsWith', 'A', [1, 3]],
  ['startsWith', 'abc', [4, 5]],
  ['endsWith', 'E', [3, 9]],
  ['endsWith', ' ', [5]],
  ['endsWith', 'ße', [11]],
];

/** `%`, `_` and `\` are ordinary characters in contains/startsWith/endsWith. */
const literalPatterns: Case[] = [
  ['contains', '%', [14]],
  ['startsWith', '100%', [14]],
  ['endsWith', '%', [14]],
  ['contains', '_', [16]],
  ['contains', 'a_b', [16]],
  ['startsWith', 'a_', [16]],
  ['endsWith', '_b', [16]],
  ['contains', '\\', [18]],
  ['contains', 'k\\s', [18]],
  ['startsWith', 'back\\', [18]],
  ['endsWith', '\\slash', [18]],
  ['contains', '\\%', []],
  ['contains', '[a]', []],
];

const caseInsensitive: Case[] = [
  ['eq', 'alice', [1, 2, 3]],
  ['eq', 'ÉCOLE', [8, 9, 10]],
  ['eq', 'école', [8, 9, 10]],
  ['eq', 'ecole', []],
  ['eq', 'STRAßE', [11]],
  ['eq', 'ΑΘΉΝΑ', [12]],
  ['eq', 'abc', [4]],
  ['eq', 'b', [22]],
  ['ne', 'ALICE', except(1, 2, 3)],
  ['in', ['ALICE', 'école'], [1, 2, 3, 8, 9, 10]],
  ['notIn', ['ALICE'], except(1, 2, 3)],
  ['contains', 'LIC', [1, 2, 3]],
  ['contains', 'COL', [8, 9, 10]],
  ['contains', 'ß', [11]],
  ['contains', 'E', [1, 2, 3, 6, 8, 9, 10, 11, 15]],
  ['contains', '🎉 PARTY', [13]],
  ['contains', 'A_B', [16]],
  ['contains', '%', [14]],
  ['contains', 'K\\S', [18]],
  ['startsWith', 'éC', [8, 9, 10]],
  ['startsWith', 'αθ', [12]],
  ['startsWith', 'aLi', [1, 2, 3]],
  ['endsWith', 'OLE', [8, 9, 10]],
  ['endsWith', 'ΉΝΑ', [12]],
];

const comparisonValues = ['B', 'a', 'abc', 'abc ', 'é', 'École', 'Ω', '🎉', ''];

function expectedComparison(op: 'lt' | 'lte' | 'gt' | 'gte', value: string, fold: boolean): number[] {
  const f = (s: string): string => (fold ? s.toLowerCase() : s);
  const test = {
    lt: (c: number) => c < 0,
    lte: (c: number) => c <= 0,
    gt: (c: number) => c > 0,
    gte: (c: number) => c >= 0,
  }[op];
  return WORDS.filter(([, w]) => w !== null && test(codePointCompare(f(w), f(value)))).map(([id]) => id);
}

/** Braid's own DDL, and an existing table in the engine's case-insensitive or linguistic collations. */
const TABLES = ['words', 'words_collated'];

describe.each(engines)('string filters on $kind', (engine) => {
  const db = useDatabase(engine, [words], async (d) => {
    for (const statement of collatedTableSql(d, 'words_collated')) await d.connector.rawQuery(statement);
    await d.refresh();
    for (const name of TABLES)
      await insertRows(
        d,
        name,
        WORDS.map(([id, w]) => ({ id, w, t: w })),
      );
  });

  describe.each(TABLES)('table %s', (tableName) => {
    const check = async (cond: Omit<Condition, 'field'>, expected: number[]): Promise<void> => {
      for (const field of ['w', 't']) {
        const ids = await idsWhere(db, tableName, { field, ...cond } as Condition);
        expect(ids, `${field} ${JSON.stringify(cond)}`).toEqual(expected);
      }
    };

    it('stores every fixture string unchanged', async () => {
      const page = await db.connector.select(db.table(tableName), { limit: 100 });
      expect(page.rows.map((r) => [r.id, r.w])).toEqual(WORDS);
      expect(page.rows.map((r) => r.t)).toEqual(WORDS.map(([, w]) => w));
    });

    it.each(caseSensitive)('case-sensitive %s %j', async (op, value, ids) => {
      await check({ op, value }, ids);
    });

    it.each(literalPatterns)('literal %s %j', async (op, value, ids) => {
      await check({ op, value }, ids);
      await check({ op, value, caseInsensitive: true }, ids);
    });

    it.each(caseInsensitive)('caseInsensitive %s %j', async (op, value, ids) => {
      await check({ op, value, caseInsensitive: true }, ids);
    });

    it.each(comparisonValues)('lt/lte/gt/gte %j compare by code point', async (value) => {
      for (const op of ['lt', 'lte', 'gt', 'gte'] as const) {
        await check({ op, value }, expectedComparison(op, value, false));
      }
    });

    it.each(comparisonValues)('caseInsensitive lt/gt %j compare folded code points', async (value) => {
      for (const op of ['lt', 'gt'] as const) {
        await check({ op, value, caseInsensitive: true }, expectedComparison(op, value, true));
      }
    });

    it('not(eq) is ne, and every row is in exactly one of eq / not eq', async () => {
      for (const value of ['Alice', 'abc', 'é', '']) {
        const eq = await idsWhere(db, tableName, { field: 'w', op: 'eq', value });
        const notEq = await idsWhere(db, tableName, { not: { field: 'w', op: 'eq', value } });
        const ne = await idsWhere(db, tableName, { field: 'w', op: 'ne', value });
        expect(notEq).toEqual(ne);
        expect([...eq, ...notEq].sort((a, b) => Number(a) - Number(b))).toEqual(ALL);
      }
    });

    it('not(contains) includes NULL and is the complement of contains', async () => {
      const hit = await idsWhere(db, tableName, {
        field: 'w',
        op: 'contains',
        value: 'lic',
        caseInsensitive: true,
      });
      const miss = await idsWhere(db, tableName, {
        not: { field: 'w', op: 'contains', value: 'lic', caseInsensitive: true },
      });
      expect(miss).toContain(20);
      expect([...hit, ...miss].sort((a, b) => Number(a) - Number(b))).toEqual(ALL);
    });

    it('count() agrees with select() for string filters', async () => {
      const table = db.table(tableName);
      expect(
        await db.connector.count(table, { field: 'w', op: 'eq', value: 'alice', caseInsensitive: true }),
      ).toBe(3);
      expect(await db.connector.count(table, { field: 'w', op: 'ne', value: 'Alice' })).toBe(ALL.length - 1);
      expect(await db.connector.count(table, { field: 'w', op: 'contains', value: '%' })).toBe(1);
      expect(await db.connector.count(table)).toBe(ALL.length);
    });

    it('sorts by code point and pages by keyset, whatever the column collation', async () => {
      for (const field of ['w', 't']) {
        for (const dir of ['asc', 'desc'] as const) {
          const sort = [{ field, dir }];
          const rows = WORDS.map(([id, w]) => ({ id, [field]: w }));
          const expected = portableSort(rows, sort).map((r) => r.id);
          const pages = await walkPages(db, tableName, { sort, limit: 4 });
          expect(
            pages.flat().map((r) => r.id),
            `${field} ${dir}`,
          ).toEqual(expected);
        }
      }
    });
  });
});
