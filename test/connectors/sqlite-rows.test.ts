import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connector } from '../../src/connectors/connector.js';
import type { TableSchema } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { collect, createSandbox, tableOf, type SqliteSandbox } from './sqlite-fixtures.js';

const SCHEMA = `
create table people (
  id integer primary key autoincrement,
  name text collate nocase not null,
  email text unique,
  city text,
  score integer
);
create table lines (
  order_id integer not null,
  line_no integer not null,
  sku text not null,
  qty integer not null default 1,
  primary key (order_id, line_no)
);
create table tags (name text primary key, color text);
create table loaded (id integer primary key, label text not null, amount decimal_text(12, 2), active boolean, at datetime);
`;

describe('SQLite rows', () => {
  let sandbox: SqliteSandbox;
  let connector: Connector;
  let people: TableSchema;
  let lines: TableSchema;
  let loaded: TableSchema;
  let tags: TableSchema;
  const ids = (rows: Row[]) => rows.map((r) => r.id);

  beforeAll(async () => {
    sandbox = createSandbox();
    const file = sandbox.file();
    sandbox.exec(file, SCHEMA);
    connector = sandbox.connect(file);
    people = await tableOf(connector, 'people');
    lines = await tableOf(connector, 'lines');
    loaded = await tableOf(connector, 'loaded');
    tags = await tableOf(connector, 'tags');
  });
  afterAll(() => sandbox.cleanup());

  it('inserts rows and answers them with their generated keys, in input order', async () => {
    const names = [
      'Émile',
      'ÉMILE',
      'zoë',
      'Zoë',
      'Bob',
      'bob',
      '50% off',
      'a_b',
      'star*',
      'q?',
      '[x]',
      'Nul',
    ];
    const rows = await connector.insert(
      people,
      names.map((name, i) => ({
        name,
        email: `p${i}@example.com`,
        city: i % 3 === 0 ? null : `c${i % 3}`,
        score: i,
      })),
    );
    expect(rows.map((r) => r.name)).toEqual(names);
    expect(ids(rows)).toEqual(names.map((_, i) => i + 1));
    expect(rows[0]).toEqual({ id: 1, name: 'Émile', email: 'p0@example.com', city: null, score: 0 });
  });

  it('compares exactly by code point even on a COLLATE NOCASE column', async () => {
    const eq = await connector.select(people, { filter: { field: 'name', op: 'eq', value: 'bob' } });
    expect(ids(eq.rows)).toEqual([6]);
    const sorted = await connector.select(people, { sort: [{ field: 'name', dir: 'asc' }], limit: 3 });
    // Code-point order: upper case before lower case, ASCII before accented letters.
    expect(sorted.rows.map((r) => r.name)).toEqual(['50% off', 'Bob', 'Nul']);
    const lt = await connector.select(people, { filter: { field: 'name', op: 'lt', value: 'Bob' } });
    expect(lt.rows.map((r) => r.name)).toEqual(['50% off']);
  });

  it('folds case with Unicode rules when asked to', async () => {
    const eq = await connector.select(people, {
      filter: { field: 'name', op: 'eq', value: 'émile', caseInsensitive: true },
    });
    expect(ids(eq.rows)).toEqual([1, 2]);
    const contains = await connector.select(people, {
      filter: { field: 'name', op: 'contains', value: 'OË', caseInsensitive: true },
    });
    expect(ids(contains.rows)).toEqual([3, 4]);
  });

  it('matches contains/startsWith/endsWith literally and case-sensitively', async () => {
    const q = async (op: 'contains' | 'startsWith' | 'endsWith', value: string) =>
      ids((await connector.select(people, { filter: { field: 'name', op, value } })).rows);
    expect(await q('contains', '%')).toEqual([7]);
    expect(await q('contains', '_')).toEqual([8]);
    expect(await q('endsWith', '*')).toEqual([9]);
    expect(await q('endsWith', '?')).toEqual([10]);
    expect(await q('startsWith', '[x')).toEqual([11]);
    expect(await q('startsWith', 'b')).toEqual([6]);
    expect(await q('startsWith', 'É')).toEqual([1, 2]);
    expect(await q('contains', 'oë')).toEqual([3, 4]);
  });

  it('treats NULL as the filter language says', async () => {
    const ne = await connector.select(people, {
      filter: { field: 'city', op: 'ne', value: 'c1' },
      limit: 100,
    });
    expect(ids(ne.rows)).toEqual([1, 3, 4, 6, 7, 9, 10, 12]);
    const notIn = await connector.select(people, {
      filter: { not: { field: 'city', op: 'in', value: ['c2'] } },
      limit: 100,
    });
    expect(ids(notIn.rows)).toEqual([1, 2, 4, 5, 7, 8, 10, 11]);
    const desc = await connector.select(people, { sort: [{ field: 'city', dir: 'desc' }], limit: 100 });
    expect(desc.rows.slice(-4).map((r) => r.city)).toEqual([null, null, null, null]);
  });

  it('pages with keyset cursors and with offsets', async () => {
    const seen: unknown[] = [];
    let cursor: string | undefined;
    for (;;) {
      const page = await connector.select(people, {
        sort: [{ field: 'city', dir: 'asc' }],
        limit: 5,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...ids(page.rows));
      if (!page.next) break;
      cursor = page.next;
    }
    expect([...seen].sort((a, b) => Number(a) - Number(b))).toEqual(
      Array.from({ length: 12 }, (_, i) => i + 1),
    );
    const offset = await connector.select(people, { limit: 2, offset: 10 });
    expect(ids(offset.rows)).toEqual([11, 12]);
    expect(await connector.count(people, { field: 'score', op: 'gte', value: 6 })).toBe(6);
  });

  it('updates and deletes by key', async () => {
    const updated = await connector.update(people, { id: 5 }, { city: 'Paris', score: 99 });
    expect(updated).toMatchObject({ id: 5, name: 'Bob', city: 'Paris', score: 99 });
    expect(await connector.update(people, { id: 999 }, { city: 'x' })).toBeNull();
    expect(await connector.delete(people, { id: 12 })).toBe(true);
    expect(await connector.delete(people, { id: 12 })).toBe(false);
    expect(await connector.getByKey(people, { id: 12 })).toBeNull();
  });

  it('works on composite keys, including upserts', async () => {
    await connector.insert(lines, [
      { order_id: 1, line_no: 1, sku: 'A' },
      { order_id: 1, line_no: 2, sku: 'B', qty: 3 },
    ]);
    const upserted = await connector.upsert(lines, [
      { order_id: 1, line_no: 2, sku: 'B2', qty: 4 },
      { order_id: 2, line_no: 1, sku: 'C', qty: 1 },
    ]);
    expect(upserted).toEqual([
      { order_id: 1, line_no: 2, sku: 'B2', qty: 4 },
      { order_id: 2, line_no: 1, sku: 'C', qty: 1 },
    ]);
    expect(await connector.getByKey(lines, { order_id: 1, line_no: 1 })).toEqual({
      order_id: 1,
      line_no: 1,
      sku: 'A',
      qty: 1,
    });
    // Only key columns: nothing to update, the row is still answered.
    expect(await connector.upsert(tags, [{ name: 'red' }])).toEqual([{ name: 'red', color: null }]);
    await connector.update(tags, { name: 'red' }, { color: '#f00' });
    expect(await connector.upsert(tags, [{ name: 'red' }])).toEqual([{ name: 'red', color: '#f00' }]);
    const byEmail = await connector.upsert(people, [{ name: 'Renamed', email: 'p0@example.com' }], ['email']);
    expect(byEmail).toEqual([expect.objectContaining({ id: 1, name: 'Renamed' })]);
  });

  it('rolls a transaction back when the function throws', async () => {
    await expect(
      connector.transaction(async (tx) => {
        await tx.insert(people, [{ name: 'Ghost', email: 'ghost@example.com' }]);
        expect(await tx.count(people, { field: 'name', op: 'eq', value: 'Ghost' })).toBe(1);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    expect(await connector.count(people, { field: 'name', op: 'eq', value: 'Ghost' })).toBe(0);
    const committed = await connector.transaction(
      async (tx) => (await tx.insert(people, [{ name: 'Kept', email: 'kept@example.com' }]))[0],
    );
    expect(await connector.getByKey(people, { id: committed!.id as number })).toMatchObject({ name: 'Kept' });
  });

  it('runs raw SQL with named and positional bindings', async () => {
    const named = await connector.rawQuery(
      'select id, name from people where city = :city and score > :min order by id',
      {
        city: 'c1',
        min: 3,
      },
    );
    // Row 5 moved to Paris in the update test.
    expect(named.rows).toEqual([
      { id: 8, name: 'a_b' },
      { id: 11, name: '[x]' },
    ]);
    expect(named.columns).toEqual(['id', 'name']);
    const update = await connector.rawQuery('update people set score = ? where id in (?, ?)', [7, 1, 2]);
    expect(update.affectedRows).toBe(2);
    const big = await connector.rawQuery("select 9223372036854775807 as big, :flag as flag, x'0102' as bin", {
      flag: true,
    });
    expect(big.rows).toEqual([{ big: '9223372036854775807', flag: 1, bin: 'AQI=' }]);
  });

  it('bulk-loads 50,000 rows in one transaction, pulling batches one at a time', async () => {
    let produced = 0;
    let inFlight = 0;
    async function* batches(): AsyncIterable<Row[]> {
      for (let b = 0; b < 50; b++) {
        inFlight++;
        expect(inFlight).toBe(1);
        const batch: Row[] = [];
        for (let i = 0; i < 1000; i++) {
          const n = b * 1000 + i;
          batch.push({
            id: n + 1,
            label: `row ${n}`,
            amount: `${n}.5`,
            active: n % 2 === 0,
            at: '2024-01-01T00:00:00',
          });
        }
        produced += batch.length;
        yield batch;
        inFlight--;
      }
    }
    const started = performance.now();
    const result = await connector.bulkLoad(loaded, batches());
    const elapsed = performance.now() - started;
    expect(result).toEqual({ rows: 50_000 });
    expect(produced).toBe(50_000);
    expect(await connector.count(loaded)).toBe(50_000);
    expect(await connector.getByKey(loaded, { id: 50_000 })).toEqual({
      id: 50_000,
      label: 'row 49999',
      amount: '49999.50',
      active: false,
      at: '2024-01-01T00:00:00',
    });
    expect(elapsed).toBeLessThan(10_000);
  });

  it('loads nothing when one row of a bulk load fails', async () => {
    const before = await connector.count(loaded);
    const bad = [[{ id: 100_001, label: 'ok' }], [{ id: 100_002, label: null }]];
    await expect(connector.bulkLoad(loaded, bad)).rejects.toMatchObject({
      status: 400,
      code: 'missing_value',
    });
    expect(await connector.count(loaded)).toBe(before);
  });

  it('streams every row in batches of the requested size, with a filter', async () => {
    const { rows, batches } = await collect(
      connector.stream(loaded, { batchSize: 7000, filter: { field: 'active', op: 'eq', value: true } }),
    );
    expect(rows).toHaveLength(25_000);
    expect(batches).toBe(4);
    expect(rows.every((r) => r.active === true)).toBe(true);
    const sorted = rows.map((r) => r.id as number);
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
  });
});
