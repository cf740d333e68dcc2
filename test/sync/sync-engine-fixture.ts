import mysql from 'mysql2/promise';
import pg from 'pg';
import { createSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { SourcesService } from '../../src/services/sources-service.js';
import { SyncEngine } from '../../src/sync/engine/index.js';
import { parseSyncRule } from '../../src/sync/sync-rule.js';
import { META_ENGINES, type MetaFixture } from '../meta/meta-engines.js';
import { createMysqlDatabase, createPostgresSchema, uniqueName } from '../support/servers.js';

/** The use case's rows: names differ in case and spacing between the tools, phones in format. */
const CRM_ROWS = [
  ['Blue Bakery LLC', 'Ada', 'ada@blue.example', '+1 (555) 010-0001', 'food', 'bread'],
  ['Acme  Tools', 'Bob', 'bob@acme.example', '555-010-0002', 'hardware', 'tools'],
  ['Cedar Dental', 'Cy', 'cy@cedar.example', '(555) 010 0003', 'health', 'teeth'],
  ['Only In CRM', 'Dee', 'dee@crm.example', '555 010 0004', 'misc', null],
];
const INVOICING_ROWS = [
  ['blue bakery llc', 'ada@blue.example', '5550100001', 'monthly'],
  ['ACME TOOLS', 'bob@acme.example', '5550100002', 'yearly'],
  [' cedar dental ', 'cy@cedar.example', '5550100003', 'monthly'],
  ['Only In Invoicing', 'eve@inv.example', '5550100005', 'weekly'],
];

export interface UseCase {
  engine: SyncEngine;
  meta: MetaFixture;
  my: mysql.Connection;
  pg: pg.Client;
  crmSource: string;
  invSource: string;
  /** Creates a sync rule over the two tables and answers its id. */
  createSync(options: {
    capture: string;
    policy?: string;
    inserts?: string;
    deletes?: string;
  }): Promise<string>;
  /** A second engine over the same store, as a restarted process would have. */
  newEngine(): SyncEngine;
  crm(id: number): Promise<Record<string, unknown>>;
  inv(id: number): Promise<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * The use case on the real servers, each run in its own MariaDB database and PostgreSQL schema:
 * the CRM (phone VARCHAR) and invoicing (phone BIGINT), written through plain driver connections
 * as the two tools would, synced by a SyncEngine over a fresh metadata store.
 */
export async function openUseCase(prefix: string): Promise<UseCase> {
  const mariadb = await createMysqlDatabase(prefix);
  const postgres = await createPostgresSchema(prefix);
  const my = await mysql.createConnection({ uri: mariadb.url });
  await my.query(`create table crm_business_information (
    id int auto_increment primary key, business_name varchar(200), contact_name varchar(200),
    email varchar(200), phone varchar(40), category varchar(40), description text)`);
  await my.query(
    'insert into crm_business_information (business_name, contact_name, email, phone, category, description) values ?',
    [CRM_ROWS],
  );
  const client = new pg.Client({ connectionString: postgres.url });
  await client.connect();
  await client.query(`set search_path to "${postgres.schema}"`);
  // The check constraint gives the dead-letter test a write that can never succeed as it is.
  await client.query(`create table invoice_customers (
    id serial primary key, business_name text, email text check (email is null or email like '%@%'),
    phone bigint, billing_cycle text)`);
  for (const row of INVOICING_ROWS) {
    await client.query(
      'insert into invoice_customers (business_name, email, phone, billing_cycle) values ($1, $2, $3, $4)',
      row,
    );
  }
  const meta = await META_ENGINES[0]!.open();
  const crmSource = (
    await meta.store.sources.create({ name: uniqueName('crm'), kind: 'mysql', config: { url: mariadb.url } })
  ).id;
  const invSource = (
    await meta.store.sources.create({
      name: uniqueName('inv'),
      kind: 'postgres',
      config: { url: postgres.url, schemas: [postgres.schema] },
    })
  ).id;
  const sources = new SourcesService(meta.store.sources, meta.dataDir);
  const sandbox: Sandbox = createSandbox();
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const engine = new SyncEngine({
    store: meta.store,
    sources,
    sandbox,
    logger: quiet,
    pollingDir: meta.dataDir,
  });

  return {
    engine,
    meta,
    my,
    pg: client,
    crmSource,
    invSource,
    async createSync({ capture, policy = 'priority', inserts = 'ignore', deletes = 'ignore' }) {
      const match = { column: 'business_name', normalize: ['trim', 'lower', 'collapse_spaces'] };
      const rule = parseSyncRule({
        name: uniqueName('contacts'),
        members: [
          {
            source: crmSource,
            table: 'crm_business_information',
            match,
            fields: {
              email: 'email',
              // Digits without the country code 1, as the invoicing tool stores them.
              phone: {
                column: 'phone',
                read: "value.replace(/\\D/g, '').replace(/^1(?=\\d{10}$)/, '')",
                write: 'value',
              },
            },
          },
          {
            source: invSource,
            table: 'invoice_customers',
            match,
            fields: {
              email: 'email',
              phone: { column: 'phone', read: 'String(value)', write: 'Number(value)' },
            },
          },
        ],
        conflict: policy === 'priority' ? { policy, order: [crmSource, invSource] } : { policy },
        capture,
        inserts,
        deletes,
      });
      return (await meta.store.syncs.create({ name: rule.name, definition: rule, status: 'active' })).id;
    },
    newEngine: () => new SyncEngine({ store: meta.store, sources, sandbox, logger: quiet }),
    async crm(id) {
      const [rows] = await my.query('select * from crm_business_information where id = ?', [id]);
      return (rows as Record<string, unknown>[])[0]!;
    },
    async inv(id) {
      return (await client.query('select * from invoice_customers where id = $1', [id])).rows[0] as Record<
        string,
        unknown
      >;
    },
    async close() {
      await engine.stopAll();
      await sources.closeAll();
      await sandbox.close();
      await my.end();
      await client.end();
      await meta.cleanup();
      await mariadb.drop();
      await postgres.drop();
    },
  };
}

/** Polls `probe` until it answers true, failing after `timeoutMs` with `what`. */
export async function waitFor(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Capture objects left on the servers whose names contain `fragment` (slots, publications, triggers). */
export async function leftovers(uc: UseCase, fragment: string): Promise<string[]> {
  const like = `%${fragment}%`;
  const slots = await uc.pg.query('select slot_name as n from pg_replication_slots where slot_name like $1', [
    like,
  ]);
  const pubs = await uc.pg.query('select pubname as n from pg_publication where pubname like $1', [like]);
  const pgTriggers = await uc.pg.query(
    'select trigger_name as n from information_schema.triggers where trigger_name like $1',
    [like],
  );
  const [myTriggers] = await uc.my.query(
    'select trigger_name as n from information_schema.triggers where trigger_name like ?',
    [like],
  );
  const pgTables = await uc.pg.query(
    'select table_name as n from information_schema.tables where table_name like $1',
    [like],
  );
  const [myTables] = await uc.my.query(
    'select table_name as n from information_schema.tables where table_name like ?',
    [like],
  );
  return [
    ...slots.rows,
    ...pubs.rows,
    ...pgTriggers.rows,
    ...pgTables.rows,
    ...(myTriggers as { n: string }[]),
    ...(myTables as { n: string }[]),
  ].map((r) => String(r.n));
}
