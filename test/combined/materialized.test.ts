import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { captureName } from '../../src/sync/engine/index.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import {
  leftovers,
  openUseCaseDatabases,
  waitFor,
  type UseCaseDatabases,
} from '../sync/use-case-databases.js';
import { startHarness, type Harness } from '../server/harness.js';
import { phoneColumn, useCaseCombined } from './use-case-combined.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const COLUMNS = ['business_name', 'email', 'phone', 'contact_name', 'category', 'billing_cycle'];

/** The use case's customers, phones shown as their last 10 digits (invoicing keeps a number). */
function customers(name: string, edit: (d: any) => void = () => undefined): Record<string, unknown> {
  const definition = useCaseCombined(
    name,
    [
      // Shown as 10 digits from both members: transforms that round-trip (read(write(v)) is v),
      // so the members agree once synced and an edit anywhere is a plain change to carry.
      phoneColumn(
        { read: "value.replace(/\\D/g, '').slice(-10)" },
        { read: 'String(value)', write: 'Number(value)' },
      ),
      { name: 'contact_name', owners: ['crm.contact_name'] },
      { name: 'category', owners: ['crm.category'] },
      { name: 'billing_cycle', owners: ['invoicing.billing_cycle'] },
    ],
    { join: 'full' },
  );
  edit(definition);
  return definition;
}

describe.skipIf(!ready)('materialized combined tables: the use case on MariaDB and PostgreSQL', () => {
  let h: Harness;
  let dbs: UseCaseDatabases;
  let combinedId: string;
  let syncId: string;
  const syncIds: string[] = [];

  const api = (method: 'GET' | 'POST' | 'DELETE', url: string, payload?: unknown) =>
    h.admin({ method, url, ...(payload === undefined ? {} : { payload: payload as object }) });
  const createCombined = async (definition: Record<string, unknown>) => {
    const res = await api('POST', '/api/combined', definition);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id as string;
  };
  const materialized = async (id = combinedId) =>
    (await api('GET', `/api/combined/${id}/materialized`)).json();
  const matRows = async (table = 'customers_mat') =>
    (await dbs.pg.query(`select * from ${table} order by business_name`)).rows as Record<string, unknown>[];
  const matRow = async (businessName: string) =>
    (await dbs.pg.query('select * from customers_mat where business_name = $1', [businessName])).rows[0];
  const pgTableExists = async (table: string) =>
    (
      await dbs.pg.query(
        'select 1 from information_schema.tables where table_schema = $1 and table_name = $2',
        [dbs.postgresSchema, table],
      )
    ).rowCount === 1;

  beforeAll(async () => {
    dbs = await openUseCaseDatabases('comb_mat');
    h = await startHarness({}, { runSyncs: { tickMs: 200 } });
    for (const [name, kind, config] of [
      ['crm', 'mysql', { url: dbs.mariadbUrl }],
      ['invoicing', 'postgres', dbs.postgresConfig],
    ] as const) {
      const res = await api('POST', '/api/sources', { name, kind, config });
      expect(res.statusCode, res.body).toBe(201);
    }
    combinedId = await createCombined(customers('customers'));
  });

  afterAll(async () => {
    try {
      // What a failed test left: a replication slot outlives its schema.
      for (const id of syncIds) if (await h?.app.meta.syncs.get(id)) await h.app.syncs.delete(id);
    } finally {
      await h?.close();
      await dbs?.close();
    }
  });

  it('refuses bad requests, naming what is wrong, and leaves nothing behind', async () => {
    const post = async (body: unknown, id = combinedId) => {
      const res = await api('POST', `/api/combined/${id}/materialize`, body);
      return { status: res.statusCode, error: res.json().error };
    };
    expect(await post({ source: 'ghost', table: 'customers_mat' })).toMatchObject({
      status: 404,
      error: { code: 'unknown_source', message: expect.stringContaining('ghost') },
    });
    expect(await post({ source: 'invoicing', table: 'invoice_customers' })).toMatchObject({
      status: 409,
      error: { code: 'table_exists', message: expect.stringContaining('invoice_customers') },
    });
    expect(await post({ source: 'invoicing' })).toMatchObject({
      status: 400,
      error: { code: 'invalid_body', details: { field: 'table' } },
    });
    expect((await post({ source: 'invoicing', table: 'x' }, 'nope')).status).toBe(404);

    // A key read through a transform cannot match the materialized table to the members.
    const transformedKey = await createCombined(
      customers('transformed key', (d) => {
        d.columns[0].owners[1] = { member: 'invoicing', column: 'business_name', read: 'value.trim()' };
      }),
    );
    const noKey = await post({ source: 'invoicing', table: 'customers_mat' }, transformedKey);
    expect(noKey).toMatchObject({ status: 400, error: { code: 'cannot_materialize' } });
    expect(noKey.error.message).toContain("no exposed column is the members' match key");
    expect(noKey.error.message).toContain('crm.business_name, invoicing.business_name');
    const otherSteps = await createCombined(
      customers('other steps', (d) => {
        d.members[1].match = { column: 'business_name', normalize: ['lower'] };
      }),
    );
    const steps = await post({ source: 'invoicing', table: 'customers_mat' }, otherSteps);
    expect(steps).toMatchObject({ status: 400, error: { code: 'cannot_materialize' } });
    expect(steps.error.message).toContain('different normalize steps');
    const keyExposed = await createCombined(
      customers('key exposed', (d) => d.columns.push({ name: 'id', owners: ['crm.id'] })),
    );
    const key = await post({ source: 'invoicing', table: 'customers_mat' }, keyExposed);
    expect(key.error.details.problems.map((p: { message: string }) => p.message)).toEqual([
      expect.stringContaining("materialized table's own key"),
      expect.stringContaining('primary key'),
    ]);

    expect(await pgTableExists('customers_mat')).toBe(false);
    expect((await api('GET', `/api/combined/${combinedId}/materialized`)).statusCode).toBe(404);
    expect(await h.app.meta.syncs.list()).toEqual([]);
  });

  it('creates the table in PostgreSQL with every entity of the full join, and syncs it', async () => {
    const res = await api('POST', `/api/combined/${combinedId}/materialize`, {
      source: 'invoicing',
      table: 'customers_mat',
    });
    expect(res.statusCode, res.body).toBe(201);
    // Named as people name it in the source: outside the default schema, with its schema.
    const table = `${dbs.postgresSchema}.customers_mat`;
    expect(res.json()).toMatchObject({ combinedId, combinedName: 'customers', table, rows: 5 });
    syncId = res.json().syncId;
    syncIds.push(syncId);
    const again = await api('POST', `/api/combined/${combinedId}/materialize`, {
      source: 'invoicing',
      table: 'other',
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('already_materialized');

    await waitFor(
      'the generated sync to be active with its three members running',
      async () => {
        const s = await materialized();
        return (
          s.state === 'active' && s.sync.members.length === 3 && s.sync.members.every((m: any) => m.running)
        );
      },
      30_000,
    );
    const status = await materialized();
    expect(status.sync.reconcile).toMatchObject({ state: 'done', report: { summary: { matched: 5 } } });
    expect(status.sync.members.map((m: { table: string }) => m.table)).toEqual([
      'crm_business_information',
      `${dbs.postgresSchema}.invoice_customers`,
      table,
    ]);

    const combined = (
      await api('GET', `/api/combined/${combinedId}/rows?limit=100&sort=business_name`)
    ).json();
    const expected = combined.rows.map((r: Record<string, unknown>) =>
      Object.fromEntries(COLUMNS.map((c) => [c, r[c]])),
    );
    expect(expected.map((r: { business_name: string }) => r.business_name)).toEqual([
      'Acme  Tools',
      'Blue Bakery LLC',
      'Cedar Dental',
      'Only In CRM',
      'Only In Invoicing',
    ]);
    const rows = await matRows();
    expect(rows.map((r) => Object.fromEntries(COLUMNS.map((c) => [c, r[c]])))).toEqual(expected);
    expect(rows.find((r) => r.business_name === 'Only In Invoicing')).toMatchObject({
      phone: '5550100005',
      billing_cycle: 'weekly',
      contact_name: null,
    });
  });

  it('carries a phone changed in MariaDB to the materialized row, and shows the lag', async () => {
    await dbs.my.query("update crm_business_information set phone = '(555) 010-7777' where id = 2");
    await waitFor(
      'the phone in the materialized table',
      async () => (await matRow('Acme  Tools'))?.phone === '5550107777',
    );
    // A shared column: the sync keeps the other member equal too, through its write transform.
    await waitFor('the phone in invoicing', async () => String((await dbs.inv(2)).phone) === '5550107777');
    // The lag is measured once the batch is done, a moment after its writes.
    await waitFor(
      'the lag of the CRM member',
      async () => (await materialized()).sync.members[0].lagMs !== null,
    );
    const status = await materialized();
    expect(status.lagMs).toBeGreaterThanOrEqual(status.sync.members[0].lagMs);
  });

  it('carries a plain-SQL update of the materialized row back to both members, through the write transforms', async () => {
    await dbs.pg.query(
      "update customers_mat set phone = '5550108888', email = 'billing@cedar.example' where business_name = 'Cedar Dental'",
    );
    await waitFor('the phone in MariaDB', async () => (await dbs.crm(3)).phone === '5550108888');
    await waitFor('the phone in invoicing', async () => String((await dbs.inv(3)).phone) === '5550108888');
    expect((await dbs.crm(3)).email).toBe('billing@cedar.example');
    expect((await dbs.inv(3)).email).toBe('billing@cedar.example');
  });

  it('creates a row inserted in MariaDB in the materialized table only', async () => {
    await dbs.my.query(
      "insert into crm_business_information (business_name, contact_name, email, phone, category) values ('New Garage', 'Gus', 'gus@garage.example', '555 010 0009', 'auto')",
    );
    await waitFor(
      'the new row in the materialized table',
      async () => (await matRow('New Garage')) !== undefined,
    );
    expect(await matRow('New Garage')).toMatchObject({
      contact_name: 'Gus',
      phone: '5550100009',
      category: 'auto',
      billing_cycle: null,
    });
    // Several supervisor ticks: invoicing would have it by now if the sync created it there.
    await sleep(1_000);
    const inv = await dbs.pg.query("select * from invoice_customers where business_name ilike '%garage%'");
    expect(inv.rows).toEqual([]);
  });

  it('creates a row inserted in the materialized table in the members of the inserts policy', async () => {
    await dbs.pg.query(
      "insert into customers_mat (business_name, email, phone, contact_name, billing_cycle) values ('Fresh Florist', 'flo@florist.example', '5550100010', 'Flo', 'monthly')",
    );
    const crmRow = async () => {
      const [rows] = await dbs.my.query(
        "select * from crm_business_information where business_name = 'Fresh Florist'",
      );
      return (rows as Record<string, unknown>[])[0];
    };
    const invRow = async () =>
      (await dbs.pg.query("select * from invoice_customers where business_name = 'Fresh Florist'")).rows[0];
    await waitFor('the row in MariaDB', async () => (await crmRow()) !== undefined);
    await waitFor('the row in invoicing', async () => (await invRow()) !== undefined);
    expect(await crmRow()).toMatchObject({ contact_name: 'Flo', phone: '5550100010' });
    expect(await invRow()).toMatchObject({ billing_cycle: 'monthly', email: 'flo@florist.example' });
    expect(String((await invRow()).phone)).toBe('5550100010');
  });

  it("deletes the materialized row with the entity's last member row, and clears what a deleted member owned", async () => {
    // Only the CRM holds it: the materialized row goes with it.
    await dbs.my.query("delete from crm_business_information where business_name = 'Only In CRM'");
    await waitFor('the CRM-only row to leave', async () => (await matRow('Only In CRM')) === undefined);
    // Both hold Blue Bakery: the row stays (invoicing still has it) without the CRM-only columns.
    await dbs.my.query('delete from crm_business_information where id = 1');
    await waitFor(
      'the CRM-only columns to clear',
      async () => (await matRow('Blue Bakery LLC'))?.contact_name === null,
    );
    expect(await matRow('Blue Bakery LLC')).toMatchObject({ category: null, billing_cycle: 'monthly' });
    expect((await dbs.inv(1)).business_name).toBe('Blue Bakery LLC');
  });

  it('deletes a row deleted in the materialized table in the members the deletes policy names', async () => {
    await dbs.pg.query("delete from customers_mat where business_name = 'Acme  Tools'");
    await waitFor('the row to leave invoicing', async () => (await dbs.inv(2)) === undefined);
    await waitFor('the row to leave MariaDB', async () => (await dbs.crm(2)) === undefined);
    expect(await matRow('Cedar Dental')).toBeDefined();
  });

  it('resumes a materialization whose process died mid-fill: the half-filled table is made again', async () => {
    const copyId = await createCombined(customers('crash copy'));
    const invoicing = await h.app.sources.resolveId('invoicing');
    // What a process killed during the fill leaves: its job running on an expired lease, the
    // checkpoint saying it created the table, and the table with part of the rows.
    const jobId = `crash-${Date.now()}`;
    await h.app.meta.jobs.insert({
      id: jobId,
      kind: 'combined-materialize',
      title: 'materialize crash copy',
      params: { combinedId: copyId, sourceId: invoicing, table: 'crash_copy', tableName: 'crash_copy' },
      createdBy: null,
      runBy: { owner: 'a-dead-process', leaseMs: 1 },
    });
    expect(await h.app.meta.jobs.saveCheckpoint(jobId, 'a-dead-process', { created: true })).toBe(true);
    await dbs.pg.query('create table crash_copy (id bigserial primary key, business_name text)');
    await dbs.pg.query("insert into crash_copy (business_name) values ('half-filled row')");
    await h.app.sources.refresh(invoicing);

    await sleep(50); // the dead process's lease (1 ms) is over
    await h.app.jobs.resume(jobId, { runHere: true });
    const job = await h.app.jobs.wait(jobId);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    expect(job.attempts).toBe(2);
    const result = job.result as { rows: number; syncId: string };
    syncIds.push(result.syncId);
    const rows = (await dbs.pg.query('select business_name from crash_copy order by business_name')).rows;
    expect(rows.map((r) => r.business_name)).not.toContain('half-filled row');
    expect(rows).toHaveLength(result.rows);
    expect(result.rows).toBeGreaterThan(3);
    const gone = await api('DELETE', `/api/combined/${copyId}/materialized?drop=true`);
    expect(gone.statusCode, gone.body).toBe(204);
    expect(await pgTableExists('crash_copy')).toBe(false);
  });

  it('dematerializes: the sync and its capture objects go, the table stays unless dropped', async () => {
    const fragment = captureName(syncId, 0).slice(0, -3);
    expect((await leftovers(dbs, fragment)).length).toBeGreaterThan(0);
    // The definition stays as the sync and the table were made from until it is dematerialized.
    const refused = await api('DELETE', `/api/combined/${combinedId}`);
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('combined_table_materialized');
    const res = await api('DELETE', `/api/combined/${combinedId}/materialized`);
    expect(res.statusCode, res.body).toBe(204);
    expect((await api('GET', `/api/syncs/${syncId}`)).statusCode).toBe(404);
    expect((await api('GET', `/api/combined/${combinedId}/materialized`)).statusCode).toBe(404);
    expect(await leftovers(dbs, fragment)).toEqual([]);
    expect(await pgTableExists('customers_mat')).toBe(true);
    expect((await api('DELETE', `/api/combined/${combinedId}/materialized`)).statusCode).toBe(404);
  });

  it('materializes into the built-in SQLite source too, and drops the table with drop=true', async () => {
    // Without waiting: the answer is the durable job, which reports the fill's progress in rows.
    const started = await api('POST', `/api/combined/${combinedId}/materialize?wait=false`, {
      source: 'builtin',
      table: 'customers_copy',
    });
    expect(started.statusCode, started.body).toBe(202);
    expect(started.json()).toMatchObject({ kind: 'combined-materialize' });
    const job = await h.app.jobs.wait(started.json().id);
    expect(job.status, JSON.stringify(job.error)).toBe('succeeded');
    const res = { json: () => job.result as Record<string, unknown> & { syncId: string } };
    syncIds.push(res.json().syncId);
    // Seven entities once, less the two deleted above; the progress counted each one.
    expect(res.json().rows).toBe(5);
    expect(job.progress).toMatchObject({ done: 5, unit: 'rows' });
    const builtin = await h.app.sources.connector('builtin');
    const { table } = await h.app.sources.resolveTable('builtin', 'customers_copy');
    const names = (await builtin.select(table, { sort: [{ field: 'business_name', dir: 'asc' }] })).rows.map(
      (r) => r.business_name,
    );
    expect(names).toContain('New Garage');
    expect(names).toContain('Fresh Florist');
    await waitFor('the sync to be active', async () => (await materialized()).state === 'active', 30_000);
    await dbs.my.query("update crm_business_information set category = 'dentist' where id = 3");
    await waitFor('the category in SQLite', async () => {
      const found = await builtin.select(table, {
        filter: { field: 'business_name', op: 'eq', value: 'Cedar Dental' },
      });
      return found.rows[0]?.category === 'dentist';
    });
    const fragment = captureName(res.json().syncId, 0).slice(0, -3);
    const dropped = await api('DELETE', `/api/combined/${combinedId}/materialized?drop=true`);
    expect(dropped.statusCode, dropped.body).toBe(204);
    expect((await h.app.sources.refresh('builtin')).tables.map((t) => t.name)).not.toContain(
      'customers_copy',
    );
    expect(await leftovers(dbs, fragment)).toEqual([]);
  });
});
