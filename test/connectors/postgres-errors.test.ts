import { execFileSync } from 'node:child_process';
import net from 'node:net';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createPostgresConnector } from '../../src/connectors/postgres/index.js';
import { QueryError } from '../../src/model/errors.js';
import type { TableSchema } from '../../src/model/schema.js';
import { postgresAvailable, POSTGRES_URL } from '../support/servers.js';
import { usePostgresSchema } from './postgres-fixture.js';

const available = await postgresAvailable();

const SCHEMA = `
  create table customers (id int primary key, email text not null unique, age int check (age >= 0), code varchar(5));
  create table orders (id int primary key, customer_id int not null references customers (id));
  insert into customers values (1, 'ada@example.com', 36, 'A1');
  insert into orders values (10, 1);
`;

/** The error a promise rejects with (fails the test when it resolves). */
async function failure(promise: Promise<unknown>): Promise<QueryError> {
  const err = await promise.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(QueryError);
  return err as QueryError;
}

/** Kills a backend from a separate admin session, as a server restart or a DBA would. */
async function terminate(pid: unknown): Promise<void> {
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query('select pg_terminate_backend($1)', [pid]);
  } finally {
    await admin.end();
  }
}

/** The same, from a child process while this one waits synchronously (its event loop blocked). */
function terminateBlocking(pid: unknown): void {
  const script = `import pg from 'pg';
    const c = new pg.Client({ connectionString: process.env.URL });
    await c.connect(); await c.query('select pg_terminate_backend($1)', [Number(process.env.PID)]); await c.end();`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, URL: POSTGRES_URL, PID: String(pid) },
    stdio: 'inherit',
  });
}

describe.skipIf(!available)('PostgreSQL error translation', () => {
  const db = usePostgresSchema('bpg_errors', SCHEMA);
  let customers: TableSchema;
  let orders: TableSchema;

  it('unique violation -> 409 unique_violation naming the column and value, keeping query and params', async () => {
    customers = await db.table('customers');
    orders = await db.table('orders');
    const err = await failure(db.connector.insert(customers, [{ id: 2, email: 'ada@example.com' }]));
    expect(err).toMatchObject({ status: 409, code: 'unique_violation' });
    expect(err.message).toBe(
      'A row with email = ada@example.com already exists in "customers" (unique constraint "customers_email_key").',
    );
    expect(err.details).toMatchObject({
      constraint: 'customers_email_key',
      columns: 'email',
      value: 'ada@example.com',
    });
    expect(err.query).toMatch(/^insert into/);
    expect(err.params).toContain('ada@example.com');
  });

  it('foreign key violations -> 409 foreign_key_violation, on insert and on delete', async () => {
    const missing = await failure(db.connector.insert(orders, [{ id: 11, customer_id: 99 }]));
    expect(missing).toMatchObject({ status: 409, code: 'foreign_key_violation' });
    expect(missing.message).toContain('customer_id = 99 does not exist in "customers"');
    const referenced = await failure(db.connector.delete(customers, { id: 1 }));
    expect(referenced).toMatchObject({ status: 409, code: 'foreign_key_violation' });
    expect(referenced.message).toContain('is still referenced from "orders"');
  });

  it('not null -> 400 missing_value naming the column', async () => {
    const err = await failure(db.connector.insert(customers, [{ id: 3, email: null }]));
    expect(err).toMatchObject({
      status: 400,
      code: 'missing_value',
      message: 'Column "email" in "customers" cannot be null.',
    });
  });

  it('invalid input and too long values -> 400 invalid_value', async () => {
    const syntax = await failure(db.connector.rawQuery(`select :v::int as n`, { v: 'abc' }));
    expect(syntax).toMatchObject({
      status: 400,
      code: 'invalid_value',
      message: expect.stringContaining('"abc"'),
    });
    const long = await failure(
      db.connector.insert(customers, [{ id: 4, email: 'x@example.com', code: 'TOOLONG' }]),
    );
    expect(long).toMatchObject({
      status: 400,
      code: 'invalid_value',
      message: expect.stringContaining('character varying(5)'),
    });
  });

  it('a rejected bound value names the column it was meant for', async () => {
    const overflow = await failure(
      db.connector.insert(customers, [{ id: 6, email: 'o@example.com', age: 3_000_000_000 }]),
    );
    expect(overflow).toMatchObject({
      status: 400,
      code: 'invalid_value',
      details: expect.objectContaining({ column: 'age' }),
    });
    expect(overflow.message).toMatch(/^Invalid value for "age": .*out of range for type integer/);
    const text = await failure(db.connector.update(customers, { id: 1 }, { code: 'A2', age: 'old' }));
    expect(text.message).toMatch(/^Invalid value for "age": invalid input syntax for type integer: "old"/);
    const raw = await failure(
      db.connector.rawQuery(`select * from "${db.schema}".customers where "age" > :v`, { v: 'x' }),
    );
    expect(raw.details).toMatchObject({ column: 'age' });
  });

  it('check violation -> 400 check_violation naming the constraint', async () => {
    const err = await failure(db.connector.update(customers, { id: 1 }, { age: -1 }));
    expect(err).toMatchObject({
      status: 400,
      code: 'check_violation',
      message: expect.stringContaining('"customers_age_check"'),
    });
  });

  it('the same key twice in one upsert -> 400 duplicate_rows', async () => {
    const rows = [
      { id: 5, email: 'e1@example.com' },
      { id: 5, email: 'e2@example.com' },
    ];
    const err = await failure(db.connector.upsert(customers, rows));
    expect(err).toMatchObject({ status: 400, code: 'duplicate_rows' });
  });

  it('statement timeout -> 504 timeout, and the connection stays usable', async () => {
    const slow = db.open({ timeoutMs: 300 });
    const err = await failure(slow.rawQuery('select pg_sleep(3)'));
    expect(err).toMatchObject({ status: 504, code: 'timeout', message: expect.stringContaining('0.3 s') });
    expect((await slow.rawQuery('select 1 as one')).rows).toEqual([{ one: 1 }]);
  });

  it('bad SQL -> 400 invalid_query; anything else -> 500 query_failed', async () => {
    const syntax = await failure(db.connector.rawQuery('selec 1'));
    expect(syntax).toMatchObject({
      status: 400,
      code: 'invalid_query',
      message: expect.stringContaining('syntax error'),
    });
    const raised = await failure(db.connector.rawQuery(`do $$ begin raise exception 'boom %', 42; end $$`));
    expect(raised).toMatchObject({
      status: 500,
      code: 'query_failed',
      message: expect.stringContaining('boom 42'),
    });
  });

  it('unreachable server -> 502 source_unavailable without the password or URL', async () => {
    const s = net.createServer();
    await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
    const { port } = s.address() as net.AddressInfo;
    await new Promise<void>((resolve) => s.close(() => resolve()));
    const url = `postgres://app:sup3r-secret-pw@127.0.0.1:${port}/test`;
    const dead = createPostgresConnector({ url, schemas: ['public'] });
    try {
      for (const attempt of [dead.introspect(), dead.rawQuery('select 1'), dead.transaction(async () => 1)]) {
        const err = await failure(attempt);
        expect(err).toMatchObject({ status: 502, code: 'source_unavailable' });
        expect(err.message).toContain(`127.0.0.1:${port}`);
        expect(JSON.stringify({ message: err.message, details: err.details, query: err.query })).not.toMatch(
          /sup3r-secret-pw|postgres:\/\//,
        );
      }
    } finally {
      await dead.close();
    }
  });

  it('a terminated session -> 502 source_unavailable, then the pool reconnects', async () => {
    const victim = db.open();
    const { rows } = await victim.rawQuery('select pg_backend_pid() as pid');
    const running = failure(victim.rawQuery('select pg_sleep(5)'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await terminate(rows[0]!.pid);
    const err = await running;
    expect(err).toMatchObject({ status: 502, code: 'source_unavailable' });
    const after = await victim.rawQuery('select pg_backend_pid() as pid');
    expect(after.rows[0]!.pid).not.toBe(rows[0]!.pid);
  });

  it('a read on an idle pooled session the server killed succeeds on a fresh connection', async () => {
    const victim = db.open();
    expect(await victim.count(customers)).toBe(1);
    const { rows } = await victim.rawQuery('select pg_backend_pid() as pid');
    // Killed while this process's event loop is blocked, so the pool has not seen the socket close
    // and hands out the dead session: the read must notice and retry on a new connection.
    terminateBlocking(rows[0]!.pid);
    expect(await victim.count(customers)).toBe(1);
    terminateBlocking((await victim.rawQuery('select pg_backend_pid() as pid')).rows[0]!.pid);
    expect(await victim.getByKey(customers, { id: 1 })).toMatchObject({ email: 'ada@example.com' });
  });

  it('a write on a killed session is not retried, and the next one works', async () => {
    const victim = db.open();
    const { rows } = await victim.rawQuery('select pg_backend_pid() as pid');
    terminateBlocking(rows[0]!.pid);
    const err = await failure(victim.update(customers, { id: 1 }, { age: 37 }));
    expect(err).toMatchObject({ status: 502, code: 'source_unavailable' });
    expect(await victim.update(customers, { id: 1 }, { age: 37 })).toMatchObject({ age: 37 });
  });
});
