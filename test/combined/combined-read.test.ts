import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCombinedRow, listCombinedRows } from '../../src/combined/combined-reader.js';
import type { CombinedRow } from '../../src/combined/combined-table.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import { openUseCaseDatabases, type UseCaseDatabases } from '../sync/use-case-databases.js';
import { CombinedFixture } from './combined-fixture.js';
import { phoneColumn, useCaseCombined } from './use-case-combined.js';

const ready = (await postgresAvailable()) && (await mysqlAvailable());

/** The use case's combined customers: CRM on MariaDB, invoicing on PostgreSQL, names matched loosely. */
function customers(join: 'inner' | 'left' | 'full') {
  return useCaseCombined(
    `customers ${join}`,
    [
      { name: 'contact_name', owners: ['crm.contact_name'] },
      phoneColumn({ read: "value.replace(/\\D/g, '')" }, { read: 'String(value)' }),
      { name: 'billing_cycle', owners: ['invoicing.billing_cycle'] },
    ],
    { join },
  );
}

const names = (rows: CombinedRow[]) => rows.map((r) => r._key);

describe.skipIf(!ready)('combined reads over the use case (MariaDB CRM + PostgreSQL invoicing)', () => {
  let dbs: UseCaseDatabases;
  const fx = new CombinedFixture();

  beforeAll(async () => {
    dbs = await openUseCaseDatabases('comb_read');
    fx.add('crm', 'mysql', { url: dbs.mariadbUrl });
    fx.add('invoicing', 'postgres', dbs.postgresConfig);
  });
  afterAll(async () => {
    await fx.close();
    await dbs?.close();
  });

  it('shows every entity once in a full join, marking rows present in one member only', async () => {
    const table = await fx.table(customers('full'));
    const page = await listCombinedRows(table, { sort: [{ field: 'business_name', dir: 'asc' }] });
    expect(names(page.rows)).toEqual([
      'acme tools',
      'blue bakery llc',
      'cedar dental',
      'only in crm',
      'only in invoicing',
    ]);
    const onlyCrm = page.rows.find((r) => r._key === 'only in crm')!;
    expect(onlyCrm._members).toEqual({ crm: { id: 4 }, invoicing: null });
    expect(onlyCrm.billing_cycle).toBeNull();
    const onlyInv = page.rows.find((r) => r._key === 'only in invoicing')!;
    expect(onlyInv._members).toEqual({ crm: null, invoicing: { id: 4 } });
    // The shared column comes from its first owner holding the row: the CRM's spelling, else invoicing's.
    expect(onlyInv.business_name).toBe('Only In Invoicing');
    const acme = page.rows.find((r) => r._key === 'acme tools')!;
    expect(acme).toMatchObject({
      business_name: 'Acme  Tools',
      phone: '5550100002',
      billing_cycle: 'yearly',
    });
  });

  it('hides one-member rows as the join kind says', async () => {
    const inner = await listCombinedRows(await fx.table(customers('inner')), {});
    expect(names(inner.rows).sort()).toEqual(['acme tools', 'blue bakery llc', 'cedar dental']);
    const left = await listCombinedRows(await fx.table(customers('left')), {});
    expect(names(left.rows).sort()).toEqual(['acme tools', 'blue bakery llc', 'cedar dental', 'only in crm']);
  });

  it('filters on a column of either member and on a shared, transformed column', async () => {
    const table = await fx.table(customers('full'));
    const monthly = await listCombinedRows(table, {
      filter: { field: 'billing_cycle', op: 'eq', value: 'monthly' },
    });
    expect(names(monthly.rows).sort()).toEqual(['blue bakery llc', 'cedar dental']);
    const contact = await listCombinedRows(table, {
      filter: { field: 'contact_name', op: 'in', value: ['Bob', 'Dee'] },
    });
    expect(names(contact.rows).sort()).toEqual(['acme tools', 'only in crm']);
    const phone = await listCombinedRows(table, { filter: { field: 'phone', op: 'endsWith', value: '05' } });
    expect(names(phone.rows)).toEqual(['only in invoicing']);
    const missing = await listCombinedRows(table, { filter: { field: 'billing_cycle', op: 'isNull' } });
    expect(names(missing.rows)).toEqual(['only in crm']);
    const both = await listCombinedRows(table, {
      filter: {
        and: [
          { field: 'billing_cycle', op: 'eq', value: 'monthly' },
          { field: 'contact_name', op: 'eq', value: 'Cy' },
        ],
      },
    });
    expect(names(both.rows)).toEqual(['cedar dental']);
  });

  it('sorts on a column of the member that does not drive, with NULLs first ascending and last descending', async () => {
    const table = await fx.table(customers('full'));
    const asc = await listCombinedRows(table, { sort: [{ field: 'billing_cycle', dir: 'asc' }] });
    expect(asc.rows.map((r) => r.billing_cycle)).toEqual([null, 'monthly', 'monthly', 'weekly', 'yearly']);
    const desc = await listCombinedRows(table, { sort: [{ field: 'contact_name', dir: 'desc' }] });
    expect(desc.rows.map((r) => r.contact_name)).toEqual(['Dee', 'Cy', 'Bob', 'Ada', null]);
  });

  it("walks pages of one row to the end with each entity once, on each side's sort", async () => {
    const table = await fx.table(customers('full'));
    for (const sort of [
      [{ field: 'billing_cycle', dir: 'desc' as const }],
      [{ field: 'contact_name', dir: 'asc' as const }],
      [{ field: 'phone', dir: 'asc' as const }],
      [],
    ]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await listCombinedRows(table, { sort, limit: 1, ...(cursor ? { cursor } : {}) });
        seen.push(...names(page.rows));
        cursor = page.next ?? undefined;
      } while (cursor);
      expect(seen.sort()).toEqual([
        'acme tools',
        'blue bakery llc',
        'cedar dental',
        'only in crm',
        'only in invoicing',
      ]);
    }
  });

  it('walks pages to the end with no customer lost or repeated while both tools insert customers', async () => {
    const table = await fx.table(customers('full'));
    const before = ['acme tools', 'blue bakery llc', 'cedar dental', 'only in crm', 'only in invoicing'];
    for (const sort of [
      [{ field: 'business_name', dir: 'asc' as const }],
      [{ field: 'billing_cycle', dir: 'desc' as const }],
      [{ field: 'contact_name', dir: 'asc' as const }],
    ]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      let n = 0;
      do {
        const page = await listCombinedRows(table, { sort, limit: 2, ...(cursor ? { cursor } : {}) });
        seen.push(...names(page.rows));
        cursor = page.next ?? undefined;
        // Each tool adds a customer between pages, sorting before and after the cursor alike.
        n++;
        await dbs.my.query(
          'insert into crm_business_information (business_name, contact_name) values (?, ?)',
          [`${n % 2 ? 'Aaa' : 'Zzz'} New ${sort[0]!.field} ${n}`, n % 2 ? 'Aaron' : 'Zed'],
        );
        await dbs.pg.query('insert into invoice_customers (business_name, billing_cycle) values ($1, $2)', [
          `${n % 2 ? 'Zzz' : 'Aaa'} Inv ${sort[0]!.field} ${n}`,
          n % 2 ? 'annual' : 'zzz',
        ]);
      } while (cursor);
      expect(new Set(seen).size, 'no customer repeated').toBe(seen.length);
      expect(
        before.filter((k) => !seen.includes(k)),
        'no customer lost',
      ).toEqual([]);
      expect(n).toBeGreaterThan(2);
    }
    await dbs.my.query("delete from crm_business_information where business_name like '% New %'");
    await dbs.pg.query("delete from invoice_customers where business_name like '% Inv %'");
  });

  it('counts exactly or labels an estimate', async () => {
    const table = await fx.table(customers('full'));
    const exact = await listCombinedRows(table, { count: true, limit: 2 });
    expect(exact).toMatchObject({ total: 5, totalExact: true });
    expect(exact.rows).toHaveLength(2);
    const estimate = await listCombinedRows(table, { count: 'estimate', limit: 2 });
    expect(estimate.totalExact).toBe(false);
    expect(estimate.total).toBeGreaterThanOrEqual(5);
  });

  it('reads one entity by key with each member row', async () => {
    const table = await fx.table(customers('full'));
    const found = await getCombinedRow(table, 'cedar dental');
    expect(found!.row).toMatchObject({ email: 'cy@cedar.example', billing_cycle: 'monthly' });
    expect(found!.memberRows[0]).toMatchObject({ description: 'teeth' });
    expect(found!.memberRows[1]).toMatchObject({ business_name: ' cedar dental ' });
    expect(await getCombinedRow(table, 'nobody')).toBeNull();
  });

  it('names what is wrong in a definition or a query', async () => {
    await expect(
      fx.table({ ...customers('full'), columns: [{ name: 'x', owners: ['crm.nope'] }] }),
    ).rejects.toMatchObject({ code: 'invalid_combined_table', message: expect.stringContaining('"nope"') });
    const table = await fx.table(customers('full'));
    await expect(
      listCombinedRows(table, { filter: { field: 'nope', op: 'eq', value: 1 } }),
    ).rejects.toMatchObject({
      code: 'unknown_field',
    });
    await expect(listCombinedRows(table, { sort: [{ field: 'nope', dir: 'asc' }] })).rejects.toMatchObject({
      code: 'unknown_field',
    });
    await expect(listCombinedRows(table, { cursor: 'garbage' })).rejects.toMatchObject({
      code: 'invalid_cursor',
    });
  });
});
