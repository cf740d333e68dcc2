import { describe, expect, it } from 'vitest';
import type { SortTerm } from '../../src/model/query.js';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { engines, useDatabase, type Database } from './engines.js';
import { insertRows, portableSort } from './helpers.js';

/**
 * Keyset cursors stay correct while other writers insert and delete between pages: no row that
 * existed throughout the walk is lost or repeated, and no row is ever answered twice.
 */
const definition = (name: string): TableDefinition => ({
  name,
  columns: [
    { name: 'id', type: 'integer', autoIncrement: true },
    { name: 'name', type: 'string', maxLength: 20 },
    { name: 'rank', type: 'integer', nullable: true },
  ],
});

const SEED: Row[] = Array.from({ length: 30 }, (_, i) => ({
  name: `m${String(i).padStart(2, '0')}`,
  rank: i % 4 === 0 ? null : i % 5,
}));

interface Walk {
  seen: Row[];
  original: Set<unknown>;
  inserted: Set<unknown>;
  deleted: Set<unknown>;
}

/** Walks the table page by page; after each page, `mutate` writes with the page in hand. */
async function churnWalk(
  db: Database,
  tableName: string,
  sort: SortTerm[],
  mutate: (page: Row[], step: number) => { insert: Row[]; deleteIds: unknown[] },
): Promise<Walk> {
  const table = db.table(tableName);
  const before = await db.connector.select(table, { limit: 1000 });
  const walk: Walk = {
    seen: [],
    original: new Set(before.rows.map((r) => r.id)),
    inserted: new Set(),
    deleted: new Set(),
  };
  let cursor: string | undefined;
  for (let step = 0; step < 100; step++) {
    const page = await db.connector.select(table, { sort, limit: 4, ...(cursor ? { cursor } : {}) });
    walk.seen.push(...page.rows);
    if (!page.next) return walk;
    cursor = page.next;
    const { insert, deleteIds } = mutate(page.rows, step);
    for (const row of await insertRows(db, tableName, insert)) walk.inserted.add(row.id);
    for (const id of deleteIds) {
      expect(await db.connector.delete(table, { id })).toBe(true);
      walk.deleted.add(id);
    }
  }
  throw new Error('walk did not end');
}

function expectConsistent(walk: Walk, sort: SortTerm[]): void {
  const ids = walk.seen.map((r) => r.id);
  expect(new Set(ids).size, 'a row was answered twice').toBe(ids.length);
  const survivors = [...walk.original].filter((id) => !walk.deleted.has(id));
  for (const id of survivors) expect(ids, `row ${String(id)} existed throughout but was lost`).toContain(id);
  for (const id of ids) expect(walk.original.has(id) || walk.inserted.has(id)).toBe(true);
  // Whatever was answered, was answered in sort order.
  expect(ids).toEqual(portableSort(walk.seen, sort).map((r) => r.id));
}

describe.each(engines)('keyset cursors under concurrent writes on $kind', (engine) => {
  const db = useDatabase(engine, [definition('churn_name'), definition('churn_rank')], async (d) => {
    await insertRows(d, 'churn_name', SEED);
    await insertRows(d, 'churn_rank', SEED);
  });

  it('sort by name: inserts before, after and at the cursor; deletes behind and ahead', async () => {
    const sort: SortTerm[] = [{ field: 'name', dir: 'asc' }];
    const ahead: unknown[] = [];
    const walk = await churnWalk(db, 'churn_name', sort, (page, step) => {
      const last = page[page.length - 1]!;
      // Seed row mNN has id NN + 1: delete the seed row three places ahead of the cursor.
      const position = /^m(\d\d)$/.exec(String(last.name));
      const candidate = position ? Number(position[1]) + 4 : undefined;
      const notYetSeen =
        candidate !== undefined && candidate <= SEED.length && !ahead.includes(candidate)
          ? candidate
          : undefined;
      if (notYetSeen !== undefined) ahead.push(notYetSeen);
      return {
        insert: [
          { name: `a${step}`, rank: 1 },
          { name: `z${step}`, rank: 2 },
          { name: last.name, rank: 3 },
        ],
        deleteIds: [page[0]!.id, ...(notYetSeen !== undefined ? [notYetSeen] : [])],
      };
    });
    expectConsistent(walk, sort);
    const seenIds = walk.seen.map((r) => r.id);
    for (const id of ahead)
      expect(seenIds, `row ${String(id)} was deleted before the walk reached it`).not.toContain(id);
    // Rows inserted after the cursor ('z…') are reached; rows inserted before it ('a…') are not.
    expect(walk.seen.some((r) => String(r.name).startsWith('z'))).toBe(true);
    expect(walk.seen.some((r) => String(r.name).startsWith('a'))).toBe(false);
  });

  it('sort by a nullable column descending (NULLs last) with the same churn', async () => {
    const sort: SortTerm[] = [
      { field: 'rank', dir: 'desc' },
      { field: 'name', dir: 'asc' },
    ];
    const walk = await churnWalk(db, 'churn_rank', sort, (page, step) => ({
      insert: [
        { name: `n${step}`, rank: null },
        { name: `t${step}`, rank: 100 },
        { name: `x${step}`, rank: page[page.length - 1]!.rank ?? null },
      ],
      deleteIds: [page[page.length - 1]!.id],
    }));
    expectConsistent(walk, sort);
    // NULL ranks come last, and rank 100 rows were always inserted before the cursor.
    const firstNull = walk.seen.findIndex((r) => r.rank === null);
    expect(firstNull).toBeGreaterThan(0);
    expect(walk.seen.slice(firstNull).every((r) => r.rank === null)).toBe(true);
    expect(walk.seen.some((r) => r.rank === 100)).toBe(false);
  });
});
