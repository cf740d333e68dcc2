import mysql from 'mysql2/promise';
import pg from 'pg';
import { MYSQL_URL, POSTGRES_URL, log, registerCleanup, uniqueName } from '../support.js';

/**
 * The use case's two tables on the real servers, in a PostgreSQL schema and a MariaDB database of
 * their own: `crm_business_information` (MariaDB, phone VARCHAR) and `invoice_customers`
 * (PostgreSQL, phone BIGINT), with `rows` customers each under the same business names (different
 * case and spacing, as the two tools would type them).
 *
 * Both tables get an AFTER UPDATE trigger that records every row update (id, phone, server clock in
 * epoch ms) into `bench_seen`: on the target side that is the arrival of a change, on the source
 * side it counts every write, so Braid writing back into the source (an echo) shows up as extra rows.
 */

/** Phones the load writes: 555 followed by the update's sequence number, 7 digits. */
export const PHONE_BASE = 5_550_000_000;
/** Initial phones: 444 followed by the row id, so they never collide with a load value. */
const INITIAL_BASE = 4_440_000_000;

export interface UseCaseDatabases {
  schema: string;
  database: string;
  /** Source configs as Braid stores them. */
  postgresConfig: { url: string; schemas: string[] };
  mysqlConfig: { url: string };
  pgClient(): Promise<pg.Client>;
  myConnection(): Promise<mysql.Connection>;
  drop(): Promise<void>;
}

export async function createUseCaseDatabases(rows: number): Promise<UseCaseDatabases> {
  const schema = uniqueName('braid_bench_sync');
  const database = uniqueName('braid_bench_sync');
  const myUrl = new URL(MYSQL_URL);
  myUrl.pathname = `/${database}`;
  const pgClient = async (): Promise<pg.Client> => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query(`set search_path to ${pg.escapeIdentifier(schema)}`);
    return client;
  };
  const myConnection = (): Promise<mysql.Connection> =>
    mysql.createConnection({ uri: myUrl.toString(), multipleStatements: true });
  const drop = registerCleanup(`schema ${schema} and database ${database}`, async () => {
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    try {
      await client.query(`drop schema if exists ${pg.escapeIdentifier(schema)} cascade`);
    } finally {
      await client.end();
    }
    const conn = await mysql.createConnection({ uri: MYSQL_URL });
    try {
      await conn.query(`drop database if exists \`${database}\``);
    } finally {
      await conn.end();
    }
  });
  try {
    const started = Date.now();
    await createPostgres(schema, rows);
    await createMysql(database, rows);
    log(
      `loaded ${rows.toLocaleString('en-US')} customers on each side in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
  } catch (err) {
    await drop();
    throw err;
  }
  return {
    schema,
    database,
    postgresConfig: { url: POSTGRES_URL, schemas: [schema] },
    mysqlConfig: { url: myUrl.toString() },
    pgClient,
    myConnection,
    drop,
  };
}

async function createPostgres(schema: string, rows: number): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const s = pg.escapeIdentifier(schema);
    await client.query(`create schema ${s}`);
    await client.query(`set search_path to ${s}`);
    await client.query(`create table invoice_customers (id serial primary key, business_name text,
      email text, phone bigint, billing_cycle text)`);
    // One statement: the fastest way in, and ids 1..rows in the same order as on MariaDB.
    await client.query(
      `insert into invoice_customers (business_name, email, phone, billing_cycle)
       select 'business  ' || lpad(i::text, 6, '0') || ' llc ', 'contact' || i || '@example.com',
              $1::bigint + i, (array['monthly','yearly','weekly'])[1 + i % 3]
       from generate_series(1, $2::int) as i`,
      [INITIAL_BASE, rows],
    );
    await client.query('analyze invoice_customers');
    await client.query(`create table bench_seen (id int, phone text, at_ms double precision)`);
    // clock_timestamp(): the time the row is written, not the transaction's start (now()). The
    // table is schema-qualified: Braid's connections do not have this schema in their search_path.
    await client.query(`create function bench_seen_fn() returns trigger language plpgsql as $$
      begin
        insert into ${s}.bench_seen values (new.id, new.phone::text, extract(epoch from clock_timestamp()) * 1000);
        return null;
      end $$`);
    await client.query(`create trigger bench_seen_upd after update on invoice_customers
      for each row execute function bench_seen_fn()`);
    await client.query('create table bench_floor (id int primary key, v bigint)');
    await client.query('insert into bench_floor values (1, 0)');
  } finally {
    await client.end();
  }
}

async function createMysql(database: string, rows: number): Promise<void> {
  const conn = await mysql.createConnection({ uri: MYSQL_URL, multipleStatements: true });
  try {
    await conn.query(`create database \`${database}\` character set utf8mb4 collate utf8mb4_general_ci`);
    await conn.query(`use \`${database}\``);
    await conn.query(`create table crm_business_information (
      id int auto_increment primary key, business_name varchar(200), contact_name varchar(200),
      email varchar(200), phone varchar(40), category varchar(40), description text)`);
    // MariaDB's sequence engine (seq_1_to_N) fills the table in one statement, like generate_series.
    await conn.query(
      `insert into crm_business_information (business_name, contact_name, email, phone, category, description)
       select concat('Business ', lpad(seq, 6, '0'), ' LLC'), concat('Contact ', seq),
              concat('contact', seq, '@example.com'), concat('444-', lpad(seq, 7, '0')),
              elt(1 + seq % 3, 'food', 'hardware', 'health'), 'a customer of the benchmark'
       from seq_1_to_${Math.trunc(rows)}`,
    );
    await conn.query('analyze table crm_business_information');
    await conn.query('create table bench_seen (id int, phone varchar(40), at_ms double)');
    // SYSDATE(6) is the time the statement runs; NOW(6) would be the statement's start.
    await conn.query(`create trigger bench_seen_upd after update on crm_business_information
      for each row insert into bench_seen values (new.id, new.phone, unix_timestamp(sysdate(6)) * 1000)`);
    await conn.query('create table bench_floor (id int primary key, v bigint)');
    await conn.query('insert into bench_floor values (1, 0)');
  } finally {
    await conn.end();
  }
}

/** One recorded row update: the row, the sequence number its phone encodes (0 if none), when. */
export interface SeenUpdate {
  id: number;
  seq: number;
  atMs: number;
}

function seqOf(phone: string | null): number {
  const digits = (phone ?? '').replace(/\D/g, '');
  const value = Number(digits);
  return digits.length === 10 && value > PHONE_BASE && value < PHONE_BASE + 10_000_000
    ? value - PHONE_BASE
    : 0;
}

/** Every update recorded on one side (see the triggers above). */
export async function readSeen(dbs: UseCaseDatabases, side: 'postgres' | 'mysql'): Promise<SeenUpdate[]> {
  let raw: { id: number; phone: string | null; at_ms: number }[];
  if (side === 'postgres') {
    const client = await dbs.pgClient();
    try {
      raw = (await client.query('select id, phone, at_ms from bench_seen')).rows;
    } finally {
      await client.end();
    }
  } else {
    const conn = await dbs.myConnection();
    try {
      raw = (await conn.query('select id, phone, at_ms from bench_seen'))[0] as typeof raw;
    } finally {
      await conn.end();
    }
  }
  return raw.map((r) => ({ id: Number(r.id), seq: seqOf(r.phone), atMs: Number(r.at_ms) }));
}

/** How many updates one side recorded (cheap, for the drain loop). */
export async function countSeen(client: pg.Client | mysql.Connection): Promise<number> {
  if (client instanceof pg.Client) {
    return Number((await client.query('select count(*) as n from bench_seen')).rows[0].n);
  }
  const [rows] = await client.query('select count(*) as n from bench_seen');
  return Number((rows as { n: number }[])[0]!.n);
}

/**
 * Rows whose email or phone differ between the two tables, matched by normalized business name
 * (phones compared as digits). Answers the number of mismatches and a few examples.
 */
export async function compareTables(
  dbs: UseCaseDatabases,
): Promise<{ mismatched: number; examples: string[]; crmIds: number[] }> {
  const normalize = (name: string | null): string => (name ?? '').trim().toLowerCase().replace(/\s+/g, ' ');
  const client = await dbs.pgClient();
  const conn = await dbs.myConnection();
  try {
    const inv = (
      await client.query('select business_name, email, phone::text as phone from invoice_customers')
    ).rows as { business_name: string; email: string | null; phone: string | null }[];
    const [crm] = await conn.query('select id, business_name, email, phone from crm_business_information');
    const byName = new Map(inv.map((r) => [normalize(r.business_name), r]));
    let mismatched = 0;
    const examples: string[] = [];
    const crmIds: number[] = [];
    for (const row of crm as {
      id: number;
      business_name: string;
      email: string | null;
      phone: string | null;
    }[]) {
      const other = byName.get(normalize(row.business_name));
      const crmPhone = (row.phone ?? '').replace(/\D/g, '');
      if (!other || other.email !== row.email || (other.phone ?? '') !== crmPhone) {
        mismatched++;
        crmIds.push(row.id);
        if (examples.length < 3)
          examples.push(
            `${row.business_name}: crm ${row.email}/${row.phone}, invoicing ${other?.email}/${other?.phone}`,
          );
      }
    }
    return { mismatched: mismatched + Math.max(0, inv.length - (crm as unknown[]).length), examples, crmIds };
  } finally {
    await client.end();
    await conn.end();
  }
}

/** Each row's phone now, as the sequence number it encodes (0: a phone no load update wrote). */
export async function readPhoneSeqs(
  dbs: UseCaseDatabases,
  side: 'postgres' | 'mysql',
): Promise<Map<number, number>> {
  let rows: { id: number; phone: string | null }[];
  if (side === 'postgres') {
    const client = await dbs.pgClient();
    try {
      rows = (await client.query('select id, phone::text as phone from invoice_customers')).rows;
    } finally {
      await client.end();
    }
  } else {
    const conn = await dbs.myConnection();
    try {
      rows = (await conn.query('select id, phone from crm_business_information'))[0] as typeof rows;
    } finally {
      await conn.end();
    }
  }
  return new Map(rows.map((r) => [Number(r.id), seqOf(r.phone)]));
}
