import { describe, expect, it } from 'vitest';
import type { SortTerm } from '../../src/model/query.js';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { engines, useDatabase, type Database } from './engines.js';
import { idsWhere, insertRows, walkPages } from './helpers.js';

/**
 * Identifiers that break naive quoting: every table and every column is named with one of these,
 * and a canary table `t` (the target of the injected `drop table t`) must survive everything.
 */
const HOSTILE = ['a"b', "x'; drop table t; --", 'select', 'Ünïcödé', 'MixedCase', 'back`tick', 'dot.name'];
const [QUOTE, INJECT, SELECT, UNICODE, MIXED, BACKTICK, DOT] = HOSTILE as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];

const hostileTable = (name: string): TableDefinition => ({
  name,
  columns: [
    { name: SELECT, type: 'integer' },
    { name: QUOTE, type: 'string', maxLength: 50, nullable: true },
    { name: INJECT, type: 'integer', nullable: true },
    { name: UNICODE, type: 'string', maxLength: 50, nullable: true },
    { name: MIXED, type: 'string', maxLength: 50, nullable: true },
    { name: BACKTICK, type: 'text', nullable: true },
    { name: DOT, type: 'integer', nullable: true },
  ],
  primaryKey: [SELECT],
});

const canary: TableDefinition = {
  name: 't',
  columns: [{ name: 'id', type: 'integer' }],
  primaryKey: ['id'],
};

const ROWS: Row[] = [
  {
    [SELECT]: 1,
    [QUOTE]: 'one"',
    [INJECT]: 10,
    [UNICODE]: 'Ünï',
    [MIXED]: 'b',
    [BACKTICK]: "it's `x`",
    [DOT]: 100,
  },
  {
    [SELECT]: 2,
    [QUOTE]: "two'",
    [INJECT]: 20,
    [UNICODE]: 'ünï',
    [MIXED]: 'a',
    [BACKTICK]: 'a.b',
    [DOT]: null,
  },
  { [SELECT]: 3, [QUOTE]: null, [INJECT]: null, [UNICODE]: null, [MIXED]: 'C', [BACKTICK]: null, [DOT]: 300 },
];

async function expectEveryTable(db: Database, names: string[]): Promise<void> {
  const tables = await db.refresh();
  expect(tables.map((t) => t.name).sort()).toEqual([...names].sort());
  expect(await db.connector.count(db.table('t'))).toBe(1);
}

describe.each(engines)('hostile identifiers on $kind', (engine) => {
  const db = useDatabase(engine, [canary, ...HOSTILE.map(hostileTable)], async (d) => {
    await insertRows(d, 't', [{ id: 1 }]);
  });

  it('creates and introspects every table and column with its exact name', async () => {
    await expectEveryTable(db, ['t', ...HOSTILE]);
    for (const name of HOSTILE) {
      const table = db.table(name);
      expect(table.columns.map((c) => c.name)).toEqual(hostileTable(name).columns.map((c) => c.name));
      expect(table.primaryKey).toEqual([SELECT]);
    }
  });

  describe.each(HOSTILE)('table %s', (name) => {
    it('insert answers the stored rows', async () => {
      expect(await insertRows(db, name, ROWS)).toEqual(ROWS);
    });

    it('filters on every hostile column', async () => {
      const ids = (filter: Parameters<typeof idsWhere>[2]) => idsWhere(db, name, filter, SELECT);
      expect(await ids({ field: QUOTE, op: 'eq', value: 'one"' })).toEqual([1]);
      expect(await ids({ field: INJECT, op: 'gt', value: 10 })).toEqual([2]);
      expect(await ids({ field: INJECT, op: 'ne', value: 10 })).toEqual([2, 3]);
      expect(await ids({ field: UNICODE, op: 'eq', value: 'ÜNÏ', caseInsensitive: true })).toEqual([1, 2]);
      expect(await ids({ field: MIXED, op: 'in', value: ['a', 'C'] })).toEqual([2, 3]);
      expect(await ids({ field: BACKTICK, op: 'contains', value: '`x`' })).toEqual([1]);
      expect(await ids({ field: DOT, op: 'isNull' })).toEqual([2]);
      expect(await ids({ field: SELECT, op: 'lte', value: 2 })).toEqual([1, 2]);
      expect(
        await ids({
          not: {
            or: [
              { field: DOT, op: 'gt', value: 200 },
              { field: QUOTE, op: 'startsWith', value: 'two' },
            ],
          },
        }),
      ).toEqual([1]);
    });

    it('sorts and pages by hostile columns', async () => {
      const sorted = async (sort: SortTerm[]) =>
        (await walkPages(db, name, { sort, limit: 1 })).flat().map((r) => r[SELECT]);
      expect(await sorted([{ field: MIXED, dir: 'asc' }])).toEqual([3, 2, 1]);
      expect(await sorted([{ field: DOT, dir: 'desc' }])).toEqual([3, 1, 2]);
      expect(
        await sorted([
          { field: QUOTE, dir: 'asc' },
          { field: INJECT, dir: 'desc' },
        ]),
      ).toEqual([3, 1, 2]);
      expect(await sorted([{ field: SELECT, dir: 'desc' }])).toEqual([3, 2, 1]);
      const projected = await db.connector.select(db.table(name), { fields: [BACKTICK, UNICODE], limit: 1 });
      expect(projected.rows).toEqual([{ [BACKTICK]: "it's `x`", [UNICODE]: 'Ünï' }]);
    });

    it('updates, upserts and deletes by a hostile key', async () => {
      const table = db.table(name);
      const updated = await db.connector.update(table, { [SELECT]: 2 }, { [QUOTE]: 'two!"\'', [DOT]: 2 });
      expect(updated).toEqual({ ...ROWS[1], [QUOTE]: 'two!"\'', [DOT]: 2 });
      const [upserted] = await db.connector.upsert(table, [{ ...ROWS[0], [MIXED]: 'z' }]);
      expect(upserted).toEqual({ ...ROWS[0], [MIXED]: 'z' });
      expect(await db.connector.delete(table, { [SELECT]: 3 })).toBe(true);
      expect(await db.connector.getByKey(table, { [SELECT]: 3 })).toBeNull();
      expect(await db.connector.count(table)).toBe(2);
      const streamed: Row[] = [];
      for await (const batch of db.connector.stream(table, { batchSize: 1 })) streamed.push(...batch);
      expect(streamed.map((r) => r[SELECT])).toEqual([1, 2]);
    });
  });

  it('alters a hostile table: add, rename and drop hostile columns', async () => {
    const added = 'y"; drop table t; --';
    await db.connector.alterTable(db.table(QUOTE), [
      { op: 'addColumn', column: { name: added, type: 'string', maxLength: 10 } },
    ]);
    await db.refresh();
    await db.connector.update(db.table(QUOTE), { [SELECT]: 1 }, { [added]: 'v`"\'' });
    expect((await db.connector.getByKey(db.table(QUOTE), { [SELECT]: 1 }))![added]).toBe('v`"\'');
    await db.connector.alterTable(db.table(QUOTE), [{ op: 'renameColumn', from: added, to: 'z.`"' }]);
    await db.refresh();
    expect(db.table(QUOTE).columns.map((c) => c.name)).toContain('z.`"');
    await db.connector.alterTable(db.table(QUOTE), [{ op: 'dropColumn', name: 'z.`"' }]);
    await db.refresh();
    expect(db.table(QUOTE).columns.map((c) => c.name)).toEqual(
      hostileTable(QUOTE).columns.map((c) => c.name),
    );
  });

  it('every other table still exists, the canary included; dropping one drops only it', async () => {
    await expectEveryTable(db, ['t', ...HOSTILE]);
    await db.connector.dropTable(db.table(INJECT));
    await expectEveryTable(db, ['t', ...HOSTILE.filter((n) => n !== INJECT)]);
  });
});
