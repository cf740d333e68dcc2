import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCaseDatabases, type UseCaseDatabases } from '../sync/use-case-databases.js';
import { phoneColumn, USE_CASE_MATCH, useCaseCombined } from '../combined/use-case-combined.js';
import { seg, startHarness, type Harness } from './harness.js';

const available = (await postgresAvailable()) && (await mysqlAvailable());

/** The use case's customers: the CRM in MariaDB and the invoicing tool in PostgreSQL, as one table. */
function customers(name = 'customers'): Record<string, unknown> {
  return useCaseCombined(
    name,
    [
      phoneColumn('crm.phone', {
        read: 'value === null ? null : String(value)',
        write: "value === null ? null : String(value).replace(/\\D/g, '').slice(-10)",
      }),
      { name: 'category', owners: ['crm.category'] },
      { name: 'billing_cycle', owners: ['invoicing.billing_cycle'] },
    ],
    { join: 'full' },
  );
}

type Problem = { path: string; message: string };

describe.skipIf(!available)('combined tables API', () => {
  let h: Harness;
  let dbs: UseCaseDatabases;
  let crmId: string;
  let invoicingId: string;
  let tableId: string;
  let asViewer: (options: InjectOptions) => ReturnType<Harness['admin']>;

  const rowsOf = async (query: string) => {
    const res = await h.admin({ method: 'GET', url: `/api/combined/${tableId}/rows?${query}` });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as {
      rows: Record<string, unknown>[];
      next: string | null;
      total?: number;
      totalExact?: boolean;
    };
  };
  const keyOf = async (businessName: string) => {
    const filter = JSON.stringify({ field: 'business_name', op: 'eq', value: businessName });
    const page = await rowsOf(`filter=${encodeURIComponent(filter)}`);
    expect(page.rows).toHaveLength(1);
    return page.rows[0]!._key as string;
  };

  beforeAll(async () => {
    h = await startHarness();
    dbs = await openUseCaseDatabases('combined_api');
    const add = async (name: string, kind: string, config: unknown) => {
      const res = await h.admin({ method: 'POST', url: '/api/sources', payload: { name, kind, config } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    crmId = await add('crm', 'mysql', { url: dbs.mariadbUrl });
    invoicingId = await add('invoicing', 'postgres', dbs.postgresConfig);
    const email = 'viewer@example.test';
    await h.app.auth.createUser({ email, password: 'viewer-pass-1', role: 'app_user' });
    const login = await h.server.inject({
      method: 'POST',
      url: '/api/auth/login',
      payload: { email, password: 'viewer-pass-1' },
    });
    const cookie = login.cookies.find((c) => c.name === 'braid_session')!.value;
    asViewer = (options) =>
      h.server.inject({
        ...options,
        headers: { ...(options.headers ?? {}), cookie: `braid_session=${cookie}` },
      });
  });

  afterAll(async () => {
    await h?.close();
    await dbs?.close();
  });

  it('refuses bad bodies, naming every problem with its path', async () => {
    const empty = await h.admin({ method: 'POST', url: '/api/combined', payload: {} });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.code).toBe('invalid_combined_table');
    const paths = (empty.json().error.details.problems as Problem[]).map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['name', 'members', 'columns']));

    const shape = customers();
    (shape.columns as unknown[]).push(
      { name: 'x', owners: ['nobody.x'] },
      { name: '_key', owners: ['crm.id'] },
    );
    const badShape = await h.admin({
      method: 'POST',
      url: '/api/combined',
      payload: { ...shape, join: 'outer' },
    });
    expect(badShape.statusCode).toBe(400);
    const problems = badShape.json().error.details.problems as Problem[];
    expect(problems.map((p) => p.path)).toEqual(
      expect.arrayContaining(['join', 'columns[5].owners[0].member', 'columns[6].name']),
    );

    const live = customers();
    (live.members as Record<string, unknown>[])[1]!.table = 'no_such_table';
    (live.columns as unknown[]).push({ name: 'mood', owners: ['crm.mood'] });
    const badLive = await h.admin({ method: 'POST', url: '/api/combined', payload: live });
    expect(badLive.statusCode).toBe(400);
    const liveProblems = badLive.json().error.details.problems as Problem[];
    expect(liveProblems.find((p) => p.path === 'members[1].table')?.message).toContain('no_such_table');
    expect(liveProblems.some((p) => p.path.startsWith('columns[5]') && p.message.includes('mood'))).toBe(
      true,
    );
    expect((await h.admin({ method: 'GET', url: '/api/combined' })).json().combined).toEqual([]);
  });

  it('creates, lists and gets a combined table (by id or name); a duplicate name is a 409', async () => {
    const res = await h.admin({ method: 'POST', url: '/api/combined', payload: customers() });
    expect(res.statusCode, res.body).toBe(201);
    tableId = res.json().id;
    // Sources were named by name; the stored definition holds their ids.
    expect(res.json().definition.members.map((m: { source: string }) => m.source)).toEqual([
      crmId,
      invoicingId,
    ]);
    expect(res.json().definition).toMatchObject({ name: 'customers', join: 'full', deletes: 'all' });

    const again = await h.admin({ method: 'POST', url: '/api/combined', payload: customers() });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('combined_table_exists');

    const list = await h.admin({ method: 'GET', url: '/api/combined' });
    expect(list.json().combined.map((c: { id: string }) => c.id)).toEqual([tableId]);
    const byName = await h.admin({ method: 'GET', url: '/api/combined/customers' });
    expect(byName.json().id).toBe(tableId);
    expect((await h.admin({ method: 'GET', url: '/api/combined/nope' })).statusCode).toBe(404);
  });

  it('previews a definition without storing it', async () => {
    const res = await h.admin({
      method: 'POST',
      url: '/api/combined/preview?limit=2&sort=business_name',
      payload: customers('draft'),
    });
    expect(res.statusCode, res.body).toBe(200);
    const preview = res.json();
    expect(preview.columns.find((c: { name: string }) => c.name === 'phone')).toEqual({
      name: 'phone',
      type: 'string',
      owners: [
        { member: 'crm', column: 'phone' },
        { member: 'invoicing', column: 'phone' },
      ],
    });
    expect(preview.page.rows).toHaveLength(2);
    expect(preview.page.next).toEqual(expect.any(String));
    expect((await h.admin({ method: 'GET', url: '/api/combined/draft' })).statusCode).toBe(404);
  });

  it('lists rows with filter, sort, fields, cursor and offset pages and counts', async () => {
    const all = await rowsOf('sort=business_name&count=true');
    expect(all.total).toBe(5);
    expect(all.totalExact).toBe(true);
    expect(all.rows.map((r) => r.business_name)).toEqual([
      'Acme  Tools',
      'Blue Bakery LLC',
      'Cedar Dental',
      'Only In CRM',
      'Only In Invoicing',
    ]);
    const blue = all.rows[1]!;
    expect(blue).toMatchObject({ email: 'ada@blue.example', category: 'food', billing_cycle: 'monthly' });
    expect(Object.keys(blue._members as object).sort()).toEqual(['crm', 'invoicing']);
    expect(all.rows[4]!._members).toMatchObject({ crm: null });

    const monthly = await rowsOf(
      `filter=${encodeURIComponent(JSON.stringify({ field: 'billing_cycle', op: 'eq', value: 'monthly' }))}&sort=-business_name&fields=business_name`,
    );
    expect(monthly.rows.map((r) => r.business_name)).toEqual(['Cedar Dental', 'Blue Bakery LLC']);
    expect(monthly.rows[0]).not.toHaveProperty('email');

    const seen: unknown[] = [];
    let cursor: string | null = null;
    do {
      const page = await rowsOf(
        `sort=business_name&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      seen.push(...page.rows.map((r) => r.business_name));
      cursor = page.next;
    } while (cursor);
    expect(seen).toEqual(all.rows.map((r) => r.business_name));
    expect((await rowsOf('sort=business_name&offset=3&limit=1')).rows[0]!.business_name).toBe('Only In CRM');

    const estimate = await rowsOf('count=estimate&limit=1');
    expect(estimate.totalExact).toBe(false);
    expect(estimate.total).toBeGreaterThanOrEqual(5);

    const bad = await h.admin({ method: 'GET', url: `/api/combined/${tableId}/rows?sort=mood` });
    expect(bad.statusCode).toBe(400);
    const badFilter = await h.admin({ method: 'GET', url: `/api/combined/${tableId}/rows?filter=%7Bnope` });
    expect(badFilter.json().error.code).toBe('invalid_filter');
  });

  it('exports a combined table as CSV and JSON lines through the exports API', async () => {
    const csv = await h.admin({
      method: 'GET',
      url: `/api/exports?combined=customers&sort=-billing_cycle&columns=business_name,billing_cycle,_key`,
    });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.headers['content-disposition']).toContain('customers.csv');
    expect(csv.body.trimEnd().split('\n')).toEqual([
      'business_name,billing_cycle,_key',
      'Acme  Tools,yearly,acme tools',
      'Only In Invoicing,weekly,only in invoicing',
      'Blue Bakery LLC,monthly,blue bakery llc',
      'Cedar Dental,monthly,cedar dental',
      'Only In CRM,,only in crm',
    ]);
    const jsonl = await h.admin({
      method: 'POST',
      url: '/api/exports',
      payload: { combined: tableId, format: 'jsonl', filter: { field: 'category', op: 'notNull' } },
    });
    expect(jsonl.statusCode, jsonl.body).toBe(200);
    const rows = jsonl.body
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toHaveLength(4);
    expect(Object.keys(rows[0]!)).toEqual([
      'business_name',
      'email',
      'phone',
      'category',
      'billing_cycle',
      '_key',
    ]);
    const bad = await h.admin({ method: 'GET', url: '/api/exports?combined=customers&columns=nope' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('unknown_field');
    expect((await h.admin({ method: 'GET', url: '/api/exports?format=csv' })).json().error.code).toBe(
      'invalid_export',
    );
  });

  it('resolves a table once for many page requests, and again after a source changes', async () => {
    await rowsOf('limit=1');
    const resolve = vi.spyOn(h.app.sources, 'resolveTable');
    try {
      await rowsOf('limit=1');
      await rowsOf('limit=2&sort=-email');
      expect(resolve).not.toHaveBeenCalled();
      // A changed source closes its connector: the cached table must not keep using it.
      const patch = await h.admin({
        method: 'PATCH',
        url: `/api/sources/${invoicingId}`,
        payload: { name: 'invoicing' },
      });
      expect(patch.statusCode, patch.body).toBe(200);
      expect((await rowsOf('limit=5')).rows).toHaveLength(5);
      expect(resolve).toHaveBeenCalled();
    } finally {
      resolve.mockRestore();
    }
  });

  it('gets one row with each member row', async () => {
    const key = await keyOf('Blue Bakery LLC');
    const res = await h.admin({ method: 'GET', url: `/api/combined/${tableId}/rows/${seg(key)}` });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().row).toMatchObject({
      _key: key,
      business_name: 'Blue Bakery LLC',
      phone: '+1 (555) 010-0001',
    });
    expect(res.json().memberRows.crm).toMatchObject({ contact_name: 'Ada', description: 'bread' });
    expect(res.json().memberRows.invoicing).toMatchObject({ business_name: 'blue bakery llc' });
    const missing = await h.admin({ method: 'GET', url: `/api/combined/${tableId}/rows/nobody` });
    expect(missing.statusCode).toBe(404);
  });

  it('writes a PATCH to every member owning the columns', async () => {
    const key = await keyOf('Blue Bakery LLC');
    const res = await h.admin({
      method: 'PATCH',
      url: `/api/combined/${tableId}/rows/${seg(key)}`,
      payload: { email: 'orders@blue.example', phone: '+1 (555) 010-0099', category: 'bakery' },
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().row).toMatchObject({ email: 'orders@blue.example', category: 'bakery' });
    expect(
      res
        .json()
        .members.map((m: { member: string }) => m.member)
        .sort(),
    ).toEqual(['crm', 'invoicing']);
    const [crm] = (await dbs.my.query(
      "select email, phone, category from crm_business_information where business_name = 'Blue Bakery LLC'",
    )) as unknown as [Record<string, unknown>[]];
    expect(crm[0]).toEqual({ email: 'orders@blue.example', phone: '+1 (555) 010-0099', category: 'bakery' });
    const inv = await dbs.pg.query(
      "select email, phone::text as phone from invoice_customers where business_name = 'blue bakery llc'",
    );
    expect(inv.rows[0]).toEqual({ email: 'orders@blue.example', phone: '5550100099' });

    const unknown = await h.admin({
      method: 'PATCH',
      url: `/api/combined/${tableId}/rows/${seg(key)}`,
      payload: { mood: 'happy' },
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.body).toContain('mood');
  });

  it('puts members back when another member refuses a write, and says what happened', async () => {
    const key = await keyOf('Cedar Dental');
    const res = await h.admin({
      method: 'PATCH',
      url: `/api/combined/${tableId}/rows/${seg(key)}`,
      // invoice_customers.email has a check constraint (it must hold an @).
      payload: { email: 'not-an-email' },
    });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().error.code).toBe('combined_write_failed');
    expect(JSON.stringify(res.json().error.details)).toContain('invoicing');
    expect((await dbs.crm(3)).email).toBe('cy@cedar.example');
    expect((await dbs.inv(3)).email).toBe('cy@cedar.example');
  });

  it('inserts an entity into the members and deletes it from all of them', async () => {
    const res = await h.admin({
      method: 'POST',
      url: `/api/combined/${tableId}/rows`,
      payload: {
        business_name: 'Dune / Books & Co',
        email: 'hi@dune.example',
        category: 'books',
        billing_cycle: 'yearly',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const key = res.json().row._key as string;
    expect(res.json().row).toMatchObject({
      business_name: 'Dune / Books & Co',
      category: 'books',
      billing_cycle: 'yearly',
    });
    const [crm] = (await dbs.my.query(
      "select email, category from crm_business_information where business_name = 'Dune / Books & Co'",
    )) as unknown as [Record<string, unknown>[]];
    expect(crm).toEqual([{ email: 'hi@dune.example', category: 'books' }]);
    const inv = await dbs.pg.query(
      "select billing_cycle from invoice_customers where business_name = 'Dune / Books & Co'",
    );
    expect(inv.rows).toEqual([{ billing_cycle: 'yearly' }]);
    // A key with a slash and an ampersand still names the row once URL-encoded.
    expect(key).toBe('dune / books & co');
    const got = await h.admin({ method: 'GET', url: `/api/combined/${tableId}/rows/${seg(key)}` });
    expect(got.statusCode, got.body).toBe(200);

    const del = await h.admin({ method: 'DELETE', url: `/api/combined/${tableId}/rows/${seg(key)}` });
    expect(del.statusCode, del.body).toBe(200);
    expect(del.json().row).toBeNull();
    const [gone] = (await dbs.my.query(
      "select count(*) as n from crm_business_information where business_name = 'Dune / Books & Co'",
    )) as unknown as [{ n: number }[]];
    expect(Number(gone[0]!.n)).toBe(0);
    const invGone = await dbs.pg.query(
      "select count(*)::int as n from invoice_customers where business_name = 'Dune / Books & Co'",
    );
    expect(invGone.rows[0].n).toBe(0);
  });

  it("matches rows by a sync rule's entity links, named by the sync's name", async () => {
    const { meta } = h.app;
    const member = (source: string, table: string) => ({ source, table, match: USE_CASE_MATCH, fields: {} });
    // A stored rule nothing runs (the harness runs no syncs): only its members and links matter here.
    const sync = await meta.syncs.create({
      name: 'contacts',
      definition: {
        name: 'contacts',
        members: [member(crmId, 'crm_business_information'), member(invoicingId, 'invoice_customers')],
      },
      status: 'paused',
    });
    // Blue Bakery is linked to another invoicing row than its name matches: links win over names.
    for (const [crm, inv] of [
      [1, 4],
      [2, 2],
    ] as const) {
      const entityId = await meta.entityLinks.link({
        syncId: sync.id,
        member: 0,
        key: { id: crm },
        matchKey: null,
      });
      await meta.entityLinks.link({ syncId: sync.id, entityId, member: 1, key: { id: inv }, matchKey: null });
    }
    const definition = customers('linked');
    definition.join = 'inner';
    definition.links = { sync: 'contacts' };
    for (const m of definition.members as Record<string, unknown>[]) delete m.match;
    const res = await h.admin({ method: 'POST', url: '/api/combined', payload: definition });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().definition.links).toEqual({ sync: sync.id });
    const rows = await h.admin({ method: 'GET', url: '/api/combined/linked/rows?sort=business_name' });
    expect(rows.statusCode, rows.body).toBe(200);
    expect(rows.json().rows.map((r: Record<string, unknown>) => [r.business_name, r.billing_cycle])).toEqual([
      ['Acme  Tools', 'yearly'],
      ['Blue Bakery LLC', 'weekly'],
    ]);

    const noSync = await h.admin({
      method: 'POST',
      url: '/api/combined',
      payload: { ...definition, name: 'unlinked', links: { sync: 'nope' } },
    });
    expect(noSync.statusCode).toBe(400);
    expect(noSync.json().error.details.problems).toContainEqual({
      path: 'links.sync',
      message: expect.any(String),
    });
    expect((await h.admin({ method: 'DELETE', url: '/api/combined/linked' })).statusCode).toBe(204);
    await meta.syncs.delete(sync.id);
  });

  it('lets app users neither define nor read combined tables; builders do both', async () => {
    const create = await asViewer({ method: 'POST', url: '/api/combined', payload: customers('viewer') });
    expect(create.statusCode).toBe(403);
    expect((await asViewer({ method: 'GET', url: '/api/combined' })).statusCode).toBe(403);
    expect((await asViewer({ method: 'GET', url: `/api/combined/${tableId}/rows` })).statusCode).toBe(403);
  });

  it('documents the routes in the OpenAPI document', async () => {
    const doc = (await h.admin({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/combined', '/api/combined/preview', '/api/combined/{id}/rows/{key}']),
    );
    const count = doc.paths['/api/combined/{id}/rows'].get.parameters.find(
      (p: { name: string }) => p.name === 'count',
    );
    expect(count.schema.enum).toEqual(['true', 'false', 'estimate']);
  });

  it('refuses to delete a source a combined table uses', async () => {
    const res = await h.admin({ method: 'DELETE', url: `/api/sources/${crmId}` });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.code).toBe('source_in_use');
    expect(res.json().error.message).toContain('combined table "customers"');
  });

  it('replaces a definition (rows follow at once) and deletes it', async () => {
    const changed = customers('customer_directory');
    changed.join = 'inner';
    const put = await h.admin({ method: 'PUT', url: `/api/combined/${tableId}`, payload: changed });
    expect(put.statusCode, put.body).toBe(200);
    expect(put.json()).toMatchObject({ id: tableId, name: 'customer_directory' });
    expect((await rowsOf('count=true')).total).toBe(3);

    const bad = await h.admin({ method: 'PUT', url: `/api/combined/${tableId}`, payload: { name: 'x' } });
    expect(bad.statusCode).toBe(400);

    const del = await h.admin({ method: 'DELETE', url: '/api/combined/customer_directory' });
    expect(del.statusCode).toBe(204);
    expect((await h.admin({ method: 'GET', url: `/api/combined/${tableId}` })).statusCode).toBe(404);
    expect((await h.admin({ method: 'GET', url: `/api/combined/${tableId}/rows` })).statusCode).toBe(404);
    // Nothing uses the source any more.
    expect((await h.admin({ method: 'DELETE', url: `/api/sources/${crmId}` })).statusCode).toBe(204);
  });
});
