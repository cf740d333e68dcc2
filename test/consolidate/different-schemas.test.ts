import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
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
 * Two tools, two designs: the CRM on MariaDB splits the name and keeps the phone as text; the
 * invoicing tool on PostgreSQL has one name column, the phone as a number and other column names.
 * Merged into a new SQLite master with transforms and a priority policy (CRM first).
 */
describe.skipIf(!available)('merging differently designed tables across engines into SQLite', () => {
  let fx: ConsolidationFixture;
  let crm: { url: string; drop(): Promise<void> };
  let billing: { schema: string; url: string; drop(): Promise<void> };
  let masterFile: string;

  beforeAll(async () => {
    fx = await openConsolidationFixture();
    crm = await createMysqlDatabase('crm');
    await mysqlExec(
      crm.url,
      `create table customers (id int auto_increment primary key, first_name varchar(50), last_name varchar(50),
         phone varchar(30), email varchar(100), credit decimal(10,2));
       insert into customers (first_name, last_name, phone, email, credit) values
         ('Ada', 'Lovelace', '(555) 010-0001', 'ada@example.com', 100.50),
         ('Bob', 'Stone', '555-010-0002', 'bob@stone.example', null),
         ('Zoë', 'Ünal', '+1 555 010 0009', 'zoe@u.example', 7);`,
    );
    billing = await createPostgresSchema('billing');
    await postgresExec(
      billing.schema,
      `create table clients (client_no bigint primary key, full_name text not null, phone bigint, email_address text,
         credit_limit numeric(12,3));
       insert into clients values
         (9001, 'Ada  Lovelace', 5550100001, 'ADA@example.com', 250),
         (9002, 'Carla Diaz', 5550100003, 'carla@diaz.example', 80.125),
         (9003, 'Robert Stone', 5550100002, 'bob@stone.example', 10);`,
    );
    masterFile = path.join(fx.dataDir, 'master.db');
    new Database(masterFile).close();
    await fx.addSource('crm', 'mysql', { url: crm.url });
    await fx.addSource('billing', 'postgres', { url: billing.url, schemas: [billing.schema] });
    await fx.addSource('master', 'sqlite', { file: masterFile });
  });

  afterAll(async () => {
    await fx?.close();
    await crm?.drop();
    await billing?.drop();
  });

  it('maps, transforms and merges both into a new table with a report of narrowing and choices', async () => {
    const job = await fx.consolidate({
      name: 'customers-master',
      target: { source: 'master' },
      table: 'customers',
      create: true,
      key: { column: 'id', generate: 'sequence' },
      inputs: [
        {
          name: 'crm',
          source: 'crm',
          table: 'customers',
          columns: {
            name: { transform: "[row.first_name, row.last_name].filter(Boolean).join(' ')", type: 'string' },
            phone: { from: 'phone', transform: "value.replace(/\\D/g, '').slice(-10)", type: 'string' },
            email: { from: 'email', transform: 'value.toLowerCase()' },
            credit: 'credit',
          },
        },
        {
          name: 'billing',
          source: 'billing',
          table: 'clients',
          columns: {
            name: { from: 'full_name', transform: "value.replace(/\\s+/g, ' ')" },
            phone: { from: 'phone', transform: 'String(value)' },
            email: { from: 'email_address', transform: 'value.toLowerCase()' },
            credit: 'credit_limit',
          },
        },
      ],
      match: { exact: [['email']] },
      resolve: { default: 'priority' },
    });
    expect(job.error).toBeNull();
    const report = job.result!;
    expect(report.verdict).toBe('verified');
    expect(report.accounted).toBe(true);
    const table = report.tables[0]!;
    expect(table.created).toBe(true);
    expect(table.entities).toBe(4);
    expect(table.duplicatesMerged).toBe(2);
    // The created credit column takes the wider of decimal(10,2) and numeric(12,3): nothing narrows.
    expect(table.narrowing).toEqual([]);

    const db = new Database(masterFile, { readonly: true });
    const rows = db.prepare('select id, name, phone, email, credit from customers order by id').all();
    db.close();
    expect(rows).toEqual([
      { id: 1, name: 'Ada Lovelace', phone: '5550100001', email: 'ada@example.com', credit: '100.500' },
      { id: 2, name: 'Bob Stone', phone: '5550100002', email: 'bob@stone.example', credit: '10.000' },
      { id: 3, name: 'Zoë Ünal', phone: '5550100009', email: 'zoe@u.example', credit: '7.000' },
      { id: 4, name: 'Carla Diaz', phone: '5550100003', email: 'carla@diaz.example', credit: '80.125' },
    ]);
  });
});
