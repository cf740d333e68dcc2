import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { BraidError } from '../../src/model/errors.js';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { engines, useDatabase } from './engines.js';
import { insertRows, walkPages } from './helpers.js';

/**
 * Sizes and timing that simple cases miss: statements beyond the engine's parameter limit, the
 * largest `in` lists, writers outside a transaction, updates that change nothing, tables without
 * a primary key.
 */
const wide: TableDefinition = {
  name: 'wide',
  columns: [
    { name: 'id', type: 'integer' },
    ...Array.from({ length: 7 }, (_, i) => ({
      name: `c${i}`,
      type: 'string' as const,
      maxLength: 20,
      nullable: true,
    })),
  ],
  primaryKey: ['id'],
};

const ledger: TableDefinition = {
  name: 'ledger',
  columns: [
    { name: 'id', type: 'integer', autoIncrement: true },
    { name: 'name', type: 'string', maxLength: 40 },
    { name: 'qty', type: 'integer', nullable: true },
  ],
};

/** No primary key: identical rows are distinct rows all the same (a log, a CSV import). */
const events: TableDefinition = {
  name: 'events',
  columns: [
    { name: 'kind', type: 'string', maxLength: 20 },
    { name: 'n', type: 'integer', nullable: true },
  ],
};

const WIDE_ROWS = 10_000;
const wideRow = (id: number): Row => ({
  id,
  ...Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`c${i}`, `r${id}c${i}`])),
});

describe.each(engines)('limits and timing on $kind', (engine) => {
  const db = useDatabase(engine, [wide, ledger, events]);

  it('inserts 10 000 rows x 8 columns (beyond any parameter limit) and answers them in order', async () => {
    const input = Array.from({ length: WIDE_ROWS }, (_, i) => wideRow(i + 1));
    const stored = await insertRows(db, 'wide', input);
    expect(stored.length).toBe(WIDE_ROWS);
    expect(stored[0]).toEqual(input[0]);
    expect(stored[WIDE_ROWS - 1]).toEqual(input[WIDE_ROWS - 1]);
    expect(stored.every((r, i) => r.id === i + 1)).toBe(true);
    expect(await db.connector.count(db.table('wide'))).toBe(WIDE_ROWS);
  });

  it('in and notIn with 10 000 values', async () => {
    const table = db.table('wide');
    const ids = Array.from({ length: 10_000 }, (_, i) => i * 3);
    const texts = ids.map((id) => `r${id}c1`);
    const expected = ids.filter((id) => id >= 1 && id <= WIDE_ROWS).length;
    expect(await db.connector.count(table, { field: 'id', op: 'in', value: ids })).toBe(expected);
    expect(await db.connector.count(table, { field: 'c1', op: 'in', value: texts })).toBe(expected);
    const total = await db.connector.count(table);
    expect(await db.connector.count(table, { field: 'c1', op: 'notIn', value: texts })).toBe(
      total - expected,
    );
    const ci = {
      field: 'c1',
      op: 'in' as const,
      value: texts.map((t) => t.toUpperCase()),
      caseInsensitive: true,
    };
    expect(await db.connector.count(table, ci)).toBe(expected);
  });

  it('upserts 5 000 rows, half of them existing, in one call', async () => {
    const table = db.table('wide');
    // ids 5001, 5003, ... 14999: 2 500 of them exist, 2 500 are new
    const input = Array.from({ length: 5000 }, (_, i) => ({
      ...wideRow(WIDE_ROWS / 2 + 1 + i * 2),
      c0: 'upserted',
    }));
    const stored = await db.connector.upsert(table, input);
    expect(stored.length).toBe(5000);
    expect(new Set(stored.map((r) => r.id)).size).toBe(5000);
    expect(await db.connector.count(table)).toBe(WIDE_ROWS + 2500);
    expect(await db.connector.count(table, { field: 'c0', op: 'eq', value: 'upserted' })).toBe(5000);
  });

  it('an update that changes nothing still answers the row', async () => {
    const table = db.table('ledger');
    const [row] = await insertRows(db, 'ledger', [{ name: 'same', qty: 1 }]);
    expect(await db.connector.update(table, { id: row!.id }, { name: 'same', qty: 1 })).toEqual(row);
    const [again] = await db.connector.upsert(table, [row!]);
    expect(again).toEqual(row);
  });

  it('a write outside a transaction that rolls back is kept', async () => {
    const table = db.table('ledger');
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const rolledBack = db.connector.transaction(async (tx) => {
      await tx.insert(table, [{ name: 'inside' }]);
      await gate;
      throw new Error('boom');
    });
    await sleep(50);
    const outside = db.connector.insert(table, [{ name: 'outside' }]);
    await sleep(50);
    release();
    await expect(rolledBack).rejects.toThrow('boom');
    const [kept] = await outside;
    expect(await db.connector.getByKey(table, { id: kept!.id })).toEqual(kept);
    expect(await db.connector.count(table, { field: 'name', op: 'eq', value: 'inside' })).toBe(0);
  });

  it('a failed statement inside a transaction rolls back what came before it', async () => {
    const table = db.table('wide');
    const before = await db.connector.count(table);
    const err = await db.connector
      .transaction(async (tx) => {
        await tx.insert(table, [wideRow(WIDE_ROWS * 10)]);
        await tx.insert(table, [wideRow(1)]);
      })
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(BraidError);
    expect(await db.connector.getByKey(table, { id: WIDE_ROWS * 10 })).toBeNull();
    expect(await db.connector.count(table)).toBe(before);
  });

  describe('a table without a primary key, duplicate rows included', () => {
    const rows: Row[] = [
      { kind: 'a', n: 1 },
      { kind: 'a', n: 1 },
      { kind: 'a', n: null },
      { kind: 'a', n: null },
      { kind: 'b', n: 2 },
      { kind: 'b', n: 2 },
      { kind: 'b', n: 2 },
    ];
    const sorted = (list: Row[]) => list.map((r) => `${String(r.kind)}:${String(r.n)}`).sort();

    it('stores the duplicates', async () => {
      expect(db.table('events').primaryKey).toEqual([]);
      await insertRows(db, 'events', rows);
      expect(await db.connector.count(db.table('events'))).toBe(rows.length);
    });

    it('cursor pages answer every row once', async () => {
      const pages = await walkPages(db, 'events', { limit: 1 });
      expect(sorted(pages.flat())).toEqual(sorted(rows));
    });

    it('stream answers every row once', async () => {
      const streamed: Row[] = [];
      for await (const batch of db.connector.stream(db.table('events'), { batchSize: 2 }))
        streamed.push(...batch);
      expect(sorted(streamed)).toEqual(sorted(rows));
    });

    it('offset pages answer every row once', async () => {
      const all: Row[] = [];
      for (let offset = 0; offset < rows.length; offset += 2) {
        all.push(...(await db.connector.select(db.table('events'), { limit: 2, offset })).rows);
      }
      expect(sorted(all)).toEqual(sorted(rows));
    });
  });

  it('a NUL character is stored exactly or refused with a 400, never cut short', async () => {
    const table = db.table('ledger');
    const name = 'before\u0000after';
    const outcome = await insertRows(db, 'ledger', [{ name }]).then(
      (stored) => stored[0]!,
      (e: unknown) => e,
    );
    if (outcome instanceof BraidError) {
      expect(outcome.status).toBe(400);
      expect(await db.connector.count(table, { field: 'name', op: 'startsWith', value: 'before' })).toBe(0);
    } else {
      expect((outcome as Row).name).toBe(name);
      expect((await db.connector.getByKey(table, { id: (outcome as Row).id }))!.name).toBe(name);
    }
  });
});
