import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { useCaseCombined } from '../combined/use-case-combined.js';
import { mysqlAvailable, postgresAvailable } from '../support/servers.js';
import type { UseCaseDatabases } from '../sync/use-case-databases.js';
import { braid } from './run-braid.js';
import { openUseCaseCli, type UseCaseCli } from './use-case-cli.js';

const ready = (await mysqlAvailable()) && (await postgresAvailable());

/** The use case's customers as a person writes them: YAML, sources and members by name. */
const DEFINITION_YAML = stringify(
  useCaseCombined('customers', [
    { name: 'category', owners: ['crm.category'] },
    { name: 'billing_cycle', owners: ['invoicing.billing_cycle'] },
  ]),
);

/** `braid combined ...`: each command its own process on a shared data dir, as a person runs it. */
describe.skipIf(!ready)('braid combined CLI', () => {
  let cli: UseCaseCli;
  let dbs: UseCaseDatabases;
  let dataDir: string;
  let file: string;
  const run = (...args: string[]) => cli.run(...args);
  const json = (...args: string[]) => JSON.parse(run('--json', ...args));

  beforeAll(async () => {
    cli = await openUseCaseCli('cli_combined');
    ({ dbs, dataDir } = cli);
    file = path.join(dataDir, 'customers.yaml');
    await fs.writeFile(file, DEFINITION_YAML);
  });

  afterAll(async () => {
    await cli?.close();
  });

  it('previews, creates, lists and shows a combined table from a YAML file', () => {
    const preview = run('combined', 'preview', file, '--sort', 'business_name', '--limit', '2');
    expect(preview).toMatch(/billing_cycle\s+text\s+invoicing\.billing_cycle/);
    // Tables for people show whitespace collapsed.
    expect(preview).toMatch(/^acme tools\s+Acme Tools\s+bob@acme.example/m);
    expect(preview).toContain('next page: --cursor ');

    const created = json('combined', 'create', file);
    expect(created).toMatchObject({ name: 'customers', definition: { join: 'full' } });
    const again = braid(dataDir, ['combined', 'create', file]);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('combined_table_exists');

    expect(run('combined', 'list')).toMatch(/customers\s+full\s+crm: crm_business_information/);
    expect(json('combined', 'show', 'customers').id).toBe(created.id);
  });

  it('exports a combined table with braid export --combined', () => {
    const csv = run(
      'export',
      '--combined',
      'customers',
      '--sort',
      'business_name',
      '--columns',
      'business_name,category',
    );
    expect(csv.trimEnd().split('\n')).toEqual([
      'business_name,category',
      'Acme  Tools,hardware',
      'Blue Bakery LLC,food',
      'Cedar Dental,health',
      'Only In CRM,misc',
      'Only In Invoicing,',
    ]);
    const both = braid(dataDir, ['export', 'crm', '--combined', 'customers']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('invalid_arguments');
  });

  it('names every problem of a bad file', async () => {
    const bad = path.join(dataDir, 'bad.json');
    await fs.writeFile(
      bad,
      JSON.stringify({ name: 'bad', members: [], columns: [{ name: 'x', owners: ['a.b'] }] }),
    );
    const result = braid(dataDir, ['combined', 'create', bad]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('members: must list at least two member tables');
    expect(result.stderr).toContain('invalid_combined_table');
  });

  it('lists rows with a filter, sort, page and count', () => {
    const filter = JSON.stringify({ field: 'billing_cycle', op: 'eq', value: 'monthly' });
    const page = json(
      'combined',
      'rows',
      'customers',
      '--filter',
      filter,
      '--sort',
      '-business_name',
      '--count',
    );
    expect(page.rows.map((r: { business_name: string }) => r.business_name)).toEqual([
      'Cedar Dental',
      'Blue Bakery LLC',
    ]);
    expect(page.total).toBe(2);
    const text = run('combined', 'rows', 'customers', '--sort', 'business_name', '--limit', '2', '--count');
    expect(text).toContain('5 rows');
    const cursor = /--cursor (\S+)/.exec(text)![1]!;
    const next = json(
      'combined',
      'rows',
      'customers',
      '--sort',
      'business_name',
      '--limit',
      '2',
      '--cursor',
      cursor,
    );
    expect(next.rows.map((r: { business_name: string }) => r.business_name)).toEqual([
      'Cedar Dental',
      'Only In CRM',
    ]);
  });

  it('gets, updates, inserts and deletes rows through the members', async () => {
    const filter = JSON.stringify({ field: 'business_name', op: 'eq', value: 'Acme  Tools' });
    const key = json('combined', 'rows', 'customers', '--filter', filter).rows[0]._key as string;
    const shown = json('combined', 'get-row', 'customers', key);
    expect(shown.memberRows.invoicing).toMatchObject({
      business_name: 'ACME TOOLS',
      billing_cycle: 'yearly',
    });

    const updated = run(
      'combined',
      'update-row',
      'customers',
      key,
      '--set',
      'email=sales@acme.example',
      '--set-json',
      'category=null',
    );
    expect(updated).toMatch(/crm\s+updated/);
    const [crm] = (await dbs.my.query(
      "select email, category from crm_business_information where business_name = 'Acme  Tools'",
    )) as unknown as [Record<string, unknown>[]];
    expect(crm[0]).toEqual({ email: 'sales@acme.example', category: null });
    const inv = await dbs.pg.query("select email from invoice_customers where business_name = 'ACME TOOLS'");
    expect(inv.rows[0].email).toBe('sales@acme.example');

    const inserted = json(
      'combined',
      'insert-row',
      'customers',
      '--set',
      'business_name=Elm Cafe',
      '--set',
      'billing_cycle=weekly',
    );
    expect(inserted.row).toMatchObject({ business_name: 'Elm Cafe', billing_cycle: 'weekly' });
    const pgRow = await dbs.pg.query(
      "select billing_cycle from invoice_customers where business_name = 'Elm Cafe'",
    );
    expect(pgRow.rows).toEqual([{ billing_cycle: 'weekly' }]);

    const deleted = json('combined', 'delete-row', 'customers', inserted.row._key);
    expect(deleted.row).toBeNull();
    const [left] = (await dbs.my.query(
      "select count(*) as n from crm_business_information where business_name = 'Elm Cafe'",
    )) as unknown as [{ n: number }[]];
    expect(Number(left[0]!.n)).toBe(0);
  });

  it('updates and deletes the definition', async () => {
    const inner = path.join(dataDir, 'inner.yaml');
    await fs.writeFile(inner, `${DEFINITION_YAML}join: inner\n`);
    expect(json('combined', 'update', 'customers', inner).definition.join).toBe('inner');
    expect(json('combined', 'rows', 'customers', '--count').total).toBe(3);
    expect(json('combined', 'delete', 'customers')).toMatchObject({ deleted: true });
    expect(json('combined', 'list')).toEqual([]);
    const missing = braid(dataDir, ['combined', 'show', 'customers']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('not_found');
  });
});
