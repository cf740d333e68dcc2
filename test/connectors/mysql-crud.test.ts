import { describe, expect, it } from 'vitest';
import type { TableSchema } from '../../src/model/schema.js';
import type { Row } from '../../src/model/values.js';
import { expectFailure, MYSQL_AVAILABLE, useMysqlDatabase } from './mysql-fixture.js';

const DDL = `
create table people (
  id int primary key auto_increment,
  email varchar(120) not null,
  name varchar(80),
  status varchar(20) not null default 'new',
  created datetime(6) not null default current_timestamp(6),
  unique key uq_email (email)
);
create table pairs (a varchar(10) not null, b int not null, v int, primary key (a, b));
create table only_defaults (id int primary key auto_increment, note varchar(10) default 'hi');
`;

describe.skipIf(!MYSQL_AVAILABLE)('MySQL rows: insert, update, delete, upsert, transactions, raw SQL', () => {
  const db = useMysqlDatabase('crud', DDL);
  let people: TableSchema;
  let pairs: TableSchema;

  it('insert answers the stored row with its generated key and defaults (re-read by key)', async () => {
    people = await db.table('people');
    pairs = await db.table('pairs');
    const [row] = await db.connector.insert(people, [{ email: 'ann@example.com', name: 'Ann' }]);
    expect(row).toMatchObject({ id: 1, email: 'ann@example.com', name: 'Ann', status: 'new' });
    expect(row!.created).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/);
  });

  it('a multi-row insert answers the rows in input order, generated and explicit keys mixed', async () => {
    const input: Row[] = [
      { email: 'b@example.com', name: 'B' },
      { id: 50, email: 'c@example.com', name: 'C' },
      { email: 'd@example.com', name: 'D' },
    ];
    const stored = await db.connector.insert(people, input);
    expect(stored.map((r) => [r.id, r.email])).toEqual([
      [2, 'b@example.com'],
      [50, 'c@example.com'],
      [51, 'd@example.com'],
    ]);
  });

  it('a row of only defaults is inserted with `() values ()`', async () => {
    const table = await db.table('only_defaults');
    expect(await db.connector.insert(table, [{}, {}])).toEqual([
      { id: 1, note: 'hi' },
      { id: 2, note: 'hi' },
    ]);
  });

  it('update answers the stored row, also when it changes the primary key', async () => {
    expect(await db.connector.update(people, { id: 2 }, { name: 'Bee', status: 'active' })).toMatchObject({
      id: 2,
      name: 'Bee',
      status: 'active',
    });
    expect(await db.connector.update(people, { id: 2 }, { id: 20 })).toMatchObject({ id: 20, name: 'Bee' });
    expect(await db.connector.getByKey(people, { id: 2 })).toBeNull();
    expect(await db.connector.update(people, { id: 999 }, { name: 'nobody' })).toBeNull();
    // A composite key changes too.
    await db.connector.insert(pairs, [{ a: 'x', b: 1, v: 10 }]);
    expect(await db.connector.update(pairs, { a: 'x', b: 1 }, { a: 'y', v: 11 })).toEqual({
      a: 'y',
      b: 1,
      v: 11,
    });
    expect(await db.connector.update(pairs, { a: 'y', b: 1 }, { v: 11 })).toEqual({ a: 'y', b: 1, v: 11 });
  });

  it('delete answers whether a row was deleted', async () => {
    expect(await db.connector.delete(people, { id: 20 })).toBe(true);
    expect(await db.connector.delete(people, { id: 20 })).toBe(false);
    expect(await db.connector.getByKey(people, { id: 20 })).toBeNull();
  });

  it('upsert inserts new rows and updates existing ones, by primary key or another unique column', async () => {
    const byKey = await db.connector.upsert(pairs, [
      { a: 'y', b: 1, v: 100 },
      { a: 'z', b: 2, v: 200 },
    ]);
    expect(byKey).toEqual([
      { a: 'y', b: 1, v: 100 },
      { a: 'z', b: 2, v: 200 },
    ]);
    const byEmail = await db.connector.upsert(
      people,
      [
        { email: 'ann@example.com', name: 'Ann Updated' },
        { email: 'new@example.com', name: 'New' },
      ],
      ['email'],
    );
    expect(byEmail.map((r) => [r.email, r.name])).toEqual([
      ['ann@example.com', 'Ann Updated'],
      ['new@example.com', 'New'],
    ]);
    expect(byEmail[0]!.id).toBe(1);
    expect(byEmail[1]!.id).toBeGreaterThan(51);
    // Only conflict columns given: an existing row is left as it is.
    expect(await db.connector.upsert(pairs, [{ a: 'z', b: 2 }])).toEqual([{ a: 'z', b: 2, v: 200 }]);
  });

  it('a transaction commits together, and rolls back everything when its function throws', async () => {
    await db.connector.transaction(async (tx) => {
      await tx.insert(pairs, [{ a: 't', b: 1, v: 1 }]);
      await tx.update(pairs, { a: 't', b: 1 }, { v: 2 });
    });
    expect(await db.connector.getByKey(pairs, { a: 't', b: 1 })).toEqual({ a: 't', b: 1, v: 2 });

    const boom = new Error('boom');
    await expect(
      db.connector.transaction(async (tx) => {
        await tx.insert(pairs, [{ a: 'r', b: 1, v: 1 }]);
        await tx.delete(pairs, { a: 't', b: 1 });
        expect(await tx.getByKey(pairs, { a: 'r', b: 1 })).not.toBeNull();
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(await db.connector.getByKey(pairs, { a: 'r', b: 1 })).toBeNull();
    expect(await db.connector.getByKey(pairs, { a: 't', b: 1 })).not.toBeNull();
  });

  it('a failed statement inside a transaction rolls back the earlier ones', async () => {
    await expectFailure(
      () =>
        db.connector.transaction(async (tx) => {
          await tx.insert(people, [{ email: 'tx@example.com' }]);
          await tx.insert(people, [{ email: 'tx@example.com' }]);
        }),
      409,
      'unique_violation',
    );
    expect(await db.connector.count(people, { field: 'email', op: 'eq', value: 'tx@example.com' })).toBe(0);
  });

  it('rawQuery binds named values, leaves ? inside literals alone and reports affected rows', async () => {
    const found = await db.connector.rawQuery(
      "select email, 'why? :not_a_binding' as literal from people where name = :name and id < :max -- what?",
      { name: 'Ann Updated', max: 10 },
    );
    expect(found.rows).toEqual([{ email: 'ann@example.com', literal: 'why? :not_a_binding' }]);
    expect(found.columns).toEqual(['email', 'literal']);
    const positional = await db.connector.rawQuery("select ? as a, '?' as b, ? as c", ['x', { j: [1] }]);
    expect(positional.rows).toEqual([{ a: 'x', b: '?', c: '{"j":[1]}' }]);
    const updated = await db.connector.rawQuery('update people set status = :status where id in (1, 50)', {
      status: 'vip',
    });
    expect(updated.affectedRows).toBe(2);
    const injection = await db.connector.rawQuery('select count(*) as n from people where name = :name', {
      name: "x' or '1'='1",
    });
    expect(injection.rows).toEqual([{ n: '0' }]); // BIGINT arrives as an exact string
  });

  it('rawQuery refuses a count of values that does not match the placeholders', async () => {
    await expectFailure(() => db.connector.rawQuery('select ? as a, ? as b', [1]), 400, 'missing_binding');
    await expectFailure(() => db.connector.rawQuery('select ? as a', [1, 2]), 400, 'unused_binding');
  });
});
