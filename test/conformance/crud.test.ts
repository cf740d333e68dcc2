import { describe, expect, it } from 'vitest';
import { BraidError } from '../../src/model/errors.js';
import { encodeRowKey, parseRowKey } from '../../src/model/row-key.js';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { engines, useDatabase } from './engines.js';
import { expectBraidError, insertRows } from './helpers.js';

/** Writes: insert answers stored rows, composite keys, update, delete, upsert, transactions. */
const items: TableDefinition = {
  name: 'items',
  columns: [
    { name: 'id', type: 'integer', autoIncrement: true },
    { name: 'name', type: 'string', maxLength: 100 },
    { name: 'qty', type: 'integer', defaultValue: 0 },
    { name: 'note', type: 'text', nullable: true },
  ],
};

/** Key values that differ only by case or a trailing space are different keys. */
const stock: TableDefinition = {
  name: 'stock',
  columns: [
    { name: 'warehouse', type: 'integer' },
    { name: 'region', type: 'string', maxLength: 8 },
    { name: 'qty', type: 'integer' },
  ],
  primaryKey: ['warehouse', 'region'],
};

/** Upserts by a unique index that is not the primary key; a row can be all defaults. */
const users: TableDefinition = {
  name: 'users',
  columns: [
    { name: 'id', type: 'integer', autoIncrement: true },
    { name: 'email', type: 'string', maxLength: 100, nullable: true },
    { name: 'name', type: 'string', maxLength: 100, nullable: true },
    { name: 'visits', type: 'integer', defaultValue: 5 },
  ],
  uniqueIndexes: [{ name: 'users_email_unique', columns: ['email'] }],
};

const STOCK: Row[] = [
  { warehouse: 7, region: 'EU', qty: 1 },
  { warehouse: 7, region: 'US', qty: 2 },
  { warehouse: 8, region: 'EU', qty: 3 },
  { warehouse: 7, region: 'eu', qty: 4 },
  { warehouse: 7, region: 'EU ', qty: 5 },
];

describe.each(engines)('CRUD on $kind', (engine) => {
  const db = useDatabase(engine, [items, stock, users], async (d) => {
    await insertRows(d, 'stock', STOCK);
  });
  const count = (name: string): Promise<number> => db.connector.count(db.table(name));

  it('introspects the generated key and the composite key', () => {
    expect(db.table('items').primaryKey).toEqual(['id']);
    expect(db.table('items').columns.find((c) => c.name === 'id')!.autoIncrement).toBe(true);
    expect(db.table('stock').primaryKey).toEqual(['warehouse', 'region']);
  });

  it('insert answers the stored row with the generated id and defaults', async () => {
    const [row] = await insertRows(db, 'items', [{ name: 'first' }]);
    expect(row).toEqual({ id: expect.any(Number), name: 'first', qty: 0, note: null });
    expect(row!.id as number).toBeGreaterThan(0);
    expect(await db.connector.getByKey(db.table('items'), { id: row!.id })).toEqual(row);
  });

  it('bulk insert answers every row in input order, with distinct generated ids', async () => {
    const input = Array.from({ length: 500 }, (_, i) => ({
      name: `bulk-${String(499 - i).padStart(3, '0')}`,
      ...(i % 3 === 0 ? { note: `n${i}` } : {}),
      ...(i % 7 === 0 ? { qty: i } : {}),
    }));
    const stored = await insertRows(db, 'items', input);
    expect(stored.map((r) => r.name)).toEqual(input.map((r) => r.name));
    expect(stored.map((r) => r.note)).toEqual(input.map((r) => r.note ?? null));
    expect(stored.map((r) => r.qty)).toEqual(input.map((r) => r.qty ?? 0));
    const ids = stored.map((r) => r.id as number);
    expect(new Set(ids).size).toBe(500);
    for (const row of [stored[0]!, stored[250]!, stored[499]!]) {
      expect(await db.connector.getByKey(db.table('items'), { id: row.id })).toEqual(row);
    }
  });

  it('row keys: single values as text, composite keys as JSON arrays', () => {
    const table = db.table('stock');
    expect(encodeRowKey(table, { warehouse: 7, region: 'EU', qty: 1 })).toBe('[7,"EU"]');
    expect(encodeURIComponent(encodeRowKey(table, { warehouse: 7, region: 'EU' }))).toBe(
      '%5B7%2C%22EU%22%5D',
    );
    expect(parseRowKey(table, decodeURIComponent('%5B7%2C%22EU%22%5D'))).toEqual({
      warehouse: 7,
      region: 'EU',
    });
    const hostile = { warehouse: 1, region: 'a"b,]\\' };
    expect(parseRowKey(table, encodeRowKey(table, hostile))).toEqual(hostile);
    expect(parseRowKey(db.table('items'), '42')).toEqual({ id: 42 });
    expect(encodeRowKey(db.table('items'), { id: 42, name: 'x' })).toBe('42');
  });

  it('row keys: malformed keys are refused with 400', async () => {
    const table = db.table('stock');
    for (const bad of ['7', '[7]', '[7,"EU",1]', 'not json', '{"warehouse":7}']) {
      await expectBraidError(() => parseRowKey(table, bad), { status: 400, code: 'invalid_key' });
    }
    await expectBraidError(() => parseRowKey(table, '["x","EU"]'), {
      status: 400,
      code: 'invalid_value',
      mentions: ['warehouse'],
    });
    await expectBraidError(() => parseRowKey(table, '[7,null]'), { status: 400, code: 'invalid_key' });
    await expectBraidError(() => parseRowKey(db.table('items'), 'abc'), {
      status: 400,
      code: 'invalid_value',
      mentions: ['id'],
    });
  });

  it('composite keys that differ by case or a trailing space address different rows', async () => {
    const table = db.table('stock');
    for (const row of STOCK) {
      expect(await db.connector.getByKey(table, parseRowKey(table, encodeRowKey(table, row)))).toEqual(row);
    }
    expect(await db.connector.getByKey(table, { warehouse: 7, region: 'Eu' })).toBeNull();
  });

  it('update by composite key changes only that row and answers it', async () => {
    const table = db.table('stock');
    const key = parseRowKey(table, '[7,"EU"]');
    expect(await db.connector.update(table, key, { qty: 10 })).toEqual({
      warehouse: 7,
      region: 'EU',
      qty: 10,
    });
    expect(await db.connector.getByKey(table, { warehouse: 7, region: 'eu' })).toEqual(STOCK[3]);
    expect(await db.connector.getByKey(table, { warehouse: 7, region: 'EU ' })).toEqual(STOCK[4]);
    expect(await db.connector.update(table, { warehouse: 99, region: 'EU' }, { qty: 1 })).toBeNull();
    expect(await db.connector.update(table, key, {})).toEqual({ warehouse: 7, region: 'EU', qty: 10 });
  });

  it('update of a key column answers the row under its new key', async () => {
    const table = db.table('stock');
    const moved = await db.connector.update(table, { warehouse: 8, region: 'EU' }, { region: 'APAC' });
    expect(moved).toEqual({ warehouse: 8, region: 'APAC', qty: 3 });
    expect(await db.connector.getByKey(table, { warehouse: 8, region: 'EU' })).toBeNull();
  });

  it('delete by composite key removes exactly that row; a second delete answers false', async () => {
    const table = db.table('stock');
    const before = await count('stock');
    expect(await db.connector.delete(table, { warehouse: 7, region: 'eu' })).toBe(true);
    expect(await db.connector.delete(table, { warehouse: 7, region: 'eu' })).toBe(false);
    expect(await db.connector.getByKey(table, { warehouse: 7, region: 'eu' })).toBeNull();
    expect(await db.connector.getByKey(table, { warehouse: 7, region: 'EU' })).not.toBeNull();
    expect(await count('stock')).toBe(before - 1);
  });

  it('upsert inserts, then updates the same key, and treats case-distinct keys as new', async () => {
    const table = db.table('stock');
    const before = await count('stock');
    expect(await db.connector.upsert(table, [{ warehouse: 9, region: 'EU', qty: 1 }])).toEqual([
      { warehouse: 9, region: 'EU', qty: 1 },
    ]);
    expect(await db.connector.upsert(table, [{ warehouse: 9, region: 'EU', qty: 2 }])).toEqual([
      { warehouse: 9, region: 'EU', qty: 2 },
    ]);
    expect(await count('stock')).toBe(before + 1);
    const batch = await db.connector.upsert(table, [
      { warehouse: 9, region: 'eu', qty: 3 },
      { warehouse: 9, region: 'EU', qty: 4 },
    ]);
    const byKey = (a: Row, b: Row) => encodeRowKey(table, a).localeCompare(encodeRowKey(table, b));
    expect([...batch].sort(byKey)).toEqual(
      [
        { warehouse: 9, region: 'eu', qty: 3 },
        { warehouse: 9, region: 'EU', qty: 4 },
      ].sort(byKey),
    );
    expect(await count('stock')).toBe(before + 2);
    expect(await db.connector.getByKey(table, { warehouse: 9, region: 'EU' })).toEqual({
      warehouse: 9,
      region: 'EU',
      qty: 4,
    });
  });

  it('upsert by the generated key updates the existing row', async () => {
    const table = db.table('items');
    const [row] = await insertRows(db, 'items', [{ name: 'to-upsert', qty: 1 }]);
    const [after] = await db.connector.upsert(table, [{ id: row!.id, name: 'upserted', qty: 2, note: null }]);
    expect(after).toEqual({ id: row!.id, name: 'upserted', qty: 2, note: null });
    await expectBraidError(() => db.connector.upsert(table, [{ name: 'x' }], ['nope']), {
      status: 400,
      code: 'unknown_field',
      mentions: ['nope'],
    });
  });

  it('upsert by a unique index keeps the generated id and updates the other columns', async () => {
    const table = db.table('users');
    expect(table.uniqueIndexes.map((u) => u.columns)).toContainEqual(['email']);
    const [first] = await db.connector.upsert(table, [{ email: 'ann@example.com', name: 'Ann' }], ['email']);
    expect(first).toEqual({ id: expect.any(Number), email: 'ann@example.com', name: 'Ann', visits: 5 });
    const [second] = await db.connector.upsert(
      table,
      [{ email: 'ann@example.com', name: 'Annie' }],
      ['email'],
    );
    expect(second).toEqual({ ...first, name: 'Annie' });
    const [other] = await db.connector.upsert(
      table,
      [{ email: 'ANN@example.com', name: 'Other' }],
      ['email'],
    );
    expect(other!.id).not.toBe(first!.id);
    expect(await db.connector.count(table)).toBe(2);
  });

  it('a row of defaults only is inserted and answered', async () => {
    const [row] = await insertRows(db, 'users', [{}]);
    expect(row).toEqual({ id: expect.any(Number), email: null, name: null, visits: 5 });
    expect(await db.connector.getByKey(db.table('users'), { id: row!.id })).toEqual(row);
  });

  it('a transaction that throws leaves nothing behind', async () => {
    const table = db.table('items');
    const [kept, victim] = await insertRows(db, 'items', [{ name: 'kept', qty: 1 }, { name: 'victim' }]);
    const before = await count('items');
    await expect(
      db.connector.transaction(async (tx) => {
        await tx.insert(table, [{ name: 'rolled-back-1' }, { name: 'rolled-back-2' }]);
        await tx.update(table, { id: kept!.id }, { name: 'changed' });
        expect(await tx.delete(table, { id: victim!.id })).toBe(true);
        expect(await tx.count(table)).toBe(before + 1);
        expect((await tx.getByKey(table, { id: kept!.id }))!.name).toBe('changed');
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await count('items')).toBe(before);
    expect(await db.connector.getByKey(table, { id: kept!.id })).toEqual(kept);
    expect(await db.connector.getByKey(table, { id: victim!.id })).toEqual(victim);
    expect(await db.connector.count(table, { field: 'name', op: 'startsWith', value: 'rolled-back' })).toBe(
      0,
    );
  });

  it('a transaction that returns commits and answers its value', async () => {
    const table = db.table('items');
    const result = await db.connector.transaction(
      async (tx) => (await tx.insert(table, [{ name: 'committed' }]))[0]!,
    );
    expect(await db.connector.getByKey(table, { id: result.id })).toEqual(result);
  });

  it('a batch that fails on the database writes nothing', async () => {
    const table = db.table('stock');
    const before = await count('stock');
    const err = await db.connector
      .insert(table, [
        { warehouse: 20, region: 'X', qty: 1 },
        { warehouse: 21, region: 'X', qty: 1 },
        { warehouse: 20, region: 'X', qty: 2 },
      ])
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(BraidError);
    expect((err as BraidError).status).toBe(409);
    expect(await count('stock')).toBe(before);
    expect(await db.connector.getByKey(table, { warehouse: 21, region: 'X' })).toBeNull();
  });

  it('a wrong-type value is refused naming field and value, and nothing is written', async () => {
    const before = await count('items');
    await expectBraidError(() => insertRows(db, 'items', [{ name: 'ok' }, { name: 'bad', qty: 'abc' }]), {
      status: 400,
      code: 'invalid_value',
      mentions: ['qty', 'abc'],
    });
    expect(await count('items')).toBe(before);
  });
});
