import { describe, expect, it } from 'vitest';
import type { TableDefinition } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { engines, useDatabase } from './engines.js';
import { expectBraidError, insertRows, portableSort } from './helpers.js';

/** rawQuery with named bindings (always bound, never spliced), stream() batches and bulkLoad(). */
const notes: TableDefinition = {
  name: 'notes',
  columns: [
    { name: 'id', type: 'integer', autoIncrement: true },
    { name: 'name', type: 'string', maxLength: 100 },
    { name: 'qty', type: 'integer', nullable: true },
  ],
};

const streamed: TableDefinition = {
  name: 'streamed',
  columns: [
    { name: 'id', type: 'integer' },
    { name: 'label', type: 'string', maxLength: 20, nullable: true },
  ],
  primaryKey: ['id'],
};

const loaded: TableDefinition = { ...streamed, name: 'loaded' };

const INJECTION = "x' or '1'='1";
const DROP = "'; drop table notes; --";
const STREAMED: Row[] = Array.from({ length: 250 }, (_, i) => ({
  id: i + 1,
  label: i % 10 === 0 ? null : `l${String((i * 37) % 250).padStart(3, '0')}`,
}));

describe.each(engines)('rawQuery, stream and bulkLoad on $kind', (engine) => {
  const db = useDatabase(engine, [notes, streamed, loaded], async (d) => {
    await insertRows(d, 'notes', [
      { name: 'alpha', qty: 1 },
      { name: 'beta', qty: 2 },
    ]);
    await insertRows(d, 'streamed', STREAMED);
  });
  const raw = (sqlText: string, bindings?: Record<string, unknown> | unknown[]) =>
    db.connector.rawQuery(sqlText, bindings);

  it('named bindings select by value', async () => {
    const result = await raw(`select name, qty from ${db.rawTable('notes')} where name = :name`, {
      name: 'beta',
    });
    expect(result.rows).toEqual([{ name: 'beta', qty: 2 }]);
  });

  it('a value that looks like SQL injection is only a value', async () => {
    const none = await raw(`select name from ${db.rawTable('notes')} where name = :name`, {
      name: INJECTION,
    });
    expect(none.rows).toEqual([]);
    await insertRows(db, 'notes', [{ name: INJECTION, qty: 3 }]);
    const one = await raw(`select name from ${db.rawTable('notes')} where name = :name`, { name: INJECTION });
    expect(one.rows).toEqual([{ name: INJECTION }]);
    const deleted = await raw(`delete from ${db.rawTable('notes')} where name = :name`, { name: DROP });
    expect(deleted.affectedRows).toBe(0);
    const echoed = await raw('select :v as v', { v: DROP });
    expect(echoed.rows).toEqual([{ v: DROP }]);
    expect(await db.connector.count(db.table('notes'))).toBe(3);
  });

  it('a binding used twice, and colons inside literals and comments left alone', async () => {
    const result = await raw(
      `select name from ${db.rawTable('notes')} where name = :n or qty = :q or name = :n -- :ignored\norder by name`,
      { n: 'alpha', q: 2 },
    );
    expect(result.rows).toEqual([{ name: 'alpha' }, { name: 'beta' }]);
    const literal = await raw("select ':not_a_binding' as lit, :v as v", { v: 'hello' });
    expect(literal.rows).toEqual([{ lit: ':not_a_binding', v: 'hello' }]);
  });

  it('updates report affected rows', async () => {
    const result = await raw(`update ${db.rawTable('notes')} set qty = :q where name = :name`, {
      q: 20,
      name: 'alpha',
    });
    expect(result.affectedRows).toBe(1);
    const check = await raw(`select qty from ${db.rawTable('notes')} where name = :name`, { name: 'alpha' });
    expect(Number(check.rows[0]!.qty)).toBe(20);
  });

  it('missing and unused bindings are refused before anything runs', async () => {
    await expectBraidError(() => raw(`delete from ${db.rawTable('notes')} where name = :name`, {}), {
      status: 400,
      code: 'missing_binding',
      mentions: ['name'],
    });
    await expectBraidError(
      () => raw(`delete from ${db.rawTable('notes')} where name = :name`, { name: 'x', extra: 1 }),
      {
        status: 400,
        code: 'unused_binding',
        mentions: ['extra'],
      },
    );
    expect(await db.connector.count(db.table('notes'))).toBe(3);
  });

  it('a statement the database rejects is a BraidError, not a driver error', async () => {
    await expectBraidError(() => raw(`select nope from ${db.rawTable('notes')}`), {
      status: 400,
      code: 'invalid_query',
      mentions: ['nope'],
    });
  });

  it('stream yields every row once, in batches of the requested size', async () => {
    const batches: Row[][] = [];
    for await (const batch of db.connector.stream(db.table('streamed'), { batchSize: 100 }))
      batches.push(batch);
    expect(batches.map((b) => b.length)).toEqual([100, 100, 50]);
    expect(batches.flat()).toEqual(STREAMED);
  });

  it('stream with a filter and a sort', async () => {
    const sort = [{ field: 'label', dir: 'desc' as const }];
    const batches: Row[][] = [];
    const filter = { field: 'label', op: 'ne' as const, value: 'l000' };
    for await (const batch of db.connector.stream(db.table('streamed'), { batchSize: 60, filter, sort })) {
      expect(batch.length).toBeLessThanOrEqual(60);
      batches.push(batch);
    }
    const expected = portableSort(
      STREAMED.filter((r) => r.label !== 'l000'),
      sort,
    );
    expect(batches.flat()).toEqual(expected);
    expect(batches.slice(0, -1).every((b) => b.length === 60)).toBe(true);
  });

  it('stream of an empty result yields no batch', async () => {
    const batches: Row[][] = [];
    const filter = { field: 'id', op: 'gt' as const, value: 1_000_000 };
    for await (const batch of db.connector.stream(db.table('streamed'), { filter })) batches.push(batch);
    expect(batches).toEqual([]);
  });

  it('bulkLoad loads every batch and answers the count', async () => {
    async function* batches(): AsyncIterable<Row[]> {
      for (let start = 0; start < STREAMED.length; start += 75) yield STREAMED.slice(start, start + 75);
    }
    expect(await db.connector.bulkLoad(db.table('loaded'), batches())).toEqual({ rows: 250 });
    const page = await db.connector.select(db.table('loaded'), { limit: 1000 });
    expect(page.rows).toEqual(STREAMED);
  });
});
