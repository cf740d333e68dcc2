import mysql from 'mysql2/promise';
import pg from 'pg';
import { createMysqlDatabase, createPostgresSchema } from '../support/servers.js';

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

/**
 * The use case's two databases on the real servers, each run in its own MariaDB database and
 * PostgreSQL schema: the CRM's `crm_business_information` (phone VARCHAR) and the invoicing tool's
 * `invoice_customers` (phone BIGINT), with plain driver connections to write them as the tools would.
 */
export interface UseCaseDatabases {
  /** The CRM database's URL (a Braid `mysql` source config's `url`). */
  mariadbUrl: string;
  /** The invoicing schema, and the config of a Braid `postgres` source over it. */
  postgresSchema: string;
  postgresConfig: { url: string; schemas: string[] };
  my: mysql.Connection;
  /** With search_path set to the invoicing schema. */
  pg: pg.Client;
  crm(id: number): Promise<Record<string, unknown>>;
  inv(id: number): Promise<Record<string, unknown>>;
  /** Ends the connections and drops the database and the schema. */
  close(): Promise<void>;
}

export async function openUseCaseDatabases(prefix: string): Promise<UseCaseDatabases> {
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
  // The check constraint gives the dead-letter tests a write that can never succeed as it is.
  await client.query(`create table invoice_customers (
    id serial primary key, business_name text, email text check (email is null or email like '%@%'),
    phone bigint, billing_cycle text)`);
  for (const row of INVOICING_ROWS) {
    await client.query(
      'insert into invoice_customers (business_name, email, phone, billing_cycle) values ($1, $2, $3, $4)',
      row,
    );
  }
  return {
    mariadbUrl: mariadb.url,
    postgresSchema: postgres.schema,
    postgresConfig: { url: postgres.url, schemas: [postgres.schema] },
    my,
    pg: client,
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
      await my.end();
      await client.end();
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
export async function leftovers(
  dbs: Pick<UseCaseDatabases, 'my' | 'pg'>,
  fragment: string,
): Promise<string[]> {
  const like = `%${fragment}%`;
  const slots = await dbs.pg.query(
    'select slot_name as n from pg_replication_slots where slot_name like $1',
    [like],
  );
  const pubs = await dbs.pg.query('select pubname as n from pg_publication where pubname like $1', [like]);
  const pgTriggers = await dbs.pg.query(
    'select trigger_name as n from information_schema.triggers where trigger_name like $1',
    [like],
  );
  const [myTriggers] = await dbs.my.query(
    'select trigger_name as n from information_schema.triggers where trigger_name like ?',
    [like],
  );
  const pgTables = await dbs.pg.query(
    'select table_name as n from information_schema.tables where table_name like $1',
    [like],
  );
  const [myTables] = await dbs.my.query(
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
