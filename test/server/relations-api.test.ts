import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  createMysqlDatabase,
  createPostgresSchema,
  mysqlAvailable,
  mysqlExec,
  postgresAvailable,
  postgresExec,
} from '../support/servers.js';
import { startHarness, type Harness } from './harness.js';

const available = (await postgresAvailable()) && (await mysqlAvailable());

/**
 * Invoices in PostgreSQL pointing at customers in MariaDB: once the relation exists, a page of
 * either table can come with its related rows, fetched with one query per relation per page.
 */
describe.skipIf(!available)('relationships across sources', () => {
  let h: Harness;
  let crm: { url: string; drop(): Promise<void> };
  let billing: { schema: string; url: string; drop(): Promise<void> };
  let crmId: string;
  let billingId: string;
  let relationId: string;

  beforeAll(async () => {
    h = await startHarness();
    crm = await createMysqlDatabase('rel_crm');
    await mysqlExec(
      crm.url,
      `create table customers (id int primary key, name varchar(50), code varchar(10));
       insert into customers values (1, 'Ada', 'A'), (2, 'Bob', 'B'), (3, 'Cy', 'C');`,
    );
    billing = await createPostgresSchema('rel_billing');
    await postgresExec(
      billing.schema,
      `create table invoices (id int primary key, customer_id bigint, total numeric(10,2));
       insert into invoices select i, case when i = 7 then null else 1 + i % 2 end, i * 10 from generate_series(1, 8) i;`,
    );
    const add = async (name: string, kind: string, config: unknown) => {
      const res = await h.admin({ method: 'POST', url: '/api/sources', payload: { name, kind, config } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    crmId = await add('crm', 'mysql', { url: crm.url });
    billingId = await add('billing', 'postgres', { url: billing.url, schemas: [billing.schema] });
  });

  afterAll(async () => {
    await h?.close();
    await crm?.drop();
    await billing?.drop();
  });

  it('links invoices.customer_id to customers (their key by default)', async () => {
    const res = await h.admin({
      method: 'POST',
      url: '/api/relations',
      payload: {
        name: 'customer',
        from: { source: 'billing', table: 'invoices', column: 'customer_id' },
        to: { source: 'crm', table: 'customers' },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    relationId = res.json().id;
    expect(res.json()).toMatchObject({
      name: 'customer',
      reverseName: 'invoices',
      from: { source: billingId, table: `${billing.schema}.invoices`, column: 'customer_id' },
      to: { source: crmId, table: 'customers', column: 'id' },
    });
    const again = await h.admin({
      method: 'POST',
      url: '/api/relations',
      payload: {
        name: 'customer',
        from: { source: 'billing', table: 'invoices', column: 'total' },
        to: { source: 'crm', table: 'customers' },
      },
    });
    expect(again.statusCode).toBe(409);
    const mismatch = await h.admin({
      method: 'POST',
      url: '/api/relations',
      payload: {
        name: 'by_code',
        from: { source: 'billing', table: 'invoices', column: 'customer_id' },
        to: { source: 'crm', table: 'customers', column: 'code' },
      },
    });
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().error.code).toBe('incompatible_columns');
  });

  it('a page of invoices includes its customers with one query to MariaDB', async () => {
    const connector = await h.app.sources.connector(crmId);
    const select = vi.spyOn(connector, 'select');
    const res = await h.admin({
      url: `/api/sources/${billingId}/tables/invoices/rows?sort=id&include=customer`,
    });
    expect(res.statusCode, res.body).toBe(200);
    const page = res.json();
    expect(page.rows).toHaveLength(8);
    expect(select).toHaveBeenCalledTimes(1);
    select.mockRestore();
    expect(page.included.customer).toMatchObject({
      kind: 'one',
      table: 'customers',
      on: { column: 'customer_id', relatedColumn: 'id' },
      truncated: false,
    });
    // The page names customers 1 and 2 (and one invoice none); customer 3 is not fetched.
    expect(page.included.customer.rows.map((r: { name: string }) => r.name).sort()).toEqual(['Ada', 'Bob']);
  });

  it('a page of customers includes the invoices pointing at them, capped by includeLimit', async () => {
    const res = await h.admin({
      url: `/api/sources/${crmId}/tables/customers/rows?sort=id&include=invoices`,
    });
    const related = res.json().included.invoices;
    expect(related).toMatchObject({
      kind: 'many',
      on: { column: 'id', relatedColumn: 'customer_id' },
      truncated: false,
    });
    expect(related.rows.map((r: { id: number }) => r.id).sort((a: number, b: number) => a - b)).toEqual([
      1, 2, 3, 4, 5, 6, 8,
    ]);
    const capped = (
      await h.admin({ url: `/api/sources/${crmId}/tables/customers/rows?include=invoices&includeLimit=3` })
    ).json();
    expect(capped.included.invoices.rows).toHaveLength(3);
    expect(capped.included.invoices.truncated).toBe(true);
  });

  it('an unknown relation names the ones the table has; a source in use cannot be deleted', async () => {
    const res = await h.admin({ url: `/api/sources/${billingId}/tables/invoices/rows?include=vendor` });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({
      code: 'unknown_relation',
      details: { relations: ['customer'] },
    });
    const del = await h.admin({ method: 'DELETE', url: `/api/sources/${crmId}` });
    expect(del.statusCode).toBe(409);
    expect(del.json().error.code).toBe('source_in_use');
    expect((await h.admin({ method: 'DELETE', url: `/api/relations/${relationId}` })).statusCode).toBe(204);
    expect((await h.admin({ url: '/api/relations' })).json().relations).toEqual([]);
  });
});
