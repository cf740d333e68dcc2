import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../src/model/schema.js';
import { postgresAvailable } from '../support/servers.js';
import { usePostgresSchema } from './postgres-fixture.js';

const available = await postgresAvailable();

const SCHEMA = `
  create table customers (
    id serial primary key,
    email text not null unique,
    name text,
    credit numeric(12, 2) not null default 0,
    created timestamptz not null default now(),
    label text generated always as (upper(coalesce(name, email))) stored
  );
  create table memberships (
    customer_id int not null,
    club text not null,
    level int,
    primary key (customer_id, club)
  );
  create table words (id int primary key, word text, icu text ${'collate "en-x-icu"'});
`;

describe.skipIf(!available)('PostgreSQL CRUD', () => {
  const pg = usePostgresSchema('bpg_crud', SCHEMA);
  let customers: TableSchema;
  let memberships: TableSchema;

  it('inserts rows and answers them with generated keys, defaults and generated columns', async () => {
    customers = await pg.table('customers');
    memberships = await pg.table('memberships');
    const rows = await pg.connector.insert(customers, [
      { email: 'ada@example.com', name: 'Ada' },
      { email: 'bob@example.com' },
      { email: 'cy@example.com', name: 'Cy', credit: '10.5' },
    ]);
    expect(rows.map((r) => [r.id, r.email, r.credit, r.label])).toEqual([
      [1, 'ada@example.com', '0.00', 'ADA'],
      [2, 'bob@example.com', '0.00', 'BOB@EXAMPLE.COM'],
      [3, 'cy@example.com', '10.50', 'CY'],
    ]);
    expect(rows[0]!.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
  });

  it('updates by key and answers the stored row, or null for a missing key', async () => {
    const updated = await pg.connector.update(customers, { id: 2 }, { name: 'Bob', credit: '99.99' });
    expect(updated).toMatchObject({ id: 2, name: 'Bob', credit: '99.99', label: 'BOB' });
    expect(await pg.connector.update(customers, { id: 999 }, { name: 'Nobody' })).toBeNull();
    expect(await pg.connector.getByKey(customers, { id: 2 })).toMatchObject({ name: 'Bob' });
  });

  it('deletes by key and says whether a row was there', async () => {
    const [temp] = await pg.connector.insert(customers, [{ email: 'temp@example.com' }]);
    expect(await pg.connector.delete(customers, { id: temp!.id })).toBe(true);
    expect(await pg.connector.delete(customers, { id: temp!.id })).toBe(false);
    expect(await pg.connector.getByKey(customers, { id: temp!.id })).toBeNull();
  });

  it('upserts on the primary key, on a unique column, and with key columns only', async () => {
    const first = await pg.connector.upsert(memberships, [
      { customer_id: 1, club: 'chess', level: 1 },
      { customer_id: 1, club: 'go', level: 2 },
    ]);
    expect(first).toHaveLength(2);
    const second = await pg.connector.upsert(memberships, [
      { customer_id: 1, club: 'chess', level: 5 },
      { customer_id: 3, club: 'chess', level: 1 },
    ]);
    expect(second).toEqual([
      { customer_id: 1, club: 'chess', level: 5 },
      { customer_id: 3, club: 'chess', level: 1 },
    ]);
    // Only key columns: the existing row is answered unchanged, not dropped by DO NOTHING.
    expect(await pg.connector.upsert(memberships, [{ customer_id: 1, club: 'go' }])).toEqual([
      { customer_id: 1, club: 'go', level: 2 },
    ]);
    const byEmail = await pg.connector.upsert(
      customers,
      [{ email: 'ada@example.com', name: 'Ada L.' }],
      ['email'],
    );
    expect(byEmail).toMatchObject([{ id: 1, email: 'ada@example.com', name: 'Ada L.', label: 'ADA L.' }]);
    expect(await pg.connector.count(memberships)).toBe(3);
  });

  it('rolls a transaction back when its function throws, and commits otherwise', async () => {
    await expect(
      pg.connector.transaction(async (tx) => {
        await tx.insert(customers, [{ email: 'ghost@example.com' }]);
        expect(await tx.count(customers, { field: 'email', op: 'eq', value: 'ghost@example.com' })).toBe(1);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(
      await pg.connector.count(customers, { field: 'email', op: 'eq', value: 'ghost@example.com' }),
    ).toBe(0);
    await pg.connector.transaction(async (tx) => {
      await tx.update(customers, { id: 3 }, { name: 'Cyrus' });
    });
    expect(await pg.connector.getByKey(customers, { id: 3 })).toMatchObject({ name: 'Cyrus' });
  });

  it('runs raw SQL with named bindings as bound parameters', async () => {
    const result = await pg.connector.rawQuery(
      `select id, email, credit, 'it''s :not_a_binding' as text, 1::int8 as big
         from "${pg.schema}".customers where email = :email or id = :id order by id`,
      { email: "bob@example.com' or 1=1 --", id: 1 },
    );
    expect(result.rows).toEqual([
      { id: 1, email: 'ada@example.com', credit: '0.00', text: "it's :not_a_binding", big: '1' },
    ]);
    expect(result.columns).toEqual(['id', 'email', 'credit', 'text', 'big']);
    const update = await pg.connector.rawQuery(
      `update "${pg.schema}".customers set name = name where id > $1`,
      [0],
    );
    expect(update.affectedRows).toBe(3);
  });

  it('pages with keyset cursors and offsets in a stable order', async () => {
    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await pg.connector.select(customers, {
        sort: [{ field: 'name', dir: 'desc' }],
        limit: 2,
        ...(cursor ? { cursor } : {}),
      });
      seen.push(...page.rows.map((r) => r.name));
      cursor = page.next ?? undefined;
    } while (cursor);
    // NULL sorts last descending; the key breaks ties.
    expect(seen).toEqual(['Cyrus', 'Bob', 'Ada L.']);
    const offset = await pg.connector.select(customers, {
      sort: [{ field: 'id', dir: 'asc' }],
      offset: 1,
      limit: 1,
      fields: ['email'],
    });
    expect(offset.rows).toEqual([{ email: 'bob@example.com' }]);
  });
});

describe.skipIf(!available)('PostgreSQL string semantics', () => {
  const pg = usePostgresSchema('bpg_strings', SCHEMA);
  let words: TableSchema;
  const values = ['b', 'B', 'a', '_', 'é', 'É', 'z', '100%', 'a_b', 'back\\slash', 'trail ', null];

  const ids = async (filter: object): Promise<unknown[]> =>
    (
      await pg.connector.select(words, { filter: filter as never, sort: [{ field: 'id', dir: 'asc' }] })
    ).rows.map((r) => r.word);

  it('orders strings by code point, also on a column with a linguistic collation', async () => {
    words = await pg.table('words');
    await pg.connector.insert(
      words,
      values.map((word, id) => ({ id, word, icu: word })),
    );
    const expected = ['B', '_', 'a', 'a_b', 'b', 'back\\slash', 'trail ', 'z', 'É', 'é'];
    const byWord = await pg.connector.select(words, { sort: [{ field: 'word', dir: 'asc' }] });
    expect(byWord.rows.map((r) => r.word)).toEqual([null, '100%', ...expected]);
    const byIcu = await pg.connector.select(words, { sort: [{ field: 'icu', dir: 'asc' }] });
    expect(byIcu.rows.map((r) => r.icu)).toEqual([null, '100%', ...expected]);
    const gt = await pg.connector.select(words, {
      filter: { field: 'icu', op: 'gt', value: 'Z' },
      sort: [{ field: 'icu', dir: 'asc' }],
    });
    expect(gt.rows.map((r) => r.icu)).toEqual(['_', 'a', 'a_b', 'b', 'back\\slash', 'trail ', 'z', 'É', 'é']);
  });

  it('matches %, _ and backslash literally in contains/startsWith/endsWith', async () => {
    expect(await ids({ field: 'word', op: 'contains', value: '%' })).toEqual(['100%']);
    expect(await ids({ field: 'word', op: 'contains', value: '_' })).toEqual(['_', 'a_b']);
    expect(await ids({ field: 'word', op: 'startsWith', value: 'back\\' })).toEqual(['back\\slash']);
    expect(await ids({ field: 'icu', op: 'endsWith', value: '_b' })).toEqual(['a_b']);
  });

  it('compares exactly by default and folds Unicode case on request', async () => {
    expect(await ids({ field: 'word', op: 'eq', value: 'é' })).toEqual(['é']);
    expect(await ids({ field: 'word', op: 'eq', value: 'trail' })).toEqual([]);
    expect(await ids({ field: 'word', op: 'eq', value: 'É', caseInsensitive: true })).toEqual(['é', 'É']);
    expect(await ids({ field: 'icu', op: 'in', value: ['b', 'É'] })).toEqual(['b', 'É']);
    expect(await ids({ field: 'word', op: 'startsWith', value: 'B', caseInsensitive: true })).toEqual([
      'b',
      'B',
      'back\\slash',
    ]);
    expect(await ids({ not: { field: 'word', op: 'ne', value: 'a' } })).toEqual(['a']);
  });
});
