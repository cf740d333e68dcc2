import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  POSTGRES_URL,
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  mysqlExec,
  postgresAvailable,
  postgresExec,
} from '../support/servers.js';
import { openConsolidationFixture, type ConsolidationFixture } from './consolidation-fixture.js';

const available = (await postgresAvailable()) && (await mysqlAvailable());

/**
 * Customers and their invoices from two tools, consolidated together into a PostgreSQL master whose
 * invoices table has a real foreign key: each invoice must point at the merged customer its source
 * customer became, and an invoice whose customer does not exist is reported, never written.
 */
describe.skipIf(!available)('consolidating parent and child tables with remapped foreign keys', () => {
  let fx: ConsolidationFixture;
  let crm: { url: string; drop(): Promise<void> };
  let billing: { schema: string; url: string; drop(): Promise<void> };
  let master: { schema: string; url: string; drop(): Promise<void> };

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    crm = await createMysqlDatabase('crm_pc');
    await mysqlExec(
      crm.url,
      `create table customers (id int primary key, email varchar(100), name varchar(100));
       insert into customers values (10, 'ada@example.com', 'Ada'), (11, 'bob@example.com', 'Bob');
       create table invoices (id int primary key, customer_id int, number varchar(20), amount decimal(10,2));
       insert into invoices values (1, 10, 'CRM-1', 10.00), (2, 11, 'CRM-2', 20.00), (3, 10, 'CRM-3', 30.00),
         (4, 99, 'CRM-ORPHAN', 1.00);`,
    );
    billing = await createPostgresSchema('billing_pc');
    await postgresExec(
      billing.schema,
      `create table clients (client_no int primary key, email text, name text);
       insert into clients values (500, 'BOB@example.com', 'Robert'), (501, 'cy@example.com', 'Cy');
       create table bills (bill_id int primary key, client_no int references clients, ref text, total numeric(10,2));
       insert into bills values (7, 500, 'BIL-7', 70.00), (8, 501, 'BIL-8', 80.00), (9, 500, 'BIL-9', 90.00);`,
    );
    master = await createPostgresSchema('master_pc');
    await postgresExec(
      master.schema,
      `create table customers (id bigserial primary key, email text not null unique, name text);
       create table invoices (id bigserial primary key, customer_id bigint not null references customers,
         number text not null, amount numeric(10,2));`,
    );
    await fx.addSource('crm', 'mysql', { url: crm.url });
    await fx.addSource('billing', 'postgres', { url: billing.url, schemas: [billing.schema] });
    await fx.addSource('master', 'postgres', { url: master.url, schemas: [master.schema] });
  });

  afterAll(async () => {
    await fx?.close();
    await crm?.drop();
    await billing?.drop();
    await master?.drop();
  });

  it('writes both tables with every invoice pointing at its merged customer; the orphan is reported', async () => {
    const job = await fx.consolidate({
      name: 'customers-and-invoices',
      target: { source: 'master' },
      onInvalidRow: 'skip',
      tables: [
        {
          table: `${master.schema}.customers`,
          key: { column: 'id', generate: 'sequence' },
          inputs: [
            { name: 'crm', source: 'crm', table: 'customers', columns: { email: 'email', name: 'name' } },
            {
              name: 'billing',
              source: 'billing',
              table: `${billing.schema}.clients`,
              columns: { email: { from: 'email', transform: 'value.toLowerCase()' }, name: 'name' },
            },
          ],
          match: { exact: [[{ field: 'email', normalize: ['email'] }]] },
        },
        {
          table: `${master.schema}.invoices`,
          key: { column: 'id', generate: 'sequence' },
          inputs: [
            {
              name: 'crm_invoices',
              source: 'crm',
              table: 'invoices',
              columns: { customer_id: 'customer_id', number: 'number', amount: 'amount' },
              references: { customer_id: { table: `${master.schema}.customers`, input: 'crm' } },
            },
            {
              name: 'bills',
              source: 'billing',
              table: `${billing.schema}.bills`,
              columns: { customer_id: 'client_no', number: 'ref', amount: 'total' },
              references: { customer_id: { table: `${master.schema}.customers`, input: 'billing' } },
            },
          ],
        },
      ],
    });
    expect(job.error).toBeNull();
    const report = job.result!;
    expect(report.verdict).toBe('verified');
    expect(report.accounted).toBe(true);
    expect(report.tables.map((t) => [t.entities, t.duplicatesMerged])).toEqual([
      [3, 1],
      [6, 0],
    ]);
    expect(report.rejected).toBe(1);
    expect(report.rejects[0]).toMatchObject({
      input: 'crm_invoices',
      sourceKey: '4',
      field: 'customer_id',
      value: '99', // a bigint column's wire value
    });
    expect(report.rejects[0]!.reason).toContain('orphan');

    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    const { rows } = await client.query(
      `select i.number, c.email, i.amount from "${master.schema}".invoices i
       join "${master.schema}".customers c on c.id = i.customer_id order by i.number`,
    );
    // New customers get ids from the master's sequence after the load (no key collision).
    const inserted = await client.query(
      `insert into "${master.schema}".customers (email, name) values ('new@example.com', 'New') returning id`,
    );
    await client.end();
    expect(rows).toEqual([
      { number: 'BIL-7', email: 'bob@example.com', amount: '70.00' },
      { number: 'BIL-8', email: 'cy@example.com', amount: '80.00' },
      { number: 'BIL-9', email: 'bob@example.com', amount: '90.00' },
      { number: 'CRM-1', email: 'ada@example.com', amount: '10.00' },
      { number: 'CRM-2', email: 'bob@example.com', amount: '20.00' },
      { number: 'CRM-3', email: 'ada@example.com', amount: '30.00' },
    ]);
    expect(Number(inserted.rows[0].id)).toBe(4);
  });
});
